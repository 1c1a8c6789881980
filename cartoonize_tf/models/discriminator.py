"""The spectral-norm PatchGAN discriminator used for the surface and texture representations."""

import keras

from cartoonize_tf.layers.spectral_norm_conv import SpectralNormConv2D


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class PatchDiscriminator(keras.Model):
    """PatchGAN: stages of (3x3 stride-2 conv, 3x3 conv) with leaky ReLU, then a 1x1 conv to logits.

    Stage `i` has `channels * 2**i` filters. With `spectral_norm`, every
    convolution is a `SpectralNormConv2D`, the authors' `conv_spectral_norm`:
    the raw kernel is the variable and each call convolves with
    kernel / sigma (one power iteration from a persistent `u`). Calls with
    `training=True` also store the iterated `u`, as each run of the authors'
    graph does, in the generator's update as well as the discriminator's.
    Layer names follow theirs: `conv{i}_1`, `conv{i}_2`, `conv_out`.

    Args:
        channels: filters of the first stage.
        num_stages: number of stride-2 stages (each halves the resolution).
        spectral_norm: spectral-norm convolutions (otherwise plain `Conv2D`).
        **kwargs: standard `keras.Model` arguments.

    Example:
        >>> import numpy as np
        >>> images = np.zeros((2, 32, 48, 3), np.float32)  # [N, H, W, 3] in [-1, 1]
        >>> logits = PatchDiscriminator()(images, training=True)  # [N, H/8, W/8, 1]
        >>> tuple(logits.shape)
        (2, 4, 6, 1)
    """

    def __init__(self, channels=32, num_stages=3, spectral_norm=True, input_channels=3,
                 **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.num_stages = num_stages
        self.spectral_norm = spectral_norm
        self.input_channels = input_channels

        def conv(filters, size, strides, name, activation="leaky_relu"):
            if spectral_norm:
                return SpectralNormConv2D(filters, size, strides=strides, activation=activation,
                                          dtype=self.dtype_policy, name=name)
            return keras.layers.Conv2D(filters, size, strides=strides, padding="same",
                                       activation=activation, dtype=self.dtype_policy, name=name)

        self.convs = []
        for stage in range(num_stages):
            filters = channels * 2 ** stage
            self.convs.append(conv(filters, 3, 2, f"conv{stage}_1"))
            self.convs.append(conv(filters, 3, 1, f"conv{stage}_2"))
        self.convs.append(conv(1, 1, 1, "conv_out", activation=None))
        self.build((None, None, None, input_channels))  # every weight exists from construction on

    def build(self, input_shape):
        # One call on a small dummy batch creates every weight with its final shape.
        size = 2 ** self.num_stages
        self.call(keras.ops.zeros((1, size, size, input_shape[-1]), dtype=self.compute_dtype))

    def call(self, inputs, training=False):
        x = inputs
        for layer in self.convs:
            x = layer(x, training=training) if self.spectral_norm else layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)

    def get_config(self):
        config = super().get_config()
        config.update({"channels": self.channels, "num_stages": self.num_stages,
                       "spectral_norm": self.spectral_norm,
                       "input_channels": self.input_channels})
        return config
