"""The TensorFlow trainers, compiled: the White-box GAN and the generator pretrainer."""

from cartoonize_tf.training.builders import adam, build_discriminators, build_generator
from cartoonize_tf.training.tensorflow.generator_pretrainer import GeneratorPretrainer
from cartoonize_tf.training.tensorflow.white_box_gan import WhiteBoxCartoonGAN


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
    generator = generator if generator is not None else build_generator()
    pretrainer = GeneratorPretrainer(generator, edge_weight=edge_weight, dtype="float32")
    pretrainer.compile(optimizer=adam(learning_rate))
    pretrainer.build_optimizers()
    return pretrainer
