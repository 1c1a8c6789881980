"""One place that assembles what trains: the White-box GAN and the generator pretrainer.

The training commands, the tests and the benchmarks all build their models
here, so a change to the recipe (optimiser settings, discriminator shape,
channel order) is made once. The parts (generator, discriminators, Adam) build
on any Keras backend; the TensorFlow models are imported where they are built.
"""

from pathlib import Path

import keras

from cartoonize_tf.models.discriminator import PatchDiscriminator
from cartoonize_tf.models.generator import UNetGenerator
from cartoonize_tf.models.loading import generator_copy, load_generator, with_rgb_weights
from cartoonize_tf.training.options import ADAM, GENERATOR_FILE, RunError


def adam(learning_rate=None):
    """The authors' Adam: lr 2e-4, beta1 0.5, beta2 0.99 and TF1's epsilon."""
    return keras.optimizers.Adam(**{**ADAM, **({"learning_rate": learning_rate}
                                               if learning_rate is not None else {})})


def build_generator(channels=32, num_blocks=4, pretrained=None, cel_shading=None,
                    dtype="float32"):
    """A built RGB `UNetGenerator`, random or with `pretrained`'s pictures (any channel order).

    `cel_shading` (a dict of `CelShading` settings) gives it that stage, replacing any
    that `pretrained` has; None keeps `pretrained`'s (a random generator has none).
    `dtype` is its Keras dtype policy ("mixed_bfloat16" computes in bfloat16).
    """
    if pretrained is not None:
        changes = {"dtype": dtype} if cel_shading is None else {"dtype": dtype,
                                                                "cel_shading": cel_shading}
        return generator_copy(with_rgb_weights(pretrained), **changes)
    return UNetGenerator(channels=channels, num_blocks=num_blocks, channel_order="rgb",
                         cel_shading=cel_shading, dtype=dtype)


def load_pretrained_generator(path):
    """The generator of an earlier run, for `--pretrained` (its generator.keras, or the run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / GENERATOR_FILE
    if not path.is_file():
        raise RunError(f"--pretrained: no generator at {path}; train one first (pretrain.py) "
                       "or leave --pretrained out to start from random weights")
    try:
        return load_generator(path)
    except OSError as error:
        raise RunError(f"cannot read --pretrained {path}: {error}") from None


def build_discriminators(channels=32, num_stages=3, dtype="float32"):
    """The surface (RGB) and texture (one grey channel) `PatchDiscriminator`s, built, with
    Keras dtype policy `dtype`."""
    surface = PatchDiscriminator(channels=channels, num_stages=num_stages, dtype=dtype,
                                 name="surface_discriminator")
    texture = PatchDiscriminator(channels=channels, num_stages=num_stages, input_channels=1,
                                 dtype=dtype, name="texture_discriminator")
    return surface, texture
