"""SavedModel, TFLite and ONNX exports against the in-memory model."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import png_bytes, random_photo
from PIL import Image

from cartoonize_tf.cli.main import main
from cartoonize_tf.export.onnx import convert_to_onnx
from cartoonize_tf.export.saved_model import WARMUP_FILE, export_saved_model
from cartoonize_tf.export.tflite import convert_to_tflite
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.inference.runtimes import ONNXCartoonizer, TFLiteCartoonizer
from cartoonize_tf.utils.quality import psnr


@pytest.fixture(scope="module")
def exported(small_generator, tmp_path_factory):
    base = tmp_path_factory.mktemp("saved") / "cartoonizer"
    return export_saved_model(small_generator, base, max_pixels=96 * 96)


@pytest.fixture(scope="module")
def loaded(exported):
    return tf.saved_model.load(str(exported))


def test_layout_for_tf_serving(exported):
    assert exported.name == "1"
    assert (exported / "saved_model.pb").is_file() and (exported / "variables").is_dir()
    assert (exported / WARMUP_FILE).is_file()
    assert not [p for p in exported.parent.iterdir() if p.name.startswith(".")]


def test_each_weight_is_stored_once(exported, small_generator):
    reader = tf.train.load_checkpoint(str(exported / "variables" / "variables"))
    stored = sum(int(np.prod(shape)) for name, shape in reader.get_variable_to_shape_map().items()
                 if name != "_CHECKPOINTABLE_OBJECT_GRAPH")
    assert stored == small_generator.count_params()


def test_next_export_gets_the_next_version(small_generator, exported):
    second = export_saved_model(small_generator, exported.parent)
    assert second.name == "2"
    with pytest.raises(FileExistsError):
        export_saved_model(small_generator, exported.parent, version=1)


@pytest.mark.parametrize("shape", [(37, 53), (8, 8), (5, 3)])
def test_images_signature_is_bit_exact(loaded, small_generator, rng, shape):
    photo = random_photo(rng, *shape)
    result = loaded.signatures["serving_default"](images=tf.constant(photo[None]))["cartoons"]
    expected = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(result.numpy()[0], expected)


def test_bytes_signature_takes_each_image_at_its_own_size(loaded, small_generator, rng):
    photos = [random_photo(rng, 24, 40), random_photo(rng, 17, 9)]
    result = loaded.signatures["serving_bytes"](
        image_bytes=tf.constant([png_bytes(p) for p in photos]))["cartoon_bytes"].numpy()
    reference = Cartoonizer.load(small_generator, size_policy="full", backend="tf")
    for photo, encoded in zip(photos, result, strict=True):
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(encoded))),
                                      reference.cartoonize(photo))


def test_oversize_and_undecodable_requests_are_invalid_arguments(loaded):
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 9216 pixels"):
        loaded.signatures["serving_default"](images=tf.zeros((1, 97, 96, 3), tf.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["serving_bytes"](image_bytes=tf.constant([b"not an image"]))


FRESH_PROCESS = """
import json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
photo = np.asarray(json.loads(sys.argv[2]), np.uint8)
out = model.signatures["serving_default"](images=tf.constant(photo[None]))["cartoons"]
print(json.dumps(out.numpy()[0].tolist()))
print("cartoonize_tf imported:", "cartoonize_tf" in sys.modules)
"""


def test_loads_in_a_fresh_process_with_tensorflow_alone(exported, small_generator, rng):
    photo = random_photo(rng, 12, 20)
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(exported),
                             json.dumps(photo.tolist())], capture_output=True, text=True,
                            timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "cartoonize_tf imported: False"
    expected = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(np.asarray(json.loads(lines[-2]), np.uint8), expected)


def test_saved_model_cli_lists_both_signatures(exported):
    cli = [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show", "--dir",
           str(exported), "--all"]
    result = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in ("signature_def['serving_default']", "inputs['images']", "DT_UINT8",
                 "(-1, -1, -1, 3)", "signature_def['serving_bytes']", "inputs['image_bytes']",
                 "outputs['cartoon_bytes']"):
        assert text in result.stdout


@pytest.mark.parametrize("quantization,least_db", [("float32", 50), ("float16", 40),
                                                   ("dynamic", 30), ("int8", 30)])
def test_tflite_fidelity_on_real_photos(small_generator, quantization, least_db):
    from skimage import data

    photos = [data.astronaut()[:64, 100:164], data.coffee()[100:164, :64]]
    calibration = [data.chelsea(), data.rocket(), data.hubble_deep_field()]
    model = convert_to_tflite(small_generator, quantization, input_size=(64, 64),
                              calibration_images=calibration)
    runner = TFLiteCartoonizer(model)
    reference = Cartoonizer.load(small_generator, size_policy="full", backend="tf")
    for photo in photos:
        assert psnr(runner.cartoonize(photo), reference.cartoonize(photo)) >= least_db


def test_dynamic_size_tflite_pads_like_the_keras_path(small_generator, rng):
    runner = TFLiteCartoonizer(convert_to_tflite(small_generator, "float32"))
    photo = random_photo(rng, 21, 30)
    cartoon = runner.cartoonize(photo)
    assert cartoon.shape == photo.shape
    reference = Cartoonizer.load(small_generator, size_policy="full", backend="tf")
    assert psnr(cartoon, reference.cartoonize(photo)) >= 50


def test_fixed_size_tflite_has_no_image_sized_constant(small_generator):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=convert_to_tflite(small_generator, "float32",
                                                              input_size=(96, 128)))
    sizes = [int(np.prod(d["shape"])) for d in interpreter.get_tensor_details()
             if d["name"].startswith(("Const", "arith.constant", "tfl.pseudo"))]
    weights = max(int(np.prod(w.shape)) for w in small_generator.weights)
    assert max(sizes) <= weights < 96 * 128


def test_onnx_matches_the_keras_path_at_any_size_and_batch(small_generator, rng):
    from skimage import data

    runner = ONNXCartoonizer(convert_to_onnx(small_generator))
    reference = Cartoonizer.load(small_generator, size_policy="full", backend="tf")
    for photo in (data.astronaut()[:64, 100:164], data.coffee()[100:141, :70],
                  random_photo(rng, 21, 30)):
        cartoon = runner.cartoonize(photo)
        assert cartoon.shape == photo.shape
        assert psnr(cartoon, reference.cartoonize(photo)) >= 50
    two = np.stack([random_photo(rng, 24, 32), random_photo(rng, 24, 32)])
    together = runner.session.run(None, {"images": two})[0]
    assert [psnr(together[i], reference.cartoonize(two[i])) >= 50 for i in (0, 1)] == [True] * 2


def test_fixed_size_onnx_refuses_other_sizes(small_generator):
    runner = ONNXCartoonizer(convert_to_onnx(small_generator, input_size=(32, 48)))
    assert runner.cartoonize(np.zeros((32, 48, 3), np.uint8)).shape == (32, 48, 3)
    with pytest.raises(ValueError, match=r"takes \(32, 48\) images"):
        runner.cartoonize(np.zeros((40, 48, 3), np.uint8))


def test_export_commands(tmp_path, small_generator, capsys):
    small_generator.save(tmp_path / "g.keras")
    assert main(["export", "--model", str(tmp_path / "g.keras"), "--output",
                 str(tmp_path / "base"), "--version", "7"]) == 0
    assert (tmp_path / "base" / "7" / "saved_model.pb").is_file()
    assert main(["export-tflite", "--model", str(tmp_path / "g.keras"), "--quantization",
                 "float16", "--input-size", "64x64", "--output", str(tmp_path / "m.tflite")]) == 0
    assert (tmp_path / "m.tflite").stat().st_size > 0
    assert main(["export-onnx", "--model", str(tmp_path / "g.keras"), "--output",
                 str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 0
    assert main(["export-tflite", "--model", str(tmp_path / "g.keras"), "--input-size",
                 "60x64"]) == 2
    assert "multiples of 8" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["export", "export-tflite", "export-onnx"])
def test_an_export_of_a_bad_model_exits_2_as_every_command(tmp_path, command, capsys):
    """Exit 2 when nothing could be written, as every other command: a model that cannot be
    read is one line, a missing one gets the help on getting one."""
    (tmp_path / "cut.keras").write_bytes(b"PK\x03\x04" + b"\0" * 64)
    assert main([command, "--model", str(tmp_path / "cut.keras"), "--output",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot load {tmp_path / 'cut.keras'} (")
    assert len(err.strip().splitlines()) == 1
    assert main([command, "--model", str(tmp_path / "none.keras"), "--output",
                 str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"error: No model at {tmp_path / 'none.keras'}")
    assert not (tmp_path / "out").exists()


def test_what_export_writes_cartoonize_runs(tmp_path, small_generator, rng, capsys):
    from PIL import Image

    small_generator.save(tmp_path / "g.keras")
    photo = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert main(["export-tflite", "--model", str(tmp_path / "g.keras"), "--output",
                 str(tmp_path / "m.tflite")]) == 0
    assert main(["export-onnx", "--model", str(tmp_path / "g.keras"), "--output",
                 str(tmp_path / "m.onnx")]) == 0
    assert main(["run", "--input", str(tmp_path / "photo.png"), "--model",
                 str(tmp_path / "g.keras"), "--resize", "full", "--output-dir",
                 str(tmp_path / "keras"), "--backend", "tf", "--no-progress"]) == 0
    expected = np.asarray(Image.open(tmp_path / "keras" / "photo.png"), np.int16)
    for exported in ("m.tflite", "m.onnx"):
        out = tmp_path / exported.replace(".", "_")
        assert main(["run", "--input", str(tmp_path / "photo.png"), "--model",
                     str(tmp_path / exported), "--resize", "full", "--output-dir", str(out),
                     "--no-progress"]) == 0
        cartoon = np.asarray(Image.open(out / "photo.png"), np.int16)
        assert np.abs(cartoon - expected).max() <= 2, exported
    assert main(["run", "--input", str(tmp_path / "photo.png"), "--model",
                 str(tmp_path / "m.onnx"), "--backend", "tf", "--output-dir",
                 str(tmp_path / "refused"), "--no-progress"]) == 2
    assert "leave --backend out" in capsys.readouterr().err


def test_the_bytes_signature_decodes_jpegs_as_the_command_line_does(tmp_path, rng):
    from cartoonize_tf.export.signatures import decode_rgb
    from cartoonize_tf.utils.image_io import read_image

    photo = random_photo(rng, 48, 64)
    for name, options in (("baseline.jpg", {}), ("progressive.jpg", {"progressive": True}),
                          ("lossless.png", {})):
        Image.fromarray(photo).save(tmp_path / name, **options)
        decoded = decode_rgb(tf.constant((tmp_path / name).read_bytes())).numpy()
        np.testing.assert_array_equal(decoded, read_image(tmp_path / name), err_msg=name)
