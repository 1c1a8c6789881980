"""TF Serving's REST API: model status, metadata, and predict in row and columnar form."""

import base64
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf
from google.protobuf import json_format

from cartoonize_tf.serving.errors import ServingError
from cartoonize_tf.serving.limits import check_claimed_shape

logger = logging.getLogger(__name__)

HTTP_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429,
               "DEADLINE_EXCEEDED": 504, "INTERNAL": 500, "UNAVAILABLE": 503}
# Deeper JSON than any image tensor needs is refused before it reaches a recursive walk.
MAX_NESTING = 16
# Seconds a client may take to send its request (a body shorter than its Content-Length waits).
SOCKET_TIMEOUT = 30
# An over-cap body up to this many times the cap is read and thrown away (so the client gets
# the answer); a longer one closes the connection.
SKIP_FACTOR = 4
ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
                   r"(?:(?P<metadata>/metadata)|:(?P<verb>predict))?$")


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
    """RESOURCE_EXHAUSTED: an honest Content-Length over the cap (the body can be skipped)."""

    def __init__(self, length, max_body_bytes):
        super().__init__("RESOURCE_EXHAUSTED", f"request of {length} bytes exceeds "
                                               f"{max_body_bytes}")
        self.length = length


def body_length(headers, max_body_bytes):
    """The Content-Length of a request, or ServingError for a missing, malformed or over-cap one."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        raise ServingError("INVALID_ARGUMENT", "chunked bodies are not accepted; send a "
                                               "Content-Length")
    values = headers.get_all("Content-Length") or []
    if len(set(values)) > 1:
        raise ServingError("INVALID_ARGUMENT", "conflicting Content-Length headers")
    text = values[0].strip() if values else "0"
    if not text.isdigit():
        raise ServingError("INVALID_ARGUMENT", f"Content-Length must be a non-negative integer, "
                                               f"got {text[:40]!r}")
    length = int(text)
    if length > max_body_bytes:
        raise BodyTooLarge(length, max_body_bytes)
    return length


def make_handler(predictor, max_body_bytes, activity=None):
    activity = activity or Activity()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = SOCKET_TIMEOUT

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if activity.stopping:
                self.close_connection = True
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def fail(self, error):
            self.reply(HTTP_STATUS.get(error.code, 500), {"error": error.message})

        def route(self):
            match = ROUTE.match(self.path)
            if not match:
                raise ServingError("NOT_FOUND", f"no such endpoint: {self.path}")
            version = match["version"]
            return match, int(version) if version else None

        def answer(self, method):
            """Runs `method`, answering every failure with a JSON error; never drops the socket."""
            with activity:
                try:
                    if activity.stopping:
                        self.close_connection = True
                        raise ServingError("UNAVAILABLE", "the server is shutting down")
                    method()
                except ServingError as error:
                    self.fail(error)
                except Exception:  # noqa: BLE001 - a bad request must not kill the connection
                    logger.exception("REST request %s failed", self.path)
                    self.close_connection = True
                    self.fail(ServingError("INTERNAL", "internal error"))

        def do_GET(self):
            self.answer(self.get)

        def do_POST(self):
            self.answer(self.post)

        def get(self):
            match, version = self.route()
            if match["verb"]:
                raise ServingError("INVALID_ARGUMENT", "predict needs POST")
            loaded = predictor.registry.get(match["name"], version)
            if match["metadata"]:
                self.reply(200, {"model_spec": {"name": match["name"],
                                                "signature_name": "",
                                                "version": str(loaded.version)},
                                 "metadata": {"signature_def": json_format.MessageToDict(
                                     loaded.signature_def_map(),
                                     preserving_proto_field_name=True)}})
            else:
                self.reply(200, {"model_version_status": [{
                    "version": str(loaded.version), "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""}}]})

        def read_body(self):
            try:
                length = body_length(self.headers, max_body_bytes)
            except BodyTooLarge as error:
                # Skipped in small pieces, never held, so the client reads the answer rather
                # than a reset; past SKIP_FACTOR times the cap the connection is dropped.
                self.close_connection = error.length > SKIP_FACTOR * max_body_bytes
                if not self.close_connection:
                    self.skip(error.length)
                raise
            except ServingError:
                # Where this body ends is unknown: answer, then hang up.
                self.close_connection = True
                raise
            data = self.rfile.read(length)
            if len(data) < length:
                self.close_connection = True
                raise ServingError("INVALID_ARGUMENT", f"the body ended after {len(data)} of "
                                                       f"{length} bytes")
            return data

        def skip(self, length):
            while length > 0:
                piece = self.rfile.read(min(length, 1 << 16))
                if not piece:
                    self.close_connection = True
                    return
                length -= len(piece)

        def post(self):
            data = self.read_body()
            match, version = self.route()
            if match["verb"] != "predict":
                raise ServingError("NOT_FOUND", f"no such endpoint: POST {self.path}")
            try:
                body = json.loads(data or b"null")
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise ServingError("INVALID_ARGUMENT", "the body is not valid JSON (or is "
                                                       "nested too deeply)") from None
            if not isinstance(body, dict):
                raise ServingError("INVALID_ARGUMENT", "the body must be a JSON object")
            loaded = predictor.registry.get(match["name"], version)
            _, _, signature_def = loaded.signature(body.get("signature_name"))
            inputs, row_format = request_inputs(body, signature_def,
                                                predictor.pixel_limit(loaded),
                                                predictor.max_elements)
            _, _, outputs = predictor.predict(match["name"], version,
                                              body.get("signature_name"), inputs)
            self.reply(200, response_body(outputs, row_format))

    return Handler


class RestServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a real listen backlog and a record of in-flight requests."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, handler, activity):
        super().__init__(address, handler)
        self.activity = activity


def rest_server(predictor, port, host="127.0.0.1", max_body_bytes=64 << 20):
    """A REST server (not yet serving: call `serve_forever`); returns (server, bound port)."""
    activity = Activity()
    server = RestServer((host, port), make_handler(predictor, max_body_bytes, activity), activity)
    return server, server.server_address[1]
