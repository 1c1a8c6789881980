"""Bilinear 2x upsampling with the sampling grid of TF1's `resize_bilinear`."""

import keras
from keras import ops


def upsample_bilinear_2x(x):
    """Doubles height and width as TF1 `resize_bilinear` did by default.

    Output pixel `i` samples input position `i / 2` (`align_corners=False`,
    `half_pixel_centers=False`), which differs from `tf.image.resize`'s
    half-pixel grid; the authors' weights were trained with this one.

    On TensorFlow this is the `ResizeBilinear` op itself (one op in SavedModel,
    TFLite and ONNX graphs); other backends interleave each pixel with the mean
    of it and its next neighbour, the last one repeated: the same grid.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        size = tf.shape(x)[1:3] * 2
        resized = tf.raw_ops.ResizeBilinear(images=x, size=size, align_corners=False,
                                            half_pixel_centers=False)
        return tf.cast(resized, x.dtype)  # the op always returns float32
    return upsample_by_interleaving(x)


def upsample_by_interleaving(x):
    """`upsample_bilinear_2x` in `keras.ops` alone (any backend; static height and width)."""
    return _interleave_midpoints(_interleave_midpoints(x, axis=1), axis=2)


def _interleave_midpoints(x, axis):
    """`x` with the mean of each pixel and its next one (the edge repeated) after it, on `axis`."""
    size = x.shape[axis]
    following = ops.concatenate([ops.take(x, ops.arange(1, size), axis=axis),
                                 ops.take(x, [size - 1], axis=axis)], axis=axis)
    pairs = ops.stack([x, (x + following) * 0.5], axis=axis + 1)
    shape = list(x.shape)
    shape[axis] = 2 * size
    return ops.reshape(pairs, [-1 if d is None else d for d in shape])
