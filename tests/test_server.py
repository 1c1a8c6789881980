"""`cartoonize serve` against TF Serving's own client stubs and its REST API, on 127.0.0.1."""

import base64
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from helpers import PROJECT_ROOT, png_bytes, random_photo
from PIL import Image
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from cartoonize_tf.export.saved_model import export_saved_model
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.serving.server import start_server


@pytest.fixture(scope="module")
def server(small_generator, tmp_path_factory):
    base = tmp_path_factory.mktemp("serving") / "cartoonizer"
    export_saved_model(small_generator, base, max_pixels=64 * 64)
    running = start_server(base, "cartoonizer", grpc_port=0, rest_port=0, host="127.0.0.1",
                           poll_seconds=0.2)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def stub(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
    channel.close()


def request(signature="serving_default", name="cartoonizer", version=None, **inputs):
    message = predict_pb2.PredictRequest()
    message.model_spec.name = name
    message.model_spec.signature_name = signature
    if version is not None:
        message.model_spec.version.value = version
    for key, value in inputs.items():
        message.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return message


def rest(server, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    call = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}{path}", data)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_grpc_predict_matches_the_model(stub, small_generator, rng):
    photo = random_photo(rng, 20, 28)
    response = stub.Predict(request(images=photo[None]), timeout=60)
    expected = Cartoonizer(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["cartoons"])[0], expected)
    assert response.model_spec.version.value == 1


def test_grpc_bytes_signature(stub, small_generator, rng):
    photo = random_photo(rng, 16, 24)
    response = stub.Predict(request("serving_bytes", image_bytes=[png_bytes(photo)]), timeout=60)
    encoded = tf.make_ndarray(response.outputs["cartoon_bytes"])[0]
    expected = Cartoonizer(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(encoded))), expected)


def test_grpc_metadata_and_status(server, stub):
    metadata_request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    metadata_request.model_spec.name = "cartoonizer"
    metadata = stub.GetModelMetadata(metadata_request, timeout=30)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    metadata.metadata["signature_def"].Unpack(signatures)
    assert set(signatures.signature_def) == {"serving_default", "serving_bytes"}
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = "cartoonizer"
    status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(status_request, timeout=30)
    assert status.model_version_status[0].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    channel.close()


@pytest.mark.parametrize("make_request,code", [
    (lambda: request(images=np.zeros((1, 8, 8, 3), np.float32)), "INVALID_ARGUMENT"),  # dtype
    (lambda: request(images=np.zeros((8, 8, 3), np.uint8)), "INVALID_ARGUMENT"),  # rank
    (lambda: request("serving_bytes", image_bytes=[b"not an image"]), "INVALID_ARGUMENT"),
    (lambda: request(images=np.zeros((1, 65, 64, 3), np.uint8)), "INVALID_ARGUMENT"),  # size
    (lambda: request(name="nope", images=np.zeros((1, 8, 8, 3), np.uint8)), "NOT_FOUND"),
    (lambda: request(version=9, images=np.zeros((1, 8, 8, 3), np.uint8)), "NOT_FOUND"),
    (lambda: request("serving_nope", images=np.zeros((1, 8, 8, 3), np.uint8)), "NOT_FOUND"),
])
def test_grpc_errors_carry_tf_serving_codes_and_the_server_goes_on(stub, rng, make_request, code):
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(make_request(), timeout=60)
    assert raised.value.code().name == code
    assert "Graph execution error" not in raised.value.details()
    good = stub.Predict(request(images=random_photo(rng, 8, 8)[None]), timeout=60)
    assert tf.make_ndarray(good.outputs["cartoons"]).shape == (1, 8, 8, 3)


def test_rest_status_metadata_and_predict(server, small_generator, rng):
    assert rest(server, "/v1/models/cartoonizer")[1]["model_version_status"][0]["state"] == "AVAILABLE"
    status, metadata = rest(server, "/v1/models/cartoonizer/versions/1/metadata")
    assert status == 200 and "serving_bytes" in metadata["metadata"]["signature_def"]["signature_def"]
    photo = random_photo(rng, 12, 16)
    expected = Cartoonizer(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    status, rows = rest(server, "/v1/models/cartoonizer:predict", {"instances": [photo.tolist()]})
    assert status == 200
    np.testing.assert_array_equal(np.asarray(rows["predictions"][0], np.uint8), expected)
    status, columns = rest(server, "/v1/models/cartoonizer/versions/1:predict",
                           {"inputs": {"images": [photo.tolist()]}})
    np.testing.assert_array_equal(np.asarray(columns["outputs"][0], np.uint8), expected)
    status, encoded = rest(server, "/v1/models/cartoonizer:predict", {
        "signature_name": "serving_bytes",
        "instances": [{"b64": base64.b64encode(png_bytes(photo)).decode()}]})
    image = Image.open(io.BytesIO(base64.b64decode(encoded["predictions"][0]["b64"])))
    np.testing.assert_array_equal(np.asarray(image), expected)


@pytest.mark.parametrize("path,body,status", [
    ("/v1/models/cartoonizer:predict", b"{not json", 400),
    ("/v1/models/cartoonizer:predict", {"instances": [[[[300, 0, 0]]]]}, 400),
    ("/v1/models/cartoonizer:predict", {"instances": [[[0.5, 0, 0]]]}, 400),
    ("/v1/models/cartoonizer:predict", {"signature_name": "serving_bytes",
                                        "instances": [{"b64": "bm90IGFuIGltYWdl"}]}, 400),
    ("/v1/models/cartoonizer:predict", {"instances": np.zeros((1, 65, 64, 3), int).tolist()}, 400),
    ("/v1/models/other:predict", {"instances": [[[[0, 0, 0]]]]}, 404),
    ("/v1/models/cartoonizer/versions/3:predict", {"instances": [[[[0, 0, 0]]]]}, 404),
    ("/v1/models/cartoonizer:predict", {"signature_name": "x", "instances": [[[[0, 0, 0]]]]}, 404),
])
def test_rest_errors_and_the_server_goes_on(server, rng, path, body, status):
    got, answer = rest(server, path, body)
    assert got == status and answer["error"]
    assert not answer["error"].startswith("Graph execution error")
    ok, rows = rest(server, "/v1/models/cartoonizer:predict",
                    {"instances": [random_photo(rng, 8, 8).tolist()]})
    assert ok == 200 and np.asarray(rows["predictions"]).shape == (1, 8, 8, 3)


def test_a_new_version_is_served_without_restart(server, stub, small_generator):
    export_saved_model(small_generator, server.registry.base_path, max_pixels=64 * 64)
    deadline = time.time() + 60
    while server.registry.current.version != 2 and time.time() < deadline:
        time.sleep(0.2)
    response = stub.Predict(request(images=np.zeros((1, 8, 8, 3), np.uint8)), timeout=60)
    assert response.model_spec.version.value == 2


def test_clients_cartoonize_files(server, tmp_path, rng):
    photo_path = tmp_path / "photo.png"
    Image.fromarray(random_photo(rng, 16, 16)).save(photo_path)
    for script, address in (("grpc_client.py", f"127.0.0.1:{server.grpc_port}"),
                            ("rest_client.py", f"http://127.0.0.1:{server.rest_port}")):
        out = tmp_path / script
        result = subprocess.run([sys.executable, str(PROJECT_ROOT / "serving" / script),
                                 str(photo_path), "--server", address, "--output-dir", str(out)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert Image.open(out / "photo.png").size == (16, 16)


def test_an_oversize_image_is_explained(stub):
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(request(images=np.zeros((1, 65, 64, 3), np.uint8)), timeout=60)
    assert "image too large" in raised.value.details()


def test_an_oversize_message_is_resource_exhausted_and_the_server_goes_on(server, rng):
    small = start_server(server.registry.base_path, "cartoonizer", grpc_port=0, rest_port=0,
                         host="127.0.0.1", max_message_bytes=16 << 10)
    channel = grpc.insecure_channel(f"127.0.0.1:{small.grpc_port}")
    try:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.Predict(request(images=np.zeros((1, 128, 128, 3), np.uint8)), timeout=60)
        assert raised.value.code().name == "RESOURCE_EXHAUSTED"
        good = stub.Predict(request(images=random_photo(rng, 8, 8)[None]), timeout=60)
        assert tf.make_ndarray(good.outputs["cartoons"]).shape == (1, 8, 8, 3)
        status, answer = rest(small, "/v1/models/cartoonizer:predict",
                              {"instances": np.zeros((1, 128, 128, 3), int).tolist()})
        assert status == 429 and "exceeds" in answer["error"]
    finally:
        channel.close()
        small.stop()
