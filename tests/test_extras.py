"""Optional extras: each command whose packages are missing says which extra to install."""

import configparser
from pathlib import Path

import pytest

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
