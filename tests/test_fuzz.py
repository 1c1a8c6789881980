"""Fuzzing with hypothesis: image decoding and both request parsers of `cartoonize serve`.

- `read_image` on arbitrary bytes and on mutated PNG, JPEG, GIF, BMP and WebP files returns
  an RGB uint8 array or raises ImageReadError, never anything else, and never allocates
  much (a pixel cap is in force, as on the command line);
- REST predict bodies (arbitrary JSON, image-like nested lists, `{"b64": ...}` objects) and
  raw request heads are answered 200 or a 4xx with `{"error": ...}`;
- gRPC PredictRequests with arbitrary TensorProto dtype, shape and values are answered OK
  or INVALID_ARGUMENT / NOT_FOUND;
and the server answers a good request after each run.

The default run tries a bounded, fixed set of cases (`max_examples=50`, derandomized so CI
is repeatable); `pytest -m slow` tries many more, at random.
"""

import base64
import http.client
import io
import json
import resource
import tempfile
from pathlib import Path

import grpc
import numpy as np
import pytest
from helpers import png_claiming, predict_request, random_photo, raw_http, served
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from cartoonize_tf.utils.image_io import ImageReadError, read_image

CI = settings(max_examples=50, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MANY = settings(CI, max_examples=1000, derandomize=False)

PHOTO = random_photo(np.random.default_rng(0), 12, 16)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **options)
    return buffer.getvalue()


SEEDS = [encoded(PHOTO, "PNG"), encoded(PHOTO, "JPEG", quality=90),
         encoded(PHOTO, "JPEG", progressive=True), encoded(PHOTO, "GIF"), encoded(PHOTO, "BMP"),
         encoded(PHOTO, "WEBP"), encoded(PHOTO[..., 0], "PNG"),
         encoded(np.dstack([PHOTO, PHOTO[..., :1]]), "PNG")]


@st.composite
def mutated_images(draw):
    """A valid encoded image with bytes flipped, inserted, deleted, or the file cut short."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1)) if data else 0
        kind = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        if kind == "set" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[position:position + draw(st.integers(1, 8))]
        else:
            del data[position:]
    return bytes(data)


claiming_pngs = st.builds(png_claiming, st.integers(1, 2 ** 31 - 1), st.integers(1, 2 ** 31 - 1))
image_bytes = st.one_of(st.binary(max_size=256), mutated_images(), claiming_pngs)


# Image decoding.

MAX_PIXELS = 256 * 256


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_read_image(data, folder):
    path = Path(folder) / "input.img"
    path.write_bytes(data)
    try:
        image = read_image(path, max_pixels=MAX_PIXELS)
    except ImageReadError:
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] * image.shape[1] <= MAX_PIXELS


def fuzz_read_image(config):
    """Runs the read_image fuzz under `config`; the process's peak memory must stay flat.

    (The peak is the process's own, so this backstop sees only a decode that allocates more
    than anything before it in the run; the header check is what bounds each decode.)
    """
    with tempfile.TemporaryDirectory() as folder:
        @config
        @given(data=image_bytes)
        def fuzz(data):
            check_read_image(data, folder)

        before = peak_rss_mb()
        fuzz()
        grown = peak_rss_mb() - before
    assert grown < 200, f"decoding fuzzed files raised peak memory by {grown:.0f} MB"


def test_read_image_fails_only_with_image_read_error():
    fuzz_read_image(CI)


@pytest.mark.slow
def test_read_image_fails_only_with_image_read_error_many():
    fuzz_read_image(MANY)


# The server.

@pytest.fixture(scope="module")
def server(small_generator, tmp_path_factory):
    with served(small_generator, tmp_path_factory.mktemp("fuzz"), 64 * 64) as running:
        yield running


@pytest.fixture(scope="module")
def rest_connection(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=60)
    yield connection
    connection.close()
    assert_still_serving(server)


@pytest.fixture(scope="module")
def stub(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
    channel.close()
    assert_still_serving(server)


def assert_still_serving(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    try:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        assert stub.Predict(predict_request(images=PHOTO[None]), timeout=60).outputs["cartoons"]
    finally:
        channel.close()
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=60)
    try:
        connection.request("POST", "/v1/models/cartoonizer:predict",
                           body=json.dumps({"instances": [PHOTO.tolist()]}))
        assert connection.getresponse().status == 200
    finally:
        connection.close()


# REST bodies.

b64_objects = st.builds(lambda data: {"b64": base64.b64encode(data).decode()}, image_bytes)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-5, 300),
                    st.floats(), st.text(max_size=8), b64_objects,
                    st.fixed_dictionaries({"b64": st.text(max_size=12)}))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=24)


@st.composite
def image_lists(draw):
    """Nested lists shaped like an image batch, sometimes ragged or out of range."""
    shape = draw(st.lists(st.integers(0, 5), min_size=1, max_size=5))
    low, high = draw(st.sampled_from([(0, 255), (-3, 300)]))

    def build(dims):
        if not dims:
            return draw(st.integers(low, high) | st.floats(-1, 256) if high > 255
                        else st.integers(low, high))
        count = dims[0] + draw(st.sampled_from([0, 0, 0, 1]))  # now and then ragged
        return [build(dims[1:]) for _ in range(count)]

    return build(shape)


values = st.one_of(json_values, image_lists(), st.lists(b64_objects, min_size=1, max_size=2))
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "instances": values, "inputs": values | st.dictionaries(
            st.sampled_from(["images", "image_bytes", "x"]), values, max_size=2),
        "signature_name": st.sampled_from(["serving_default", "serving_bytes", "nope"])
        | json_values}),
    json_values)


def check_rest_body(connection, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    connection.request("POST", "/v1/models/cartoonizer:predict", body=data,
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert response.status == 200 or (400 <= response.status < 500 and answer["error"]), \
        (response.status, answer)


@CI
@given(body=bodies)
def test_rest_predict_bodies_get_200_or_a_4xx(rest_connection, body):
    check_rest_body(rest_connection, body)


@pytest.mark.slow
@MANY
@given(body=bodies | st.binary(max_size=512))
def test_rest_predict_bodies_get_200_or_a_4xx_many(rest_connection, body):
    check_rest_body(rest_connection, body)


request_heads = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda method, path, headers: method + b" " + path + b" HTTP/1.1\r\n" + headers,
              st.sampled_from([b"GET", b"POST", b"PUT", b"\x00"]) | st.binary(max_size=6),
              st.sampled_from([b"/v1/models/cartoonizer", b"/v1/models/cartoonizer:predict",
                               b"/v1/models/cartoonizer/versions/1/metadata"])
              | st.binary(max_size=30),
              st.lists(st.sampled_from([b"Content-Length: 4\r\n", b"Content-Length: -1\r\n",
                                        b"Transfer-Encoding: chunked\r\n", b"Host: x\r\n",
                                        b"Connection: close\r\n"])
                       | st.binary(max_size=30).map(lambda b: b + b"\r\n"), max_size=4)
              .map(b"".join)))


def check_raw_request(server, head, body):
    status, answer = raw_http(server, head.decode("latin-1"), body, half_close=True)
    # None: no complete request arrived before the client closed, so there is nothing to answer.
    assert status is None or (status < 500 and (status == 200 or answer["error"])), (status,
                                                                                      answer)


@CI
@given(head=request_heads, body=st.binary(max_size=64))
def test_raw_rest_requests_get_an_answer_below_500(server, head, body):
    check_raw_request(server, head, body)


@pytest.mark.slow
@MANY
@given(head=request_heads, body=st.binary(max_size=64))
def test_raw_rest_requests_get_an_answer_below_500_many(server, head, body):
    check_raw_request(server, head, body)


# gRPC PredictRequests.

DTYPES = [value for name, value in types_pb2.DataType.items() if not name.endswith("_REF")]
dims = st.lists(st.integers(-2, 40) | st.sampled_from([0, 1, 3, 64, 65, 30000, 2 ** 40]),
                max_size=6)


@st.composite
def tensor_protos(draw):
    tensor = tensor_pb2.TensorProto(dtype=draw(st.sampled_from(DTYPES)))
    if draw(st.booleans()):
        tensor.tensor_shape.CopyFrom(tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in draw(dims)]))
    else:
        tensor.tensor_shape.unknown_rank = draw(st.booleans())
    field = draw(st.sampled_from(["int_val", "float_val", "string_val", "tensor_content",
                                  "int64_val", "half_val", "bool_val", "double_val", "none"]))
    small = st.lists(st.integers(-300, 300), max_size=20)
    if field in ("int_val", "half_val"):
        getattr(tensor, field).extend(draw(small))
    elif field == "int64_val":
        tensor.int64_val.extend(draw(st.lists(st.integers(-2 ** 63, 2 ** 63 - 1), max_size=8)))
    elif field in ("float_val", "double_val"):
        getattr(tensor, field).extend(draw(st.lists(st.floats(width=32), max_size=20)))
    elif field == "bool_val":
        tensor.bool_val.extend(draw(st.lists(st.booleans(), max_size=20)))
    elif field == "string_val":
        tensor.string_val.extend(draw(st.lists(image_bytes, max_size=3)))
    elif field == "tensor_content":
        tensor.tensor_content = draw(st.binary(max_size=800))
    return tensor


@st.composite
def predict_requests(draw):
    message = predict_pb2.PredictRequest()
    message.model_spec.name = draw(st.sampled_from(["cartoonizer", "cartoonizer", "other"]))
    message.model_spec.signature_name = draw(st.sampled_from(
        ["", "serving_default", "serving_bytes", "nope"]))
    if draw(st.booleans()):
        message.model_spec.version.value = draw(st.sampled_from([1, 1, 2, 0, -1]))
    for name in draw(st.lists(st.sampled_from(["images", "image_bytes", "x"]), max_size=2,
                              unique=True)):
        message.inputs[name].CopyFrom(draw(tensor_protos()))
    return message


ALLOWED_GRPC = {"OK", "INVALID_ARGUMENT", "NOT_FOUND"}


def check_grpc_request(stub, message):
    try:
        stub.Predict(message, timeout=60)
    except grpc.RpcError as error:
        assert error.code().name in ALLOWED_GRPC, (error.code().name, error.details(), message)


@CI
@given(message=predict_requests())
def test_grpc_predict_requests_get_ok_or_a_client_error(stub, message):
    check_grpc_request(stub, message)


@pytest.mark.slow
@MANY
@given(message=predict_requests())
def test_grpc_predict_requests_get_ok_or_a_client_error_many(stub, message):
    check_grpc_request(stub, message)
