"""TF Serving's REST API: model status, metadata, and predict in row and columnar form."""

import base64
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf
from google.protobuf import json_format

from cartoonize_tf.serving.errors import ServingError

HTTP_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429,
               "DEADLINE_EXCEEDED": 504, "INTERNAL": 500}
ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
                   r"(?:(?P<metadata>/metadata)|:(?P<verb>predict))?$")


def decode_value(value, name):
    """A JSON value to what numpy takes: `{"b64": ...}` to bytes, lists recursively."""
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise ServingError("INVALID_ARGUMENT", f"input {name}: objects must be {{\"b64\": ...}}")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise ServingError("INVALID_ARGUMENT", f"input {name}: invalid base64") from None
    if isinstance(value, list):
        return [decode_value(item, name) for item in value]
    return value


def to_array(value, name, signature_def):
    """JSON data for one input to an array of the signature's dtype, or INVALID_ARGUMENT."""
    if name not in signature_def.inputs:
        raise ServingError("INVALID_ARGUMENT", f"unknown input {name}; expected "
                                               f"{sorted(signature_def.inputs)}")
    dtype = tf.dtypes.as_dtype(signature_def.inputs[name].dtype)
    data = decode_value(value, name)
    if dtype == tf.string:
        return np.asarray(data, dtype=object)
    try:
        array = np.asarray(data)
    except ValueError:
        raise ServingError("INVALID_ARGUMENT", f"input {name} is not a rectangular array") from None
    if array.dtype.kind not in "iuf" or (dtype.is_integer and array.dtype.kind == "f"):
        raise ServingError("INVALID_ARGUMENT", f"input {name} must hold {dtype.name} numbers")
    if dtype.is_integer and array.size and (array.min() < dtype.min or array.max() > dtype.max):
        raise ServingError("INVALID_ARGUMENT", f"input {name}: values outside {dtype.name}")
    return array.astype(dtype.as_numpy_dtype)


def request_inputs(body, signature_def):
    """The inputs of a row (`instances`) or columnar (`inputs`) predict request."""
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
        return {k: to_array(v, k, signature_def) for k, v in columns.items()}, False
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        raise ServingError("INVALID_ARGUMENT", "'instances' must be a non-empty list")
    if all(isinstance(i, dict) and set(i) != {"b64"} for i in instances):
        return {k: to_array([i.get(k) for i in instances], k, signature_def)
                for k in instances[0]}, True
    if len(names) != 1:
        raise ServingError("INVALID_ARGUMENT", "instances must be objects naming each input")
    return {names[0]: to_array(instances, names[0], signature_def)}, True


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


def make_handler(predictor, max_body_bytes):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
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

        def do_GET(self):
            try:
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
            except ServingError as error:
                self.fail(error)

        def do_POST(self):
            try:
                match, version = self.route()
                if match["verb"] != "predict":
                    raise ServingError("NOT_FOUND", f"no such endpoint: POST {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length > max_body_bytes:
                    self.rfile.read(length)
                    raise ServingError("RESOURCE_EXHAUSTED",
                                       f"request of {length} bytes exceeds {max_body_bytes}")
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except (ValueError, UnicodeDecodeError):
                    raise ServingError("INVALID_ARGUMENT", "the body is not valid JSON") from None
                if not isinstance(body, dict):
                    raise ServingError("INVALID_ARGUMENT", "the body must be a JSON object")
                loaded = predictor.registry.get(match["name"], version)
                _, _, signature_def = loaded.signature(body.get("signature_name"))
                inputs, row_format = request_inputs(body, signature_def)
                _, _, outputs = predictor.predict(match["name"], version,
                                                  body.get("signature_name"), inputs)
                self.reply(200, response_body(outputs, row_format))
            except ServingError as error:
                self.fail(error)

    return Handler


def rest_server(predictor, port, host="0.0.0.0", max_body_bytes=64 << 20):
    """A REST server (not yet serving: call `serve_forever`); returns (server, bound port)."""
    server = ThreadingHTTPServer((host, port), make_handler(predictor, max_body_bytes))
    server.daemon_threads = True
    return server, server.server_address[1]
