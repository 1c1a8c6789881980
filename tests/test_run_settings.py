"""`RunSettings`: the command line's options become one object both backends read."""

import json

import pytest

from cartoonize_tf.cli.main import build_parser
from cartoonize_tf.training.settings import RunSettings


def settings_of(*argv):
    return RunSettings.from_options(build_parser().parse_args(list(argv)))


def test_pretrain_options_become_settings():
    settings = settings_of("pretrain", "--data-dir", "d", "--paired", "--edge-weight", "2",
                           "--no-progress", "--steps", "7")
    assert (settings.command, settings.steps, settings.edge_weight) == ("pretrain", 7, 2.0)
    assert settings.sides == ("photo", "cartoon")
    assert settings.progress is False
    assert settings.name == "pretraining"


def test_train_options_become_settings_with_their_loss_weights():
    settings = settings_of("train", "--data-dir", "d", "--loss-weight", "teacher=1",
                           "--vgg-weights", "pixels")
    assert settings.command == "train"
    assert settings.loss_weights == {"teacher": 1.0}
    assert settings.sides == ("photo", "cartoon", "teacher")
    assert settings_of("train", "--data-dir", "d").sides == ("photo", "cartoon")


def test_settings_are_written_as_json(tmp_path):
    settings = settings_of("train", "--data-dir", "d", "--loss-weight", "content=3")
    settings.write(tmp_path / "settings.json")
    record = json.loads((tmp_path / "settings.json").read_text())
    assert record["command"] == "train"
    assert record["loss_weights"] == {"content": 3.0}
    assert record["data_dir"] == "d"


def test_an_unknown_command_is_refused():
    with pytest.raises(ValueError, match="command must be one of"):
        RunSettings(command="finetune", data_dir="d", output_dir="o", steps=1)
