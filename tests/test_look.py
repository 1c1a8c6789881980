"""The look controls: ranges, the model's own look kept exactly, each end honoured everywhere."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import FLAT_TONES, HIGH_ENDS, LOW_ENDS, SHIPPED_STAGE
from skimage import data

from cartoonize_tf.cli.main import main
from cartoonize_tf.contract.look import CONTROLS, PRESETS, check_look
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.inference.opening import generator_with_look
from cartoonize_tf.layers.cel_shading import CelShading, luminance
from cartoonize_tf.models.loading import generator_copy
from cartoonize_tf.utils.quality import psnr
from cartoonize_tf.whitebox.look import stage_settings


@pytest.fixture(scope="module")
def shaded(shaded_generator):
    return shaded_generator


@pytest.fixture(scope="module")
def photo():
    return data.astronaut()[:96, 120:248]


def test_every_control_at_the_shipped_models_value_changes_nothing():
    defaults = {name: control.default for name, control in CONTROLS.items()}
    assert stage_settings(SHIPPED_STAGE, check_look(defaults)) == {
        **SHIPPED_STAGE, "line_strength": 1.0, "line_width": 1, "saturation": 1.0}
    looked = CelShading(**stage_settings(SHIPPED_STAGE, check_look(defaults)), name="stage")
    assert looked.get_config() == CelShading(**SHIPPED_STAGE, name="stage").get_config()


def test_no_look_and_the_default_preset_give_the_models_own_pictures(shaded, photo):
    own = Cartoonizer.load(shaded, backend="tf").cartoonize(photo)
    for look in ({}, "default", {name: c.default for name, c in CONTROLS.items()}):
        np.testing.assert_array_equal(Cartoonizer.load(shaded, backend="tf", look=look)
                                      .cartoonize(photo), own)


@pytest.mark.parametrize("look, message", [
    ({"lines": 3.5}, "lines must be a number from 0 to 3"),
    ({"tones": 1}, "tones must be a whole number from 0 to 16 other than 1, got 1"),
    ({"tones": 2.5}, "tones must be a whole number from 0 to 16"),
    ({"line_width": 0}, "line_width must be a whole number from 1 to 4"),
    ({"colour": -0.1}, "colour must be a number from 0 to 2"),
    ({"flatness": "high"}, "flatness must be a number"),
    ({"outline": 1}, "unknown look control 'outline'"),
])
def test_bad_values_name_the_range(look, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_look(look)


def test_presets_are_in_range_and_overridden_by_controls():
    for name in PRESETS:
        check_look(None, preset=name)
    assert check_look({"lines": 0}, preset="bold")["lines"] == 0.0
    with pytest.raises(ValueError, match="preset must be one of soft, default, bold"):
        check_look(None, preset="loud")


def grey_of(image):
    """Luminance (0..100) of the first image of a float batch in [-1, 1]."""
    return luminance(tf.constant(image)).numpy()[0, ..., 0]


def grey(picture):
    """Luminance (0..100) of a uint8 picture."""
    return grey_of(picture[None].astype(np.float32) / 127.5 - 1)


def test_each_control_does_what_it_says(shaded, photo):
    def cartoon(**look):
        return Cartoonizer.load(shaded, backend="tf", look=look).cartoonize(photo)

    plain = cartoon()
    # lines: 0 draws none (the same as a stage whose threshold no edge reaches), 3 darker.
    unlined = Cartoonizer.load(generator_copy(shaded, cel_shading={**SHIPPED_STAGE,
                                                              "ink_depth": 1e3}),
                          backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(cartoon(lines=0), unlined)
    # On the lines (the photo's grey is kept around them, so the image's mean hardly moves).
    on_lines = (grey(unlined) - grey(plain)) > 5
    assert on_lines.sum() >= 10
    assert (grey(cartoon(lines=3))[on_lines].mean() < grey(plain)[on_lines].mean()
            < grey(unlined)[on_lines].mean())
    # line_width: wider lines darken more pixels.
    darker = (grey(unlined) - grey(cartoon(line_width=4))) > 10
    assert darker.sum() > 1.5 * ((grey(unlined) - grey(plain)) > 10).sum()
    # colour: 0 is grey, 2 is more saturated than the model's.
    greyed = cartoon(colour=0).astype(int)
    assert np.abs(greyed - greyed.mean(axis=-1, keepdims=True)).max() <= 1
    spread = [np.abs(p.astype(int) - p.mean(axis=-1, keepdims=True)).mean()
              for p in (plain, cartoon(colour=2))]
    assert spread[1] > 1.5 * spread[0]
    # flatness: 0 keeps the model's shading (more grey levels), 12 flattens more.
    levels = [len(np.unique(grey(cartoon(flatness=f)).round())) for f in (0, 12)]
    assert levels[0] > levels[1]
    # tones: 2 bands turn a steep ramp (the small net's output has none) into fewer levels.
    ramp = np.broadcast_to(np.linspace(-0.8, 0.8, 96, dtype=np.float32)[None, None, :, None],
                           (1, 16, 96, 3)).copy()

    def ramp_levels(**look):
        stage = CelShading(**stage_settings(FLAT_TONES, check_look({"lines": 0, **look})))
        return len(np.unique(grey_of(stage(ramp).numpy())[8].round()))

    assert ramp_levels(tones=2) < ramp_levels() / 2


# The low ends are a slow test (8 s on Zen 4): the high ends run every format by default.
@pytest.mark.parametrize("ends", [pytest.param(LOW_ENDS, marks=pytest.mark.slow), HIGH_ENDS],
                         ids=["low ends", "high ends"])
def test_every_export_format_draws_the_look(shaded, photo, ends, tmp_path):
    from cartoonize_tf.export.onnx import convert_to_onnx
    from cartoonize_tf.export.saved_model import export_saved_model
    from cartoonize_tf.export.tflite import convert_to_tflite
    from cartoonize_tf.inference.runtimes import ONNXCartoonizer, TFLiteCartoonizer
    from cartoonize_tf.inference.saved_model_runner import SavedModelCartoonizer

    looked = generator_with_look(shaded, ends)
    reference = Cartoonizer.load(looked, backend="tf").cartoonize(photo)
    assert psnr(reference, Cartoonizer.load(shaded, backend="tf").cartoonize(photo)) < 30
    folder = export_saved_model(looked, tmp_path / "saved", 1)
    runners = {"SavedModel": SavedModelCartoonizer(folder),
               "TFLite": TFLiteCartoonizer(convert_to_tflite(looked, "float32")),
               "ONNX": ONNXCartoonizer(convert_to_onnx(looked))}
    for name, runner in runners.items():
        assert psnr(runner.cartoonize(photo), reference) >= 45, name


def test_the_command_line_takes_the_look_and_refuses_bad_values(shaded, tmp_path, capsys):
    from skimage.io import imsave

    model = tmp_path / "shaded.keras"
    shaded.save(model)
    (tmp_path / "in").mkdir()
    imsave(tmp_path / "in" / "a.png", data.astronaut()[:64, :64])
    common = ["run", "--model", str(model), "--input", str(tmp_path / "in"), "--backend", "tf"]
    assert main([*common, "--output", str(tmp_path / "bold"), "--preset", "bold"]) == 0
    assert main([*common, "--output", str(tmp_path / "own")]) == 0
    bold, own = (tf.io.decode_png(tf.io.read_file(str(tmp_path / f / "a.png"))).numpy()
                 for f in ("bold", "own"))
    assert np.any(bold != own)
    assert main([*common, "--output", str(tmp_path / "bad"), "--lines", "4"]) == 2
    assert "--lines must be a number from 0 to 3, got 4.0" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())
    assert main([*common, "--output", str(tmp_path / "filter"), "--method", "filter",
                 "--preset", "soft"]) == 2
    assert "--method filter draws with the white-box renderer" in capsys.readouterr().err


def test_an_exported_model_refuses_the_look(shaded, tmp_path):
    from cartoonize_tf.export.tflite import convert_to_tflite

    path = tmp_path / "m.tflite"
    path.write_bytes(convert_to_tflite(shaded, "float32"))
    with pytest.raises(ValueError, match="leave the look options"):
        Cartoonizer.load(path, look="bold")


def test_a_saved_model_draws_the_look_through_its_look_signature(shaded, small_generator,
                                                                  photo, tmp_path):
    from cartoonize_tf.export.saved_model import export_saved_model

    folder = export_saved_model(shaded, tmp_path / "shaded", 1)
    for look in ("bold", {"lines": 0, "tones": 4}):
        expected = Cartoonizer.load(shaded, backend="tf", look=look).cartoonize(photo)
        drawn = Cartoonizer.load(folder, look=look).cartoonize(photo)
        assert np.abs(drawn.astype(int) - expected).max() <= 1
    np.testing.assert_array_equal(Cartoonizer.load(folder, look={}).cartoonize(photo),
                                  Cartoonizer.load(folder).cartoonize(photo))
    with pytest.raises(ValueError, match="lines must be a number from 0 to 3"):
        Cartoonizer.load(folder, look={"lines": 9})
    unshaded = export_saved_model(small_generator, tmp_path / "plain", 1)
    with pytest.raises(ValueError, match="has no serving_look signature"):
        Cartoonizer.load(unshaded, look="bold")


SIXTH_CONTROL = r"""
import numpy as np
from cartoonize_tf.contract import look
from cartoonize_tf.whitebox import look as stage_look

# A control is added in the contract, and mapped to a setting the stage takes per call.
look.CONTROLS["threshold"] = look.Control("threshold", 0.0, 1.0, 0.5, "outline strength")
stage_look.CONTROL_SETTINGS["threshold"] = "line_strength"

import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from cartoonize_tf.cli.main import build_parser
from cartoonize_tf.contract.signatures import LOOK_BYTES_SIGNATURE, SIGNATURE_INPUTS
from cartoonize_tf.export.look_signatures import CONTROL_SPECS
from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.prediction import check_look_controls
from cartoonize_tf.serving.rest.web_page import look_config

reached = []
if "threshold" in SIGNATURE_INPUTS[LOOK_BYTES_SIGNATURE] and \
        "threshold" in [spec.name for spec in CONTROL_SPECS]:
    reached.append("signatures")
if build_parser().parse_args(["run", "--threshold", "0.3"]).threshold == 0.3:
    reached.append("cli")
from cartoonize_tf.layers.cel_shading import CelShading

settings = stage_look.setting_values({"threshold": tf.constant(0.3)})
if list(settings) == ["line_strength"] and CelShading()(
        tf.zeros([1, 16, 16, 3]), settings=settings).shape == (1, 16, 16, 3):
    reached.append("layer")
signature = meta_graph_pb2.SignatureDef()
signature.inputs["threshold"].dtype = tf.float32.as_datatype_enum
signature.defaults["threshold"].CopyFrom(tf.make_tensor_proto(0.5, tf.float32))
try:
    check_look_controls({"threshold": np.float32(2.0)}, signature)
except ServingError as error:
    if "threshold must be a number from 0 to 1" in error.message:
        reached.append("server")
config = look_config({LOOK_BYTES_SIGNATURE: signature})
if "threshold" in [control["name"] for control in config["controls"]]:
    reached.append("page")
print(" ".join(reached))
"""


def test_a_control_added_to_the_contract_reaches_every_consumer():
    """Issue 44: a sixth look control, added in the contract and mapped to a setting the cel
    stage takes per call (a new setting would need the layer's code too), reaches the
    signatures, the command line, the stage, the server and the page."""
    import subprocess
    import sys

    from helpers import PROJECT_ROOT

    result = subprocess.run([sys.executable, "-c", SIXTH_CONTROL], capture_output=True,
                            text=True, cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["signatures", "cli", "layer", "server", "page"]
