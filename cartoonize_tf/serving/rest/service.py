"""TF Serving's REST API: model status, metadata, and predict in row and columnar form.

The routes, bodies and the memory budget live here; the JSON codec in `json_codec`, the
connections (cap, slow heads, malformed requests) in `connections`.
"""

import asyncio
import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from google.protobuf import json_format

from cartoonize_tf.serving.core.defaults import MAX_CONNECTIONS
from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.front_end import Activity, LoopThread
from cartoonize_tf.serving.core.memory_budget import (
    JSON_BYTES_PER_BODY_BYTE,
    Reservation,
    release_giving_back,
    run_holding,
)
from cartoonize_tf.serving.core.prediction import MEMORY_WAIT_SECONDS
from cartoonize_tf.serving.rest.connections import (
    HEAD_TIMEOUT,
    LISTEN_BACKLOG,
    MIN_BODY_RATE,
    BodyGaveWay,
    BodyProgress,
    JsonErrorServer,
    RateLimitedLoopErrors,
    connection_cap,
    error_response,
    json_response,
    listening_socket,
)
from cartoonize_tf.serving.rest.json_codec import parse_version, request_inputs, response_body
from cartoonize_tf.serving.rest.request_origin import check_request_origin
from cartoonize_tf.serving.rest.web_page import is_page_path, page_response

logger = logging.getLogger(__name__)

# An over-cap body up to this many times the cap is read and thrown away after the answer (so
# the client reads the answer rather than a reset); a longer one closes the connection at once.
SKIP_FACTOR = 4
# Bodies being read at once (past it, the one furthest behind its pace gives way to the newest);
# the memory budget bounds their bytes as well.
MAX_BODIES_READING = 64
# After an answer, what is left of a body the handler did not read is read and thrown away for
# this long (so the client reads the answer, not a reset), then the connection is closed.
LINGERING_SECONDS = 1.0
ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[0-9]+))?"
                   r"(?:(?P<metadata>/metadata)|:(?P<verb>predict))?$")


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


def broken_body(message, code="INVALID_ARGUMENT"):
    """The error of a body that is not read to its end: answered, then hung up."""
    error = ServingError(code, message)
    error.close = True
    return error


class RestServer:
    """TF Serving's REST API on aiohttp, run by its own event loop in a background thread.

    aiohttp handles the connections (listen backlog, HTTP/1.1 keep-alive,
    Content-Length and chunked bodies, capped at `max_body_bytes`); parsing a
    body and running the model happen on a thread pool so the loop never blocks.
    At most `max_connections` are open (fewer if the open-file limit needs it;
    at the cap the least progressed connection gives way), a request head must
    arrive within HEAD_TIMEOUT, a body must keep its pace (`connections`)
    and reserves its memory in the predictor's budget as it arrives, and an
    answer left unread is dropped after WRITE_TIMEOUT.
    A front end (`core.front_end`): binds its port when made, `start()`, `stop(grace)`.
    """

    def __init__(self, predictor, port, host="127.0.0.1", max_body_bytes=64 << 20, threads=8,
                 max_connections=MAX_CONNECTIONS, local_only=False):
        self.predictor = predictor
        self.local_only = local_only
        self.host = host
        self.max_body_bytes = max_body_bytes
        self.max_connections = connection_cap(max_connections)
        self.bodies = set()  # the BodyProgress of each body being read
        self.activity = Activity()
        self.sock = listening_socket(host, port)
        self.port = self.sock.getsockname()[1]
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rest")
        self.loop_thread = LoopThread("rest")
        self.loop = self.loop_thread.loop
        self.runner = self.site = None
        self.stopped = False

    # Life cycle (called from other threads).

    def start(self):
        self.loop_thread.run(self._start(), 30)

    async def _start(self):
        self.loop.set_exception_handler(RateLimitedLoopErrors())
        server = JsonErrorServer(self.handle, self.max_connections,
                                 request_factory=self.make_request, access_log=None,
                                 lingering_time=LINGERING_SECONDS, keepalive_timeout=HEAD_TIMEOUT)
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
        self.loop_thread.run_logged(self._stop_listening(), 10, "REST: to stop listening")
        drained = self.activity.drain(grace)
        self._close()
        return drained

    async def _stop_listening(self):
        if self.site is not None:
            await self.site.stop()

    def _close(self):
        if self.runner is not None:
            self.loop_thread.run_logged(self.runner.cleanup(), 10, "REST: closing connections")
        self.loop_thread.close()
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
            except Exception:  # a bad request must not kill the connection
                logger.exception("REST request %s %s failed", request.method, request.path)
                response = error_response(ServingError("INTERNAL", "internal error"), close=True)
            protocol = request.protocol
            if self.activity.stopping or (protocol.client_closed and not protocol.queued()):
                response.force_close()  # the client sends no more: close after this answer
            return response

    async def route(self, request):
        check_request_origin(request.method, request.headers, self.port, self.local_only,
                             self.host)
        reading = request.method in ("GET", "HEAD")  # HEAD: the same answer without its body
        if reading and is_page_path(request.path):
            registry = self.predictor.registry
            loaded = registry.get(registry.name)
            return page_response(request.path, registry.name, self.predictor.pixel_limit(loaded),
                                 self.max_body_bytes, loaded.signature_defs)
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
        except BaseException:
            release_giving_back(reservation)
            raise
        cancelled = threading.Event()
        try:
            body = await run_holding(self.pool, reservation, self.predict, match["name"],
                                     version, data, cancelled, reservation)
        except asyncio.CancelledError:
            cancelled.set()  # the client went away: stop before the next image
            raise
        return web.Response(status=200, body=body, content_type="application/json")

    async def grow(self, reservation, size):
        """Adds `size` bytes to `reservation`, waiting up to MEMORY_WAIT_SECONDS for room."""
        await self.predictor.budget.grow_waiting(reservation, size, "this request's body",
                                                 MEMORY_WAIT_SECONDS)

    async def read_body(self, request, reservation):
        """The whole body (Content-Length or chunked), within the cap and at its pace; each
        chunk joins `reservation` as it arrives. With MAX_BODIES_READING bodies arriving
        already, the one furthest behind its pace gives way to this one."""
        if len(self.bodies) >= MAX_BODIES_READING:
            slowest = min(self.bodies, key=BodyProgress.seconds_ahead)
            self.bodies.discard(slowest)  # chosen once, even by a burst of newcomers
            slowest.give_way(f"{MAX_BODIES_READING} request bodies were arriving at once and "
                             "this one came slowest; send it again")
        body = BodyProgress(request)
        self.bodies.add(body)
        try:
            return await self.read_chunks(body, reservation)
        except BodyGaveWay as error:
            raise broken_body(str(error), "RESOURCE_EXHAUSTED") from None
        finally:
            self.bodies.discard(body)

    async def read_chunks(self, body, reservation):
        request = body.request
        protocol = request.protocol
        if protocol.client_closed and not request.content.is_eof():
            protocol.body_truncated = True
            request.content.feed_eof()
        protocol.body = body
        # One growing buffer, not a list of chunks: a large buffer is its own memory mapping,
        # given back to the system when freed, where thousands of small chunks would leave
        # the heap fragmented (measured: 5 GB resident after 130 held bodies were closed).
        data = bytearray()
        try:
            while chunk := await self.next_chunk(body):
                if len(data) + len(chunk) > self.max_body_bytes:
                    raise BodyTooLarge(None, self.max_body_bytes)
                await self.grow(reservation, len(chunk))
                data += chunk
                body.received = len(data)
        finally:
            protocol.body = None
        if protocol.body_truncated:
            length = request.content_length
            raise broken_body(f"the connection was closed after {len(data)} bytes of the body"
                              + (f" (of {length} announced)" if length is not None else ""))
        return data

    @staticmethod
    async def next_chunk(body):
        """The body's next bytes (empty at its end), within the pace MIN_BODY_RATE sets."""
        try:
            return await asyncio.wait_for(body.request.content.readany(),
                                          max(body.seconds_ahead(), 0.01))
        except asyncio.TimeoutError:
            raise broken_body(f"the body came slower than {MIN_BODY_RATE >> 10} KiB/s "
                              f"({body.received} bytes in {time.monotonic() - body.start:.1f} s)"
                              ) from None

    def status_or_metadata(self, match, version):
        loaded = self.predictor.registry.get(match["name"], version)
        if match["metadata"]:
            return {"model_spec": {"name": match["name"], "signature_name": "",
                                   "version": str(loaded.version)},
                    "metadata": {"signature_def": json_format.MessageToDict(
                        loaded.signature_def_map(), preserving_proto_field_name=True)}}
        return json_format.MessageToDict(loaded.status(), preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)

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

