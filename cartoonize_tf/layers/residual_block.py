"""The generator's residual block."""

import keras


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class ResidualBlock(keras.layers.Layer):
    """`x + conv3x3(leaky_relu(conv3x3(x)))`, both convolutions with `filters` outputs.

    The input must already have `filters` channels.

    Args:
        filters: number of channels in and out.
        **kwargs: standard `keras.layers.Layer` arguments.
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.conv1 = keras.layers.Conv2D(filters, 3, padding="same", activation="leaky_relu",
                                         dtype=self.dtype_policy, name="conv1")
        self.conv2 = keras.layers.Conv2D(filters, 3, padding="same", dtype=self.dtype_policy,
                                         name="conv2")

    def build(self, input_shape):
        self.conv1.build(input_shape)
        self.conv2.build(tuple(input_shape[:-1]) + (self.filters,))

    def call(self, x):
        return x + self.conv2(self.conv1(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters})
        return config
