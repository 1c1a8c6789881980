"""Keras layers of the white-box cartoon representations and the generator."""

from cartoonize_tf.layers.color_shift import ColorShift
from cartoonize_tf.layers.guided_filter import GuidedFilter, guided_filter
from cartoonize_tf.layers.residual_block import ResidualBlock
from cartoonize_tf.layers.spectral_norm_conv import SpectralNormConv2D

__all__ = ["ColorShift", "GuidedFilter", "ResidualBlock", "SpectralNormConv2D", "guided_filter"]
