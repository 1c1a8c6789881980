"""`cartoonize serve` against TF Serving's own client stubs and its REST API, on 127.0.0.1."""

import base64
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from helpers import (
    PROJECT_ROOT,
    amplification_request,
    claimed_tensor,
    png_bytes,
    png_claiming,
    post_head,
    prediction_stub,
    random_photo,
    raw_http,
    served,
)
from helpers import predict_request as request
from PIL import Image
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    prediction_service_pb2_grpc,
)

from cartoonize_tf.export.saved_model import export_saved_model
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.serving.server import start_server


@pytest.fixture(scope="module")
def server(small_generator, tmp_path_factory):
    with served(small_generator, tmp_path_factory.mktemp("serving"), 64 * 64, poll_seconds=0.2) as running:
        yield running


@pytest.fixture(scope="module")
def stub(server):
    with prediction_stub(server) as stub:
        yield stub


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
    expected = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["cartoons"])[0], expected)
    assert response.model_spec.version.value == 1


def test_grpc_bytes_signature(stub, small_generator, rng):
    photo = random_photo(rng, 16, 24)
    response = stub.Predict(request("serving_bytes", image_bytes=[png_bytes(photo)]), timeout=60)
    encoded = tf.make_ndarray(response.outputs["cartoon_bytes"])[0]
    expected = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
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
    expected = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
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
    # Instances naming different inputs (a control in a later one only), as TF Serving refuses.
    ("/v1/models/cartoonizer:predict", {"instances": [{"images": [[[0, 0, 0]] * 8] * 8}, {
        "images": [[[0, 0, 0]] * 8] * 8, "lines": 1}]}, 400),
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


def test_odd_version_folders_and_a_broken_new_version(server, caplog):
    """A folder named "²" (str.isdigit, not int) is ignored; a broken version is tried once."""
    registry = server.registry
    served = registry.current.version
    odd = registry.base_path / "\u00b2"
    odd.mkdir()
    (odd / "saved_model.pb").write_bytes(b"")
    broken = registry.base_path / str(served + 100)
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    try:
        with caplog.at_level("WARNING", logger="cartoonize_tf.serving.core.registry"):
            time.sleep(10 * registry.poll_seconds)
        warnings = [r for r in caplog.records if "could not load version" in r.getMessage()]
        assert len(warnings) == 1 and str(served + 100) in warnings[0].getMessage()
        assert registry.current.version == served
    finally:
        for folder in (odd, broken):
            (folder / "saved_model.pb").unlink()
            folder.rmdir()


@pytest.mark.parametrize("version", ["9" * 5000, str(2 ** 63)])
def test_huge_version_numbers_are_not_found(server, version):
    status, answer = rest(server, f"/v1/models/cartoonizer/versions/{version}")
    assert status == 404 and "at most" in answer["error"]


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
        # A chunked body has no length to check up front: it is cut off at the cap.
        chunk = b"x" * (20 << 10)
        status, answer = raw_http(small, post_head("Transfer-Encoding: chunked"),
                                  f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
        assert status == 429 and "exceeds" in answer["error"]
    finally:
        channel.close()
        small.stop()


# The hostile corpus: sizes claimed by a request but not carried by it.

def string_claim(count):
    """A serving_bytes request whose string tensor claims `count` images and carries one."""
    message = request("serving_bytes", image_bytes=[b""])
    message.inputs["image_bytes"].CopyFrom(claimed_tensor(
        [count], types_pb2.DT_STRING,
        string_val=[png_bytes(random_photo(np.random.default_rng(0), 8, 8))]))
    return message


@pytest.mark.parametrize("message", [
    amplification_request(),
    amplification_request((10 ** 7, 8, 8, 3)),  # small images, 1.9e9 elements
    amplification_request((1, -1, 8, 3)),
    amplification_request((1, 64, 64, 3)),  # within every cap, one value carried
    amplification_request((2, 48, 48, 3)),  # each image within the cap, the batch over it
    string_claim(10 ** 9),
    string_claim(100_000),  # under the element cap: TensorFlow would pad it with copies
], ids=["54-byte-30000x30000", "element-count", "negative-dim", "one-value-fills-the-cap",
        "batch-pixels", "string-shape", "string-padding"])
def test_claimed_shapes_are_refused_before_allocation(stub, rng, message):
    start = time.perf_counter()
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(message, timeout=30)
    assert raised.value.code().name == "INVALID_ARGUMENT"
    assert time.perf_counter() - start < 5
    good = stub.Predict(request(images=random_photo(rng, 8, 8)[None]), timeout=60)
    assert tf.make_ndarray(good.outputs["cartoons"]).shape == (1, 8, 8, 3)


def test_the_54_byte_request_is_54_bytes():
    assert len(amplification_request().SerializeToString()) == 54


def test_the_server_reads_the_exported_cap(server):
    assert server.registry.current.max_pixels == 64 * 64
    assert server.predictor.pixel_limit(server.registry.current) == 64 * 64


@pytest.mark.parametrize("encoded", [png_claiming(100000, 100000), png_claiming(65, 64)],
                         ids=["bomb-100000x100000", "just-over-the-cap"])
def test_bytes_signature_checks_the_header_before_decoding(server, stub, encoded):
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(request("serving_bytes", image_bytes=[encoded]), timeout=30)
    assert raised.value.code().name == "INVALID_ARGUMENT"
    assert "image too large" in raised.value.details()
    status, answer = rest(server, "/v1/models/cartoonizer:predict", {
        "signature_name": "serving_bytes", "instances": [{"b64": base64.b64encode(encoded).decode()}]})
    assert status == 400 and "image too large" in answer["error"]


def test_rest_claimed_shape_is_checked_before_the_array_is_built(server):
    # One row of 5000 pixels claims a 1 x 5000 image, over the 64 x 64 cap.
    status, answer = rest(server, "/v1/models/cartoonizer:predict",
                          {"instances": [[[[0, 0, 0]] * 5000]]})
    assert status == 400 and "image too large" in answer["error"]


BYTES_AS_INTEGERS = json.dumps({"signature_name": "serving_bytes", "instances": [1, 2]}).encode()


@pytest.mark.parametrize("head,body,half_close,status", [
    (post_head("Content-Length: -1"), b'{"instances": [1]}', False, 400),
    (post_head("Content-Length: abc"), b'{"instances": [1]}', False, 400),
    (post_head("Content-Length: 1000000000000"), b"{}", False, 429),  # lying, over the cap
    (post_head("Content-Length: 100"), b'{"instances"', True, 400),  # body shorter than claimed
    (post_head("Transfer-Encoding: chunked"), b"5\r\nhello\r\n0\r\n\r\n", False, 400),
    (post_head(f"Content-Length: {200001}"), b"[" * 100000 + b"]" * 100001, False, 400),  # deep
    (post_head(f"Content-Length: {len(BYTES_AS_INTEGERS)}"), BYTES_AS_INTEGERS, False, 400),
    (post_head("Content-Length: 2\r\nContent-Length: 3"), b"{}", False, 400),
    (post_head("Content-Length: 2\r\nTransfer-Encoding: chunked"), b"{}", False, 400),
    (post_head("Transfer-Encoding: chunked"), b"zz\r\n", False, 400),
    (post_head("X-Long: " + "a" * 20000), b"", False, 400),
    ("\x16\x03\x01\x00\xa5\x01\x00\x00\r\n", b"", False, 400),  # TLS on the HTTP port
    ("PUT /v1/models/cartoonizer HTTP/1.1\r\nHost: x\r\n", b"", False, 405),
    ("GET /v1/nothing HTTP/1.1\r\nHost: x\r\n", b"", False, 404),
    (post_head("Content-Length: 40"), b'{"signature_name": {}, "instances": [1]}', False, 400),
], ids=["length-minus-1", "length-not-a-number", "length-over-cap", "short-body",
        "chunked-not-json", "nested-100000-deep", "integers-to-bytes-signature",
        "conflicting-lengths", "length-and-chunked", "bad-chunk-size", "header-too-long",
        "tls-handshake", "put", "unknown-path", "signature-name-not-a-string"])
def test_malformed_rest_requests_get_a_json_error_and_the_server_goes_on(server, rng, head,
                                                                         body, half_close,
                                                                         status):
    got, answer = raw_http(server, head, body, half_close)
    assert got == status and answer["error"]
    ok, rows = rest(server, "/v1/models/cartoonizer:predict",
                    {"instances": [random_photo(rng, 8, 8).tolist()]})
    assert ok == 200 and np.asarray(rows["predictions"]).shape == (1, 8, 8, 3)


def test_rest_takes_chunked_bodies_and_keeps_the_connection_alive(server, rng):
    photo = random_photo(rng, 8, 8)
    body = json.dumps({"instances": [photo.tolist()]}).encode()
    chunked = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n"
                       for part in (body[:100], body[100:])) + b"0\r\n\r\n"
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=60)
    try:
        for _ in range(3):  # one connection, several requests
            connection.request("POST", "/v1/models/cartoonizer:predict", body=iter([chunked]),
                               headers={"Transfer-Encoding": "chunked"}, encode_chunked=False)
            response = connection.getresponse()
            assert response.status == 200
            assert np.asarray(json.load(response)["predictions"]).shape == (1, 8, 8, 3)
            connection.request("GET", "/v1/models/cartoonizer")
            response = connection.getresponse()
            assert response.status == 200 and json.load(response)["model_version_status"]
    finally:
        connection.close()


def test_rest_answers_pipelined_requests_before_a_half_close(server):
    """A client that sends its requests and then shuts its sending side gets every answer."""
    get = b"GET /v1/models/cartoonizer HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as connection:
        connection.sendall(get * 3)
        connection.shutdown(socket.SHUT_WR)
        data = b""
        while piece := connection.recv(1 << 16):
            data += piece
    assert data.count(b"HTTP/1.1 200") == 3


def test_ports_in_use_are_refused(server):
    for ports in ({"grpc_port": server.grpc_port, "rest_port": 0},
                  {"grpc_port": 0, "rest_port": server.rest_port}):
        with pytest.raises(OSError):
            start_server(server.registry.base_path, "cartoonizer", host="127.0.0.1", **ports)


def test_stop_drains_in_flight_requests(server, rng):
    running = start_server(server.registry.base_path, "cartoonizer", grpc_port=0, rest_port=0,
                           host="127.0.0.1")
    run = running.predictor.run
    running.predictor.run = lambda *a: (time.sleep(1.5), run(*a))[1]
    channel = grpc.insecure_channel(f"127.0.0.1:{running.grpc_port}")
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    photo = random_photo(rng, 8, 8)
    results = {}
    calls = [threading.Thread(target=lambda: results.__setitem__("grpc", stub.Predict(
                 request(images=photo[None]), timeout=30))),
             threading.Thread(target=lambda: results.__setitem__("rest", rest(
                 running, "/v1/models/cartoonizer:predict", {"instances": [photo.tolist()]})))]
    for call in calls:
        call.start()
    time.sleep(0.5)
    try:
        assert running.stop(grace=10)
    finally:
        for call in calls:
            call.join(30)
        channel.close()
    assert tf.make_ndarray(results["grpc"].outputs["cartoons"]).shape == (1, 8, 8, 3)
    assert results["rest"][0] == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.rest_port), timeout=5).close()


def peak_rss_mb(pid):
    """The process's peak resident memory (VmHWM), in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_serve_command_survives_hostile_requests_and_sigterm(server, rng, tmp_path):
    """`cartoonize serve` as a process: quiet start-up, flat peak memory, SIGTERM exits 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cartoonize_tf.cli.main", "serve", "--model-base-path",
         str(server.registry.base_path), "--grpc-port", "0", "--rest-port", "0",
         "--grace-seconds", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": ""})
    try:
        line = process.stdout.readline()
        assert line.startswith("Serving"), line + process.stderr.read()[-2000:]
        grpc_port = int(line.split("gRPC on 127.0.0.1:")[1].split(",")[0])
        rest_port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        photo = random_photo(rng, 8, 8)
        stub.Predict(request(images=photo[None]), timeout=60)
        stub.Predict(request("serving_bytes", image_bytes=[png_bytes(photo)]), timeout=60)
        before = peak_rss_mb(process.pid)
        hostile = [amplification_request(),
                   request("serving_bytes", image_bytes=[png_claiming(100000, 100000)]),
                   request("serving_bytes", image_bytes=[png_claiming(16000, 16000)])]
        for message in hostile * 3:
            with pytest.raises(grpc.RpcError) as raised:
                stub.Predict(message, timeout=30)
            assert raised.value.code().name == "INVALID_ARGUMENT"
        target = type("Target", (), {"rest_port": rest_port})
        # Bound to 127.0.0.1, it answers only requests for it (a rebound name is refused).
        assert raw_http(target, post_head("Content-Length: 2"), b"{}")[0] == 403

        def loopback_head(length):
            return post_head(length).replace("Host: x", f"Host: 127.0.0.1:{rest_port}")

        assert raw_http(target, loopback_head("Content-Length: 1000000000000"), b"{}")[0] == 429
        assert raw_http(target, loopback_head("Content-Length: -1"), b"{}")[0] == 400
        assert stub.Predict(request(images=photo[None]), timeout=60).outputs["cartoons"]
        after = peak_rss_mb(process.pid)
        print(f"serve peak RSS: {before:.0f} MB before the hostile requests, {after:.0f} MB after")
        assert after - before < 100, (before, after)
        channel.close()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err[-2000:]
    assert "Stopped" in out
    assert "cuda" not in err.lower() and "absl" not in err, err[-2000:]


def test_a_tensor_must_carry_every_value_it_claims(rng):
    from cartoonize_tf.serving.core.errors import ServingError
    from cartoonize_tf.serving.core.limits import check_tensor_proto

    real = tf.make_tensor_proto(random_photo(rng, 8, 8)[None])
    check_tensor_proto("images", real, 64, 1 << 20)  # what clients send passes
    for proto, carried in ((claimed_tensor([1, 8, 8, 3], int_val=[7]), 1),
                           (claimed_tensor([3], types_pb2.DT_STRING, string_val=[b"a"]), 1)):
        with pytest.raises(ServingError, match=f"carries {carried}"):
            check_tensor_proto("images", proto, 64, 1 << 20)
    with pytest.raises(ServingError, match="all images of the request"):
        check_tensor_proto("images", tf.make_tensor_proto(np.zeros((2, 8, 8, 3), np.uint8)),
                           100, 1 << 20)


class SlowVersion:
    """A served version whose signature takes `seconds` per call and counts its calls."""

    version, max_pixels = 1, None

    def __init__(self, seconds):
        from tensorflow.core.protobuf import meta_graph_pb2

        self.seconds, self.calls = seconds, 0
        self.definition = meta_graph_pb2.SignatureDef()
        images = self.definition.inputs["images"]
        images.dtype = types_pb2.DT_UINT8
        for size in (-1, -1, -1, 3):
            images.tensor_shape.dim.add(size=size)

    def signature(self, name):
        def run(images):
            self.calls += 1
            time.sleep(self.seconds)
            return {"cartoons": images}

        return "serving_default", run, self.definition


def test_a_deadline_stops_a_batch_before_its_next_image():
    from cartoonize_tf.serving.core.errors import ServingError
    from cartoonize_tf.serving.core.prediction import Predictor

    predictor = Predictor(registry=None, workers=1)
    slow = SlowVersion(0.2)
    try:
        batch = np.zeros((20, 8, 8, 3), np.uint8)
        with pytest.raises(ServingError, match="deadline"):
            predictor.predict(slow, None, {"images": batch}, timeout=0.3)
        time.sleep(1.0)
        assert slow.calls <= 3  # not 20: the worker is free again
        version, _, outputs = predictor.predict(slow, None, {"images": batch[:3]}, timeout=10)
        assert outputs["cartoons"].shape == (3, 8, 8, 3)
    finally:
        predictor.shutdown()
