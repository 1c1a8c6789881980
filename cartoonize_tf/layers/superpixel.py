"""The structure representation as a Keras layer around the CPU superpixel step."""

import keras
import tensorflow as tf

from cartoonize_tf.whitebox.options import SUPERPIXEL_MODES
from cartoonize_tf.whitebox.superpixels import superpixel_batch


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class Superpixel(keras.layers.Layer):
    """Superpixels of each image, each segment filled with one colour (no gradient).

    Runs `superpixels.superpixel_batch` on the CPU through `tf.py_function`,
    so it cannot be compiled by XLA (`supports_jit = False`) and must never be
    part of an exported model: it is a training-time target only.

    Args:
        mode: one of `SUPERPIXEL_MODES`: "simple" (SLIC, mean colours) or
            "adaptive" (Felzenszwalb and selective-search grouping, adaptive
            colouring), both as the authors compute them; "simple-rgb" and
            "adaptive-rgb" segment true RGB colours instead.
        channel_order: "rgb" or "bgr", the order of the input channels.
        **kwargs: standard `keras.layers.Layer` arguments.
    """

    def __init__(self, mode="simple", channel_order="rgb", **kwargs):
        super().__init__(**kwargs)
        if mode not in SUPERPIXEL_MODES:
            raise ValueError(f"mode must be one of {SUPERPIXEL_MODES}, got {mode!r}")
        self.mode = mode
        self.channel_order = channel_order
        self.supports_jit = False

    def call(self, images):
        images = tf.stop_gradient(tf.cast(images, tf.float32))
        result = tf.py_function(
            lambda batch: superpixel_batch(batch.numpy(), self.mode, self.channel_order),
            [images], Tout=tf.float32, name="superpixel")
        result.set_shape(images.shape)
        return tf.cast(result, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "channel_order": self.channel_order})
        return config
