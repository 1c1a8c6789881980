"""Bilinear 2x upsampling with the sampling grid of TF1's `resize_bilinear`."""

import tensorflow as tf


def upsample_bilinear_2x(x):
    """Doubles height and width as TF1 `resize_bilinear` did by default.

    Output pixel `i` samples input position `i / 2` (`align_corners=False`,
    `half_pixel_centers=False`), which differs from `tf.image.resize`'s
    half-pixel grid; the authors' weights were trained with this one.
    """
    size = tf.shape(x)[1:3] * 2
    resized = tf.raw_ops.ResizeBilinear(images=x, size=size, align_corners=False,
                                        half_pixel_centers=False)
    return tf.cast(resized, x.dtype)  # the op always returns float32
