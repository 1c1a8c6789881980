"""Keras models: the generator (and, for training, the discriminators and the GAN)."""

from cartoonize_tf.models.generator import UNetGenerator

__all__ = ["UNetGenerator"]
