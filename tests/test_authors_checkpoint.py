import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from cartoonize_tf.cli.main import main
from cartoonize_tf.models.authors_checkpoint import (
    CheckpointMismatchError,
    expected_variables,
    generator_variables_in_checkpoint,
    load_authors_checkpoint,
    resolve_checkpoint_prefix,
)
from cartoonize_tf.models.generator import UNetGenerator


def default_expected():
    generator = UNetGenerator()
    return expected_variables(generator)


def write_tf1_checkpoint(prefix, variables):
    """Writes `{name: array}` as a V2 checkpoint with these exact (TF1-style) names."""
    names = sorted(variables)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(variables[n]) for n in names])
    return str(prefix)


def random_variables(rng, shapes):
    return {name: rng.normal(0, 0.1, shape).astype(np.float32) for name, shape in shapes.items()}


def test_name_mapping_matches_the_published_checkpoint_index(reference_dir):
    prefix = reference_dir / "authors_checkpoint_index" / "model-33999"
    assert generator_variables_in_checkpoint(str(prefix)) == default_expected()


def test_name_mapping_matches_the_variable_list(reference_dir):
    listed = json.loads((reference_dir / "authors_checkpoint_index" / "variables.json").read_text())
    assert {v["name"]: tuple(v["shape"]) for v in listed} == default_expected()
    assert {v["dtype"] for v in listed} == {"float32"}


def test_loads_every_weight_into_its_layer(tmp_path, rng):
    variables = random_variables(rng, default_expected())
    prefix = write_tf1_checkpoint(tmp_path / "model-7", variables)
    generator = load_authors_checkpoint(prefix)
    assert generator.channel_order == "bgr"
    np.testing.assert_array_equal(generator.plain_convs[3].kernel,
                                  variables["generator/Conv_3/weights"])
    np.testing.assert_array_equal(generator.blocks[2].conv2.bias,
                                  variables["generator/block_2/conv2/biases"])


def test_ignores_other_scopes_and_optimizer_slots(tmp_path, rng):
    variables = random_variables(rng, default_expected())
    kernel = variables["generator/Conv/weights"]
    variables["generator/Conv/weights/Adam"] = np.ones_like(kernel)
    variables["discriminator/Conv/weights"] = np.zeros_like(kernel)
    generator = load_authors_checkpoint(write_tf1_checkpoint(tmp_path / "model-8", variables))
    np.testing.assert_array_equal(generator.plain_convs[0].kernel, kernel)


def test_accepts_a_folder_or_index_file(tmp_path, rng):
    prefix = write_tf1_checkpoint(tmp_path / "model-9", random_variables(rng, default_expected()))
    assert resolve_checkpoint_prefix(tmp_path) == prefix
    assert resolve_checkpoint_prefix(f"{prefix}.index") == prefix


def test_missing_folder_says_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        resolve_checkpoint_prefix(tmp_path)


@pytest.mark.parametrize("damage,words", [
    ("drop", ["missing: generator/block_1/conv2/biases"]),
    ("reshape", ["mis-shaped: generator/Conv_4/weights", "[3, 3, 64, 99]"]),
    ("add", ["unexpected: generator/Conv_10/weights"]),
])
def test_mismatches_are_named(tmp_path, rng, capsys, damage, words):
    variables = random_variables(rng, default_expected())
    if damage == "drop":
        del variables["generator/block_1/conv2/biases"]
    elif damage == "reshape":
        variables["generator/Conv_4/weights"] = np.zeros((3, 3, 64, 99), np.float32)
    else:
        variables["generator/Conv_10/weights"] = np.zeros((3, 3, 3, 3), np.float32)
    prefix = write_tf1_checkpoint(tmp_path / "model-1", variables)
    with pytest.raises(CheckpointMismatchError) as raised:
        load_authors_checkpoint(prefix)
    for word in words:
        assert word in str(raised.value)
    assert main(["convert-checkpoint", prefix, str(tmp_path / "out.keras")]) == 2
    assert words[0] in capsys.readouterr().err
    assert not (tmp_path / "out.keras").exists()


def test_convert_command_writes_a_loadable_model(tmp_path, rng, capsys):
    variables = random_variables(rng, default_expected())
    prefix = write_tf1_checkpoint(tmp_path / "model-2", variables)
    assert main(["convert-checkpoint", prefix, str(tmp_path / "g.keras")]) == 0
    assert "1,467,075 parameters" in capsys.readouterr().out
    converted = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_array_equal(converted.plain_convs[9].kernel,
                                  variables["generator/Conv_9/weights"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
