"""Loads the authors' TF1 generator checkpoint into a `UNetGenerator`.

The authors' code (TF1, `tf.contrib.slim`) saved the generator's variables
under `generator/`: the ten plain convolutions as `Conv`, `Conv_1` .. `Conv_9`
in call order and the residual blocks as `block_{i}/conv1`, `block_{i}/conv2`,
each with `weights` (HWIO) and `biases`. Reading needs only TensorFlow's
checkpoint reader, no TF1 graph.
"""

import os
from pathlib import Path

import tensorflow as tf

from cartoonize_tf.models.generator import UNetGenerator

SCOPE = "generator"
# Their training checkpoints also hold optimiser slots next to each variable.
OPTIMIZER_SLOT_SUFFIXES = ("/Adam", "/Adam_1")


class CheckpointMismatchError(ValueError):
    """The checkpoint's generator variables do not match the expected architecture."""


def resolve_checkpoint_prefix(path):
    """Returns the checkpoint prefix for a prefix, an `.index` file or a directory."""
    path = Path(path)
    if path.is_dir():
        prefix = tf.train.latest_checkpoint(str(path))
        if prefix is None:
            indexes = sorted(path.glob("*.index"), key=os.path.getmtime)
            if not indexes:
                raise FileNotFoundError(
                    f"No TF1 checkpoint in {path}: expected a 'checkpoint' file or "
                    "'<name>.index' with '<name>.data-00000-of-00001' beside it.")
            prefix = str(indexes[-1])[: -len(".index")]
        return prefix
    if path.suffix == ".index" or path.name.endswith(".data-00000-of-00001"):
        return str(path).split(".index")[0].split(".data-")[0]
    if Path(f"{path}.index").exists():
        return str(path)
    raise FileNotFoundError(
        f"No TF1 checkpoint at {path}: give the directory holding 'checkpoint', or a prefix "
        "such as 'saved_models/model-33999' (the part before '.index').")


def authors_variable_layers(generator):
    """Maps each authors' variable scope (without `generator/`) to its Keras Conv2D."""
    layers = {}
    for index, conv in enumerate(generator.plain_convs):
        layers["Conv" if index == 0 else f"Conv_{index}"] = conv
    for index, block in enumerate(generator.blocks):
        layers[f"block_{index}/conv1"] = block.conv1
        layers[f"block_{index}/conv2"] = block.conv2
    return layers


def expected_variables(generator):
    """`{authors' variable name: shape}` for a built generator."""
    expected = {}
    for scope, conv in authors_variable_layers(generator).items():
        expected[f"{SCOPE}/{scope}/weights"] = tuple(conv.kernel.shape)
        expected[f"{SCOPE}/{scope}/biases"] = tuple(conv.bias.shape)
    return expected


def generator_variables_in_checkpoint(prefix):
    """`{name: shape}` of the checkpoint's generator variables, optimiser slots left out."""
    shapes = tf.train.list_variables(prefix)
    return {name: tuple(shape) for name, shape in shapes
            if name.startswith(SCOPE + "/") and not name.endswith(OPTIMIZER_SLOT_SUFFIXES)}


def check_variables(found, expected, source):
    """Raises `CheckpointMismatchError` naming every missing, unexpected or mis-shaped variable."""
    problems = []
    for name in sorted(expected.keys() - found.keys()):
        problems.append(f"missing: {name} (expected shape {list(expected[name])})")
    for name in sorted(found.keys() - expected.keys()):
        problems.append(f"unexpected: {name} (shape {list(found[name])})")
    for name in sorted(expected.keys() & found.keys()):
        if found[name] != expected[name]:
            problems.append(f"mis-shaped: {name} has shape {list(found[name])}, "
                            f"expected {list(expected[name])}")
    if problems:
        raise CheckpointMismatchError(
            f"{source} does not match the generator ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems))


def load_authors_checkpoint(path, channels=32, num_blocks=4):
    """Builds a `UNetGenerator` (BGR, as the authors trained) holding a TF1 checkpoint's weights.

    Args:
        path: checkpoint prefix (`.../model-33999`), its `.index` file, or the
            directory holding it.
        channels, num_blocks: the architecture the checkpoint was trained with.

    Raises:
        FileNotFoundError: no checkpoint at `path`.
        CheckpointMismatchError: names or shapes differ from the architecture.
    """
    prefix = resolve_checkpoint_prefix(path)
    generator = UNetGenerator(channels=channels, num_blocks=num_blocks, channel_order="bgr")
    check_variables(generator_variables_in_checkpoint(prefix), expected_variables(generator),
                    source=f"Checkpoint {prefix} (read as channels={channels}, num_blocks={num_blocks})")
    reader = tf.train.load_checkpoint(prefix)
    for scope, conv in authors_variable_layers(generator).items():
        conv.kernel.assign(reader.get_tensor(f"{SCOPE}/{scope}/weights"))
        conv.bias.assign(reader.get_tensor(f"{SCOPE}/{scope}/biases"))
    return generator
