"""Keras models: the U-Net generator, the PatchGAN discriminators, VGG19 features, the authors'
checkpoint and the inference pipeline."""

from cartoonize_tf.models.generator import UNetGenerator

__all__ = ["UNetGenerator"]
