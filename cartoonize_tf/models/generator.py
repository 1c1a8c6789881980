"""The U-Net generator of White-box Cartoonization."""

import keras

from cartoonize_tf.layers.cel_shading import CelShading
from cartoonize_tf.layers.residual_block import ResidualBlock
from cartoonize_tf.layers.resize import upsample_bilinear_2x

CHANNEL_ORDERS = ("rgb", "bgr")


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class UNetGenerator(keras.Model):
    """Photo-to-cartoon U-Net: two stride-2 stages, residual blocks, two upsampling stages.

    Maps images in [-1, 1] (NHWC, height and width multiples of 4) to the raw
    cartoon of the same size, before the output guided filter. A generator
    trained with a cel-shading stage carries it (`cel_shading_layer`), which
    the inference pipeline applies after the output filter
    (`models.pipeline.cartoon_from_raw`).

    Args:
        channels: width of the first stage; the network uses 1x, 2x and 4x this.
        num_blocks: number of residual blocks at the lowest resolution.
        channel_order: "rgb" or "bgr", the channel order the weights expect.
            The authors' checkpoint was trained on OpenCV's BGR images; the
            network itself never reorders channels, its callers do.
        cel_shading: None (no stage: the authors' model), or a dict of
            `CelShading` settings (`{}` for its defaults) for the stage this
            generator was trained through.
        **kwargs: standard `keras.Model` arguments.

    Example:
        >>> import numpy as np
        >>> images = np.zeros((2, 32, 48, 3), np.float32)  # float32 [N, H, W, 3] in [-1, 1]
        >>> generator = UNetGenerator()
        >>> tuple(generator(images).shape)  # the raw output, before the guided filter
        (2, 32, 48, 3)

    Reference:
        Wang and Yu, "Learning to Cartoonize Using White-box Cartoon
        Representations", CVPR 2020.
    """

    def __init__(self, channels=32, num_blocks=4, channel_order="rgb", cel_shading=None,
                 **kwargs):
        super().__init__(**kwargs)
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}")
        self.channels = channels
        self.num_blocks = num_blocks
        self.channel_order = channel_order
        self.cel_shading = None if cel_shading is None else dict(cel_shading)
        self.cel_shading_layer = (None if cel_shading is None else
                                  CelShading(**cel_shading, dtype="float32", name="cel_shading"))

        def conv(filters, size, index, strides=1, activation="leaky_relu"):
            name = "conv" if index == 0 else f"conv_{index}"
            return keras.layers.Conv2D(filters, size, strides=strides, padding="same",
                                       activation=activation, dtype=self.dtype_policy, name=name)

        c = channels
        # Ten plain convolutions, numbered in call order as the authors' checkpoint names them.
        self.plain_convs = [
            conv(c, 7, 0),
            conv(c, 3, 1, strides=2), conv(2 * c, 3, 2),
            conv(2 * c, 3, 3, strides=2), conv(4 * c, 3, 4),
            conv(2 * c, 3, 5),
            conv(2 * c, 3, 6), conv(c, 3, 7),
            conv(c, 3, 8), conv(3, 7, 9, activation=None),
        ]
        self.blocks = [ResidualBlock(4 * c, dtype=self.dtype_policy, name=f"block_{i}")
                       for i in range(num_blocks)]
        self.build((None, None, None, 3))  # every weight exists from construction on

    def build(self, input_shape):
        # One call on a small dummy batch creates every weight with its final shape.
        self.call(keras.ops.zeros((1, 8, 8, input_shape[-1]), dtype=self.compute_dtype))

    def call(self, inputs):
        conv = self.plain_convs
        x0 = conv[0](inputs)
        x1 = conv[2](conv[1](x0))
        x2 = conv[4](conv[3](x1))
        for block in self.blocks:
            x2 = block(x2)
        x2 = conv[5](x2)
        x3 = conv[7](conv[6](upsample_bilinear_2x(x2) + x1))
        x4 = conv[8](upsample_bilinear_2x(x3) + x0)
        return conv[9](x4)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (3,)

    def get_config(self):
        config = super().get_config()
        config.update({"channels": self.channels, "num_blocks": self.num_blocks,
                       "channel_order": self.channel_order, "cel_shading": self.cel_shading})
        return config
