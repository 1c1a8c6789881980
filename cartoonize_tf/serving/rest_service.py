"""TF Serving's REST API: model status, metadata, and predict in row and columnar form."""

import asyncio
import base64
import json
import logging
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf
from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from google.protobuf import json_format

from cartoonize_tf.serving.allocator import give_back_free_memory
from cartoonize_tf.serving.errors import ServingError
from cartoonize_tf.serving.limits import check_claimed_shape
from cartoonize_tf.serving.memory_budget import JSON_BYTES_PER_BODY_BYTE, Reservation, busy
from cartoonize_tf.serving.prediction import MEMORY_WAIT_SECONDS
from cartoonize_tf.serving.request_origin import check_request_origin
from cartoonize_tf.serving.web_page import is_page_path, page_response

logger = logging.getLogger(__name__)

HTTP_STATUS = {"INVALID_ARGUMENT": 400, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
               "RESOURCE_EXHAUSTED": 429,
               "DEADLINE_EXCEEDED": 504, "INTERNAL": 500, "UNAVAILABLE": 503,
               "CANCELLED": 499}
# Versions are int64 in TF Serving's API.
MAX_VERSION = 2 ** 63 - 1
MAX_VERSION_DIGITS = len(str(MAX_VERSION))
# Deeper JSON than any image tensor needs is refused before it reaches a recursive walk.
MAX_NESTING = 16
# Seconds a client may take to send its body (one shorter than its Content-Length waits).
BODY_TIMEOUT = 30
# And the pace it must keep meanwhile: n bytes within BODY_GRACE_SECONDS + n / MIN_BODY_RATE,
# so a connection trickling a byte every few seconds loses its body-reading slot in seconds.
BODY_GRACE_SECONDS = 2.0
MIN_BODY_RATE = 64 << 10  # bytes per second
# An over-cap body up to this many times the cap is read and thrown away after the answer (so
# the client reads the answer rather than a reset); a longer one closes the connection at once.
SKIP_FACTOR = 4
# Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
# Seconds a connection may take to send a complete request head, counted from its opening or
# from the end of its last answer (so also the keep-alive idle timeout).
HEAD_TIMEOUT = 15.0
# Open REST connections at most by default, and file descriptors always left free below the
# process's limit (for gRPC connections, model files and health checks).
MAX_CONNECTIONS = 512
RESERVED_DESCRIPTORS = 128
# Bodies being read at once; the memory budget bounds their bytes as well.
MAX_BODIES_READING = 64
# After a request that reserved this much, the allocator's free memory goes back to the system.
TRIM_AFTER_BYTES = 64 << 20
# An accept error (such as too many open files) is logged at most once per this many seconds.
ACCEPT_ERROR_LOG_SECONDS = 10.0
# A connection over the cap gets this answer and is closed REFUSED_LINGER_SECONDS later.
REFUSED_LINGER_SECONDS = 1.0
OVERLOADED_BODY = b'{"error": "too many connections; try again in a moment"}\n'
OVERLOADED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
              % (len(OVERLOADED_BODY), OVERLOADED_BODY))
ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[0-9]+))?"
                   r"(?:(?P<metadata>/metadata)|:(?P<verb>predict))?$")


def parse_version(digits):
    """A version number from the URL (ASCII digits); NOT_FOUND past int64, as no version
    folder can be named so (and Python refuses to parse over 4,300 digits)."""
    if len(digits) > MAX_VERSION_DIGITS or int(digits) > MAX_VERSION:
        raise ServingError("NOT_FOUND", f"no version {digits[:30]}"
                                        f"{'...' if len(digits) > 30 else ''} (versions are "
                                        f"at most {MAX_VERSION})")
    return int(digits)


def decode_value(value, name, depth=0):
    """A JSON value to what numpy takes: `{"b64": ...}` to bytes, lists recursively."""
    if depth > MAX_NESTING:
        raise ServingError("INVALID_ARGUMENT", f"input {name} is nested deeper than "
                                               f"{MAX_NESTING} levels")
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise ServingError("INVALID_ARGUMENT", f"input {name}: objects must be {{\"b64\": ...}}")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise ServingError("INVALID_ARGUMENT", f"input {name}: invalid base64") from None
    if isinstance(value, list):
        return [decode_value(item, name, depth + 1) for item in value]
    return value


def claimed_shape(data):
    """The shape nested lists claim along their first elements (checked before numpy builds it)."""
    shape = []
    while isinstance(data, list):
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return shape


def to_array(value, name, signature_def, max_pixels=None, max_elements=None):
    """JSON data for one input to an array of the signature's dtype, or INVALID_ARGUMENT.

    With `max_pixels` and `max_elements`, the shape the lists claim is checked
    before the array is built.
    """
    if name not in signature_def.inputs:
        raise ServingError("INVALID_ARGUMENT", f"unknown input {name}; expected "
                                               f"{sorted(signature_def.inputs)}")
    dtype = tf.dtypes.as_dtype(signature_def.inputs[name].dtype)
    data = decode_value(value, name)
    if dtype == tf.string:
        try:
            array = np.asarray(data, dtype=object)
        except ValueError:
            raise ServingError("INVALID_ARGUMENT",
                               f"input {name} is not a rectangular array") from None
        if not all(isinstance(item, (bytes, str)) for item in array.reshape(-1)):
            raise ServingError("INVALID_ARGUMENT", f"input {name} must hold strings or "
                                                   "{\"b64\": ...} objects")
        return array
    if max_pixels is not None:
        check_claimed_shape(name, claimed_shape(data), True, max_pixels, max_elements)
    try:
        array = np.asarray(data)
    except ValueError:
        raise ServingError("INVALID_ARGUMENT", f"input {name} is not a rectangular array") from None
    if array.dtype.kind not in "iuf" or (dtype.is_integer and array.dtype.kind == "f"):
        raise ServingError("INVALID_ARGUMENT", f"input {name} must hold {dtype.name} numbers")
    if dtype.is_integer and array.size and (array.min() < dtype.min or array.max() > dtype.max):
        raise ServingError("INVALID_ARGUMENT", f"input {name}: values outside {dtype.name}")
    return array.astype(dtype.as_numpy_dtype)


def request_inputs(body, signature_def, max_pixels=None, max_elements=None):
    """The inputs of a row (`instances`) or columnar (`inputs`) predict request."""
    limits = (max_pixels, max_elements)
    if ("instances" in body) == ("inputs" in body):
        raise ServingError("INVALID_ARGUMENT", "the request needs exactly one of 'instances' "
                                               "(row format) or 'inputs' (columnar format)")
    names = list(signature_def.inputs)
    if "inputs" in body:
        columns = body["inputs"]
        if not isinstance(columns, dict):
            columns = {names[0]: columns} if len(names) == 1 else None
        if columns is None:
            raise ServingError("INVALID_ARGUMENT", "'inputs' must name each input")
        return {k: to_array(v, k, signature_def, *limits) for k, v in columns.items()}, False
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        raise ServingError("INVALID_ARGUMENT", "'instances' must be a non-empty list")
    if all(isinstance(i, dict) and set(i) != {"b64"} for i in instances):
        return {k: to_array([i.get(k) for i in instances], k, signature_def, *limits)
                for k in instances[0]}, True
    if len(names) != 1:
        raise ServingError("INVALID_ARGUMENT", "instances must be objects naming each input")
    return {names[0]: to_array(instances, names[0], signature_def, *limits)}, True


def encode_value(array, name):
    """An output array as JSON data; `_bytes` outputs as `{"b64": ...}`."""
    if array.dtype.kind in ("S", "O"):
        encode = (lambda b: {"b64": base64.b64encode(b).decode()}) if name.endswith("_bytes") \
            else (lambda b: b.decode("utf-8", "replace"))
        return np.vectorize(encode, otypes=[object])(array).tolist() if array.ndim else encode(array.item())
    return array.tolist()


def response_body(outputs, row_format):
    encoded = {name: encode_value(value, name) for name, value in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(encoded.values())) if len(encoded) == 1 else encoded}
    if len(encoded) == 1:
        return {"predictions": next(iter(encoded.values()))}
    count = len(next(iter(encoded.values())))
    return {"predictions": [{k: v[i] for k, v in encoded.items()} for i in range(count)]}


class Activity:
    """In-flight REST requests, so a stopping server can wait for them (`drain`)."""

    def __init__(self):
        self.condition = threading.Condition()
        self.active = 0
        self.stopping = False

    def __enter__(self):
        with self.condition:
            self.active += 1

    def __exit__(self, *exc):
        with self.condition:
            self.active -= 1
            self.condition.notify_all()

    def drain(self, timeout):
        """Refuses new requests and waits up to `timeout` s for the running ones; True if none left."""
        deadline = time.monotonic() + timeout
        with self.condition:
            self.stopping = True
            while self.active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.condition.wait(left)
        return True


class BodyTooLarge(ServingError):
    """RESOURCE_EXHAUSTED (HTTP 429, as TF Serving maps it): a body over the cap."""

    def __init__(self, length, max_body_bytes):
        size = f"request of {length} bytes" if length is not None else "request body"
        super().__init__("RESOURCE_EXHAUSTED", f"{size} exceeds {max_body_bytes} bytes; send a "
                                               "smaller one or raise --max-message-mb")
        # Up to SKIP_FACTOR times the cap, aiohttp reads the rest and throws it away after
        # answering (so the client reads the answer, not a reset); past it, or when the length
        # is unknown (chunked), the connection is closed.
        self.close = length is None or length > SKIP_FACTOR * max_body_bytes


def broken_body(message):
    """INVALID_ARGUMENT for a body that cannot be read to its end: answered, then hung up."""
    error = ServingError("INVALID_ARGUMENT", message)
    error.close = True
    return error


def json_response(status, body, close=False):
    response = web.Response(status=status, body=json.dumps(body).encode(),
                            content_type="application/json")
    if close:
        response.force_close()
    return response


def error_response(error, close=False):
    """TF Serving's error answer: the HTTP status of the gRPC code and `{"error": message}`."""
    return json_response(HTTP_STATUS.get(error.code, 500), {"error": error.message}, close)


def connection_cap(requested=MAX_CONNECTIONS):
    """`requested`, lowered so RESERVED_DESCRIPTORS stay free under the open-file limit (whose
    soft value is first raised to the hard one)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, soft - RESERVED_DESCRIPTORS))


class RateLimitedLoopErrors:
    """The event loop's exception handler: an accept error is logged once per
    ACCEPT_ERROR_LOG_SECONDS with the count of those not shown; anything else as asyncio would."""

    def __init__(self):
        self.last_logged = -ACCEPT_ERROR_LOG_SECONDS
        self.suppressed = 0

    def __call__(self, loop, context):
        if not context.get("message", "").startswith("socket.accept()"):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last_logged < ACCEPT_ERROR_LOG_SECONDS:
            self.suppressed += 1
            return
        extra = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
        logger.error("REST cannot accept connections: %s%s", context.get("exception"), extra)
        self.last_logged, self.suppressed = now, 0


class JsonErrorProtocol(RequestHandler):
    """aiohttp's connection handler; a request it cannot parse is answered in TF Serving's JSON.

    aiohttp answers an unparsable request line or header (a negative or
    non-numeric Content-Length, a bad chunk size, an over-long header) itself,
    in plain text; here the same status comes with `{"error": "..."}`. A client
    that half-closes its side before its body is complete is answered 400 too
    (aiohttp would drop the connection unanswered).
    """

    # The request whose body is being read, if any (set by RestServer.read_body); whether the
    # client has closed its sending side, and whether that cut a body short.
    body_request = None
    client_closed = False
    body_truncated = False
    opened_at = 0.0

    refused = False

    def connection_made(self, transport):
        server = self._manager
        self.opened_at = time.monotonic()
        if len(server.connections) >= server.max_connections:
            waiting = [c for c in server.connections if not c.requests_pending()]
            if waiting:
                # At the cap, the oldest connection still without a complete request head (a
                # slow-header flood's, or an idle keep-alive) makes room: a client that sends
                # its request at once wins over one trickling its head.
                min(waiting, key=lambda c: c.opened_at).force_close()
                super().connection_made(transport)
                return
            # Answered at once and closed a moment later (closing with the client's request
            # unread would reset the connection before it reads the answer); nothing is parsed.
            self.refused = True
            self._manager = None  # so connection_lost has nothing to undo
            transport.write(OVERLOADED)
            transport.write_eof()
            self._loop.call_later(REFUSED_LINGER_SECONDS, transport.close)
            return
        super().connection_made(transport)

    def data_received(self, data):
        if not self.refused:
            super().data_received(data)

    def eof_received(self):
        if self.refused:
            return False
        self.client_closed = True
        request = self.body_request
        if request is not None and not request.content.is_eof():
            self.body_truncated = True
            request.content.feed_eof()
        if not self.requests_pending():
            self.force_close()  # idle between requests: nothing to answer, hang up
            return None
        return True  # keeps the sending side open; the last answer closes it (RestServer.handle)

    def handle_error(self, request, status=500, exc=None, message=None):
        if request.writer.output_size > 0:
            raise ConnectionError("the response has begun; the error cannot be sent")
        if status >= 500:
            self.log_exception("REST request failed", exc_info=exc)
            text = "internal error"
        else:
            logger.debug("malformed REST request: %s", message or exc)
            text = " ".join(str(message or exc or "malformed request").split())[:300]
        return json_response(status, {"error": f"malformed HTTP request: {text}"}, close=True)

    def requests_pending(self):
        """Whether a request is being answered or waits its turn (aiohttp's `start` loop waits
        on `_waiter` only when it has neither)."""
        return getattr(self, "_waiter", None) is None or self.queued()

    def queued(self):
        """Whether parsed requests wait behind the current one (pipelining)."""
        return bool(getattr(self, "_messages", ()))


class JsonErrorServer(web.Server):
    """aiohttp's low-level server with JsonErrorProtocol connections, at most
    `max_connections` of them open (more are answered 503 and closed)."""

    def __init__(self, handler, max_connections, **kwargs):
        super().__init__(handler, **kwargs)
        self.max_connections = max_connections

    def __call__(self):
        return JsonErrorProtocol(self, loop=self._loop, **self._kwargs)


def listening_socket(host, port, backlog=LISTEN_BACKLOG):
    """A bound, listening TCP socket; OSError when the port is in use (no port sharing)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise OSError(f"cannot listen for REST on {host}:{port}: {error}") from None
    try:
        # SO_REUSEADDR lets a restarted server bind past TIME_WAIT; unlike SO_REUSEPORT it
        # never lets two servers listen on one port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen for REST on {host}:{port} ({error.strerror or error}); "
                      "choose another --rest-port") from None
    return sock


class RestServer:
    """TF Serving's REST API on aiohttp, run by its own event loop in a background thread.

    aiohttp handles the connections (listen backlog, HTTP/1.1 keep-alive,
    Content-Length and chunked bodies, capped at `max_body_bytes`); parsing a
    body and running the model happen on a thread pool so the loop never blocks.
    At most `max_connections` are open (fewer if the open-file limit needs it),
    a request head must arrive within HEAD_TIMEOUT, and a body reserves its
    parsing memory in the predictor's budget before its first byte is read.
    Call `start()`, then `stop(grace)`.
    """

    def __init__(self, predictor, port, host="127.0.0.1", max_body_bytes=64 << 20, threads=8,
                 max_connections=MAX_CONNECTIONS, local_only=False):
        self.predictor = predictor
        self.local_only = local_only
        self.max_body_bytes = max_body_bytes
        self.max_connections = connection_cap(max_connections)
        self.bodies_reading = 0
        self.activity = Activity()
        self.sock = listening_socket(host, port)
        self.port = self.sock.getsockname()[1]
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rest")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="rest")
        self.runner = self.site = None
        self.stopped = False

    # Life cycle (called from other threads).

    def start(self):
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        except BaseException:
            self._close_loop()
            raise
        return self

    async def _start(self):
        self.loop.set_exception_handler(RateLimitedLoopErrors())
        server = JsonErrorServer(self.handle, self.max_connections,
                                 request_factory=self.make_request, access_log=None,
                                 lingering_time=10.0, keepalive_timeout=HEAD_TIMEOUT)
        self.runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await self.runner.setup()
        self.site = web.SockSite(self.runner, self.sock, backlog=LISTEN_BACKLOG)
        await self.site.start()

    def make_request(self, message, payload, protocol, writer, task):
        return web.BaseRequest(message, payload, protocol, writer, task, self.loop,
                               client_max_size=self.max_body_bytes)

    def stop(self, grace=1.0):
        """Stops listening, lets in-flight requests finish for up to `grace` s, then closes.

        Requests arriving on open keep-alive connections meanwhile are answered
        503 UNAVAILABLE. Returns True when every in-flight request finished.
        """
        if self.stopped:
            return True
        self.stopped = True
        self.activity.stopping = True
        if self.thread.is_alive():
            self._call(self._stop_listening(), 10)
        drained = self.activity.drain(grace)
        self._close_loop()
        return drained

    async def _stop_listening(self):
        if self.site is not None:
            await self.site.stop()

    def _call(self, coroutine, timeout):
        try:
            asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)
        except Exception:  # noqa: BLE001 - closing goes on whatever a step did
            logger.warning("REST shutdown step failed", exc_info=True)

    def _close_loop(self):
        if self.thread.is_alive():
            if self.runner is not None:
                self._call(self.runner.cleanup(), 10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()
        self.sock.close()
        self.pool.shutdown(wait=False, cancel_futures=True)

    # Requests (on the event loop).

    async def handle(self, request):
        """Answers one request; every failure becomes a JSON error, never a dropped socket."""
        with self.activity:
            if self.activity.stopping:
                return error_response(ServingError("UNAVAILABLE", "the server is shutting down"),
                                      close=True)
            try:
                response = await self.route(request)
            except ServingError as error:
                response = error_response(error, close=getattr(error, "close", False))
            except Exception:  # noqa: BLE001 - a bad request must not kill the connection
                logger.exception("REST request %s %s failed", request.method, request.path)
                response = error_response(ServingError("INTERNAL", "internal error"), close=True)
            protocol = request.protocol
            if self.activity.stopping or (protocol.client_closed and not protocol.queued()):
                response.force_close()  # the client sends no more: close after this answer
            return response

    async def route(self, request):
        check_request_origin(request.method, request.headers, self.port, self.local_only)
        reading = request.method in ("GET", "HEAD")  # HEAD: the same answer without its body
        if reading and is_page_path(request.path):
            registry = self.predictor.registry
            return page_response(request.path, registry.name,
                                 self.predictor.pixel_limit(registry.get(registry.name)),
                                 self.max_body_bytes)
        match = ROUTE.match(request.path)
        if not match:
            raise ServingError("NOT_FOUND", f"no such endpoint: {request.path[:200]}")
        version = parse_version(match["version"]) if match["version"] else None
        if reading:
            if match["verb"]:
                raise ServingError("INVALID_ARGUMENT", "predict needs POST")
            return json_response(200, self.status_or_metadata(match, version))
        if request.method != "POST":
            return json_response(405, {"error": f"method {request.method[:20]} is not allowed; "
                                                "use GET, HEAD or POST"})
        if match["verb"] != "predict":
            raise ServingError("NOT_FOUND", f"no such endpoint: POST {request.path[:200]}")
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise BodyTooLarge(length, self.max_body_bytes)
        # The body counts against the memory budget from its first byte; parsing it as JSON
        # (about JSON_BYTES_PER_BODY_BYTE times its size) once it is complete.
        reservation = Reservation(self.predictor.budget, 0)
        try:
            data = await self.read_body(request, reservation)
            await self.grow(reservation, (JSON_BYTES_PER_BODY_BYTE - 1) * len(data))
            cancelled = threading.Event()
            try:
                body = await self.loop.run_in_executor(self.pool, self.predict, match["name"],
                                                       version, data, cancelled, reservation)
            except asyncio.CancelledError:
                cancelled.set()  # the client went away: stop before the next image
                raise
        finally:
            large = reservation.size >= TRIM_AFTER_BYTES
            reservation.release()
            if large:  # a large body's memory back to the system, not kept by the allocator
                give_back_free_memory()
        return web.Response(status=200, body=body, content_type="application/json")

    async def grow(self, reservation, size):
        """Adds `size` bytes to `reservation`, waiting up to MEMORY_WAIT_SECONDS for room."""
        budget = self.predictor.budget
        deadline = time.monotonic() + MEMORY_WAIT_SECONDS
        while not budget.try_grow(reservation, size, "this request's body"):
            if time.monotonic() >= deadline:
                raise busy("this request's body", reservation.size + size, budget)
            await asyncio.sleep(0.05)

    async def read_body(self, request, reservation):
        """The whole body (Content-Length or chunked), within the cap and BODY_TIMEOUT; each
        chunk joins `reservation` as it arrives."""
        if self.bodies_reading >= MAX_BODIES_READING:
            raise ServingError("RESOURCE_EXHAUSTED", f"{MAX_BODIES_READING} request bodies are "
                                                     "being received already; try again shortly")
        self.bodies_reading += 1
        try:
            return await asyncio.wait_for(self.read_chunks(request, reservation), BODY_TIMEOUT)
        except asyncio.TimeoutError:
            raise broken_body(f"the body did not arrive within {BODY_TIMEOUT} s") from None
        finally:
            self.bodies_reading -= 1

    async def read_chunks(self, request, reservation):
        length = request.content_length
        protocol = request.protocol
        if protocol.client_closed and not request.content.is_eof():
            protocol.body_truncated = True
            request.content.feed_eof()
        protocol.body_request = request
        # One growing buffer, not a list of chunks: a large buffer is its own memory mapping,
        # given back to the system when freed, where thousands of small chunks would leave
        # the heap fragmented (measured: 5 GB resident after 130 held bodies were closed).
        data = bytearray()
        start = time.monotonic()
        try:
            while chunk := await self.next_chunk(request, start, len(data)):
                if len(data) + len(chunk) > self.max_body_bytes:
                    raise BodyTooLarge(None, self.max_body_bytes)
                await self.grow(reservation, len(chunk))
                data += chunk
        finally:
            protocol.body_request = None
        if protocol.body_truncated:
            raise broken_body(f"the connection was closed after {len(data)} bytes of the body"
                              + (f" (of {length} announced)" if length is not None else ""))
        return data

    async def next_chunk(self, request, start, received):
        """The body's next bytes (empty at its end), within the pace MIN_BODY_RATE sets."""
        allowed = start + BODY_GRACE_SECONDS + received / MIN_BODY_RATE - time.monotonic()
        try:
            return await asyncio.wait_for(request.content.readany(), max(allowed, 0.01))
        except asyncio.TimeoutError:
            raise broken_body(f"the body came slower than {MIN_BODY_RATE >> 10} KiB/s "
                              f"({received} bytes in {time.monotonic() - start:.1f} s)") from None

    def status_or_metadata(self, match, version):
        loaded = self.predictor.registry.get(match["name"], version)
        if match["metadata"]:
            return {"model_spec": {"name": match["name"], "signature_name": "",
                                   "version": str(loaded.version)},
                    "metadata": {"signature_def": json_format.MessageToDict(
                        loaded.signature_def_map(), preserving_proto_field_name=True)}}
        return {"model_version_status": [{
            "version": str(loaded.version), "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""}}]}

    def predict(self, name, version, data, cancelled=None, reservation=None):
        """A predict request's JSON body to the JSON answer's bytes (on the thread pool).

        Once the body is parsed into arrays, `reservation` (the body's share of the memory
        budget, JSON parsing included) shrinks to what is still held: a request never waits
        for its run's memory while holding its parse share (hold-and-wait).
        """
        try:
            body = json.loads(data or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ServingError("INVALID_ARGUMENT", "the body is not valid JSON (or is "
                                                   "nested too deeply)") from None
        if not isinstance(body, dict):
            raise ServingError("INVALID_ARGUMENT", "the body must be a JSON object")
        signature_name = body.get("signature_name")
        if signature_name is not None and not isinstance(signature_name, str):
            raise ServingError("INVALID_ARGUMENT", "signature_name must be a string")
        loaded = self.predictor.registry.get(name, version)
        _, _, signature_def = loaded.signature(signature_name)
        inputs, row_format = request_inputs(body, signature_def, self.predictor.pixel_limit(loaded),
                                            self.predictor.max_elements)
        del body  # the parsed JSON: only the body's bytes and the arrays remain
        if reservation is not None:
            reservation.shrink_to(2 * len(data) + sum(value.nbytes for value in inputs.values()))
        _, _, outputs = self.predictor.predict(loaded, signature_name, inputs, cancelled=cancelled)
        return json.dumps(response_body(outputs, row_format)).encode()


def rest_server(predictor, port, host="127.0.0.1", max_body_bytes=64 << 20, threads=8,
                max_connections=MAX_CONNECTIONS, local_only=False):
    """A REST server bound to `host:port` (not yet serving: call `start()`); returns (server, port).

    `local_only` answers only requests for the loopback address (`request_origin`). A
    port in use raises OSError.
    """
    server = RestServer(predictor, port, host, max_body_bytes, threads, max_connections,
                        local_only)
    return server, server.port
