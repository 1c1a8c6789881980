"""The look signatures of an exported cartoonizer, served: optional controls over gRPC and REST,
the model's own look when none is given, each range refused with TF Serving's codes."""

import base64
import io
import json
import subprocess
import sys
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from helpers import (
    HIGH_ENDS,
    LOW_ENDS,
    PROJECT_ROOT,
    SHIPPED_STAGE,
    png_bytes,
    prediction_stub,
    served,
)
from helpers import predict_request as request
from PIL import Image
from skimage import data
from tensorflow.core.protobuf import saved_model_pb2

from cartoonize_tf.contract.signatures import (
    LOOK_BYTES_SIGNATURE,
    LOOK_IMAGES_SIGNATURE,
    LOOK_SIGNATURES,
    SIGNATURE_INPUTS,
)
from cartoonize_tf.export.saved_model import export_saved_model
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.layers.cel_shading import CelShading
from cartoonize_tf.serving.core import prediction
from cartoonize_tf.whitebox.look import setting_values, stage_controls


@pytest.fixture(scope="module")
def shaded(shaded_generator):
    return shaded_generator


@pytest.fixture(scope="module")
def server(shaded, tmp_path_factory):
    with served(shaded, tmp_path_factory.mktemp("look_serving"), 512 * 512,
                poll_seconds=0.2) as running:
        yield running


@pytest.fixture(scope="module")
def stub(server):
    with prediction_stub(server) as stub:
        yield stub


@pytest.fixture(scope="module")
def photo():
    return data.astronaut()[40:136, 150:246]


def rest(server, body):
    call = urllib.request.Request(
        f"http://127.0.0.1:{server.rest_port}/v1/models/cartoonizer:predict",
        json.dumps(body).encode())
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def scalars(look):
    return {name: np.float32(value) for name, value in look.items()}


def cartoons(stub, photo, look):
    response = stub.Predict(request(LOOK_IMAGES_SIGNATURE, images=photo[None], **scalars(look)),
                            timeout=60)
    return tf.make_ndarray(response.outputs["cartoons"])[0]


def test_the_stage_draws_any_look_from_call_settings(photo):
    """One graph, the look given per call, draws what a stage built with that look draws."""
    from cartoonize_tf.contract.look import check_look
    from cartoonize_tf.whitebox.look import stage_settings

    image = tf.constant(photo[None].astype(np.float32) / 127.5 - 1)
    for base in (SHIPPED_STAGE, {}):  # with its own flattening, and with none to turn on
        stage = CelShading(**base)
        own = stage_controls(stage.get_config())
        for ends in (LOW_ENDS, HIGH_ENDS, {"tones": 5, "line_width": 3, "flatness": 7.0}):
            look = check_look(ends)
            settings = {name: tf.constant(value, tf.float32)
                        for name, value in setting_values({**own, **look}).items()}
            np.testing.assert_array_equal(
                stage(image, settings=settings, photo=image).numpy(),
                CelShading(**stage_settings(base, look))(image, photo=image).numpy())
    with pytest.raises(ValueError, match="settings a call can give"):
        CelShading()(image, settings={"edge_radius": tf.constant(2.0)})


def test_the_signatures_default_to_the_models_own_look(shaded, tmp_path):
    folder = export_saved_model(shaded, tmp_path / "saved", 1)
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((folder / "saved_model.pb").read_bytes())
    own = stage_controls(shaded.cel_shading_layer.get_config())
    assert own == {"tones": 0, "flatness": 5.0, "lines": 1.0, "line_width": 1, "colour": 1.0}
    for name in LOOK_SIGNATURES:
        defaults = proto.meta_graphs[0].signature_def[name].defaults
        assert {key: float(tf.make_ndarray(value)) for key, value in defaults.items()} == own
        assert set(proto.meta_graphs[0].signature_def[name].inputs) == set(
            SIGNATURE_INPUTS[name])


def test_the_rewritten_model_loads_and_its_fingerprint_is_its_own(shaded, tmp_path):
    """Writing the defaults rewrites saved_model.pb; its fingerprint is written anew, so it is
    the one TensorFlow computes for the file as it now is."""
    from tensorflow.core.protobuf import fingerprint_pb2
    from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting

    folder = export_saved_model(shaded, tmp_path / "saved", 1)
    loaded = tf.saved_model.load(str(folder))
    assert set(LOOK_SIGNATURES) <= set(loaded.signatures)
    written = tf.saved_model.experimental.read_fingerprint(str(folder))
    recomputed = fingerprint_pb2.FingerprintDef.FromString(
        fingerprinting.CreateFingerprintDef(str(folder)))
    assert (written.saved_model_checksum, written.signature_def_hash) == (
        recomputed.saved_model_checksum, recomputed.signature_def_hash)


def test_a_model_without_the_stage_has_no_look_signatures(small_generator, tmp_path):
    folder = export_saved_model(small_generator, tmp_path / "saved", 1)
    assert LOOK_IMAGES_SIGNATURE not in tf.saved_model.load(str(folder)).signatures


def test_no_controls_draw_exactly_the_default_signatures_picture(stub, server, photo):
    own = tf.make_ndarray(stub.Predict(request(images=photo[None]), timeout=60)
                          .outputs["cartoons"])[0]
    np.testing.assert_array_equal(cartoons(stub, photo, {}), own)
    status, body = rest(server, {"signature_name": LOOK_BYTES_SIGNATURE, "inputs": {
        "image_bytes": [{"b64": base64.b64encode(png_bytes(photo)).decode()}]}})
    assert status == 200
    np.testing.assert_array_equal(decoded(body["outputs"][0]), own)


def decoded(answer):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["b64"]))).convert("RGB"))


@pytest.mark.parametrize("ends", [LOW_ENDS, HIGH_ENDS], ids=["low ends", "high ends"])
def test_each_end_of_each_range_is_drawn_as_the_library_draws_it(stub, server, shaded, photo,
                                                                  ends):
    expected = Cartoonizer.load(shaded, backend="tf", look=ends).cartoonize(photo)
    assert np.abs(expected.astype(int) - cartoons(stub, photo, {}).astype(int)).max() > 30
    served_look = cartoons(stub, photo, ends)
    assert np.abs(served_look.astype(int) - expected).max() <= 1
    status, body = rest(server, {"signature_name": LOOK_BYTES_SIGNATURE, "inputs": {
        "image_bytes": [{"b64": base64.b64encode(png_bytes(photo)).decode()}], **ends}})
    assert status == 200, body
    np.testing.assert_array_equal(decoded(body["outputs"][0]), served_look)


@pytest.mark.parametrize("look, message", [
    ({"lines": 3.5}, "lines must be a number from 0 to 3, got 3.5"),
    ({"tones": 1}, "tones must be a whole number from 0 to 16 other than 1, got 1"),
    ({"line_width": 2.5}, "line_width must be a whole number from 1 to 4, got 2.5"),
    ({"colour": -0.5}, "colour must be a number from 0 to 2, got -0.5"),
])
def test_bad_values_are_invalid_argument_naming_the_range(stub, server, photo, look, message):
    with pytest.raises(grpc.RpcError) as refused:
        cartoons(stub, photo, look)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in refused.value.details()
    status, body = rest(server, {"signature_name": LOOK_BYTES_SIGNATURE, "inputs": {
        "image_bytes": [{"b64": base64.b64encode(png_bytes(photo)).decode()}], **look}})
    assert status == 400 and message in body["error"]
    assert cartoons(stub, photo, {"lines": 2}).shape == photo.shape  # still serving


def test_a_control_out_of_range_is_refused_before_any_work(stub, server, photo, monkeypatch):
    """Issue 43: with a 4K image the graph's assertion came after an 11 s run."""
    runs = []
    monkeypatch.setattr(server.predictor, "run", lambda *a: runs.append(a))
    with pytest.raises(grpc.RpcError) as refused:
        cartoons(stub, photo, {"lines": float("nan")})
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "lines must be a number from 0 to 3, got nan" in refused.value.details()
    assert runs == []


@pytest.mark.parametrize("inputs, message", [
    ({"outline": 1}, "unknown input outline"),
    ({"lines": [1, 2]}, "input lines must have rank 0"),
    ({"lines": "dark"}, "input lines must hold float32 numbers"),
])
def test_malformed_controls_are_refused(server, photo, inputs, message):
    status, body = rest(server, {"signature_name": LOOK_BYTES_SIGNATURE, "inputs": {
        "image_bytes": [{"b64": base64.b64encode(png_bytes(photo)).decode()}], **inputs}})
    assert status == 400 and message in body["error"]


def test_large_images_with_a_look_run_tile_by_tile(stub, monkeypatch):
    photo = data.astronaut()[:, :320]
    look = {"lines": 2.0, "colour": 0.5}
    whole = cartoons(stub, photo, look)
    runs = []
    real_run = prediction.run_signature
    monkeypatch.setattr(prediction, "run_signature",
                        lambda function, inputs: runs.append(inputs) or real_run(function, inputs))
    monkeypatch.setattr(prediction, "SERVING_TILE", 256)
    tiled = cartoons(stub, photo, look)
    assert len(runs) > 1 and all(float(tile["lines"]) == 2.0 for tile in runs)
    assert np.abs(tiled.astype(int) - whole).max() <= 2


def test_the_clients_ask_for_a_look(server, stub, photo, tmp_path):
    photo_path = tmp_path / "photo.png"
    Image.fromarray(photo).save(photo_path)
    expected = cartoons(stub, photo, {"lines": 3.0, "colour": 0.0})
    for script, address in (("grpc_client.py", f"127.0.0.1:{server.grpc_port}"),
                            ("rest_client.py", f"http://127.0.0.1:{server.rest_port}")):
        out = tmp_path / script
        run = [sys.executable, str(PROJECT_ROOT / "serving" / script), str(photo_path),
               "--server", address, "--output-dir", str(out), "--look", "lines=3"]
        result = subprocess.run([*run, "--look", "colour=0"], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        np.testing.assert_array_equal(np.asarray(Image.open(out / "photo.png")), expected)
    refused = subprocess.run([*run, "--look", "outline=1"], capture_output=True, text=True,
                             timeout=300)  # the REST client's: the server names the input
    assert refused.returncode == 1 and "unknown input outline" in refused.stderr
