"""Optional extras: each command whose packages are missing says which extra to install."""

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import random_photo
from PIL import Image

from cartoonize_tf.cli.main import main
from cartoonize_tf.utils import extras

ROOT = Path(__file__).resolve().parents[1]


def test_every_extra_the_code_names_is_declared_in_setup_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = set(config["options.extras_require"])
    assert set(extras.EXTRA_MODULES) <= declared
    core = config["options"]["install_requires"]
    for heavy in ("tensorflow-serving-api", "aiohttp", "tf2onnx", "onnxruntime", "av>="):
        assert heavy not in core  # the core stays small


@pytest.mark.parametrize("command, extra", [
    (["serve"], "serve"),
    (["export-onnx", "--output", "x.onnx"], "export"),
    (["video", __file__, "out.mp4"], "video"),
])
def test_a_command_without_its_extra_names_the_install(command, extra, monkeypatch, capsys,
                                                       tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(extras.EXTRA_MODULES, extra, ("a_module_that_is_not_installed",))
    assert main(command) == 2
    error = capsys.readouterr().err
    assert f'pip install "cartoonize_tf[{extra}]"' in error
    assert "a_module_that_is_not_installed" in error and "Traceback" not in error


def cartoonize_without(extra, argv, tmp_path):
    """`cartoonize ARGV` in a fresh process where the modules of `extra` cannot be imported, as
    on an install without it (and with an empty conversion cache)."""
    code = (f"import sys; sys.modules.update(dict.fromkeys({extras.EXTRA_MODULES[extra]!r})); "
            f"from cartoonize_tf.cli.main import main; sys.exit(main({list(map(str, argv))!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path,
                          env={**os.environ, "CARTOONIZE_TF_CACHE": str(tmp_path / "cache")})


def test_the_onnx_backend_without_its_extra_is_one_line_and_exit_2(tmp_path, small_generator,
                                                                    rng):
    """tf2onnx is not imported before the extra is checked: no traceback, the README's line."""
    small_generator.save(tmp_path / "g.keras")
    Image.fromarray(random_photo(rng, 16, 24)).save(tmp_path / "photo.png")
    result = cartoonize_without("export", ["run", "--input", "photo.png", "--model", "g.keras",
                                           "--backend", "onnx", "--no-progress"], tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("error: the onnx backend needs the optional 'export' extra")
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "cache").exists()


def test_an_onnx_file_without_the_extra_names_it_not_a_broken_model(tmp_path, monkeypatch):
    from cartoonize_tf.inference.cartoonizer import Cartoonizer

    (tmp_path / "m.onnx").write_bytes(b"an ONNX file")
    monkeypatch.setitem(extras.EXTRA_MODULES, "export", ("a_module_that_is_not_installed",))
    with pytest.raises(extras.MissingExtra, match=r"cartoonize_tf\[export\]"):
        Cartoonizer.load(tmp_path / "m.onnx")


def test_the_core_install_exports_and_runs_tflite_files(tmp_path, small_generator, rng):
    """TFLite needs TensorFlow's converter and LiteRT's interpreter (ai-edge-litert), both in
    the core: neither export-tflite nor a .tflite --model asks for [export]."""
    small_generator.save(tmp_path / "g.keras")
    Image.fromarray(random_photo(rng, 16, 24)).save(tmp_path / "photo.png")
    exported = cartoonize_without("export", ["export-tflite", "--model", "g.keras",
                                             "--quantization", "float32", "--output",
                                             "m.tflite"], tmp_path)
    assert exported.returncode == 0, exported.stderr[-2000:]
    ran = cartoonize_without("export", ["run", "--input", "photo.png", "--model", "m.tflite",
                                        "--output-dir", "out", "--no-progress"], tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert (tmp_path / "out" / "photo.png").is_file()
