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


def build_jax_gan_steps(generator, loss_weights=None, learning_rate=None,
                        superpixel_mode="simple", seed=None):
    """`JaxGANSteps` (KERAS_BACKEND=jax) for `generator` with fresh discriminators and the
    authors' Adam; content and structure compare pixels (VGG19 is TensorFlow-only)."""
    from cartoonize_tf.training.gan_objectives import GANObjectives
    from cartoonize_tf.training.jax_gan import JaxGANSteps

    surface, texture = build_discriminators()
    objectives = GANObjectives(generator, surface, texture, None, loss_weights=loss_weights,
                               seed=seed)
    return JaxGANSteps(objectives, adam(learning_rate), adam(learning_rate),
                       superpixel_mode=superpixel_mode, seed=seed)


def build_jax_pretrain_steps(generator, learning_rate=None, edge_weight=0.0):
    """`JaxPretrainSteps` (KERAS_BACKEND=jax) for `generator` with the authors' Adam."""
    from cartoonize_tf.training.jax_pretrainer import JaxPretrainSteps

    return JaxPretrainSteps(generator, adam(learning_rate), edge_weight=edge_weight)


def build_gan(vgg_features, generator=None, discriminator_channels=32, discriminator_stages=3,
              learning_rate=None, superpixel_mode="simple", loss_weights=None, xla="auto",
              seed=None):
    """A compiled `WhiteBoxCartoonGAN` with its optimiser slots created (ready to restore).

    The discriminators compute in the generator's dtype policy; the GAN itself holds
    no weights and stays float32 (its inputs and losses).

    Args:
        vgg_features: a `VGGFeatures` for the content and structure losses.
        generator: the generator to train; a random full-size one by default.
        discriminator_channels, discriminator_stages: the discriminators' first-stage
            filters and number of stride-2 stages.
        learning_rate: Adam's learning rate for both players (default 2e-4).
        superpixel_mode, loss_weights, xla, seed: as `WhiteBoxCartoonGAN` takes them.
    """
    from cartoonize_tf.training.white_box_gan import WhiteBoxCartoonGAN  # TensorFlow only

    generator = generator if generator is not None else build_generator()
    surface, texture = build_discriminators(discriminator_channels, discriminator_stages,
                                            dtype=generator.dtype_policy.name)
    gan = WhiteBoxCartoonGAN(generator, surface, texture, vgg_features,
                             superpixel_mode=superpixel_mode, loss_weights=loss_weights, xla=xla,
                             seed=seed, dtype="float32")
    gan.compile(generator_optimizer=adam(learning_rate),
                discriminator_optimizer=adam(learning_rate))
    gan.build_optimizers()
    return gan


def build_pretrainer(generator=None, learning_rate=None, edge_weight=0.0):
    """A compiled `GeneratorPretrainer` with its optimiser slots created."""
    from cartoonize_tf.training.generator_pretrainer import GeneratorPretrainer  # TensorFlow only

    generator = generator if generator is not None else build_generator()
    pretrainer = GeneratorPretrainer(generator, edge_weight=edge_weight, dtype="float32")
    pretrainer.compile(optimizer=adam(learning_rate))
    pretrainer.build_optimizers()
    return pretrainer
