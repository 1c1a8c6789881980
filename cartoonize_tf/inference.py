"""Cartoonizing uint8 RGB images with a trained or converted generator."""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cartoonize_tf.authors_checkpoint import load_authors_checkpoint
from cartoonize_tf.layers.guided_filter import guided_filter
from cartoonize_tf.models.generator import UNetGenerator
from cartoonize_tf.sizing import SIZE_POLICIES, authors_resize_crop

# The output guided filter of the authors' inference code.
OUTPUT_FILTER_RADIUS = 1
OUTPUT_FILTER_EPS = 5e-3
OUTPUT_FILTER_SCOPE = "output_filter"


def cartoonize_batch(generator, images):
    """uint8 RGB `[N, H, W, 3]` (H, W multiples of 4) -> uint8 RGB cartoons of the same shape.

    Scales to [-1, 1], reorders channels to what the generator's weights
    expect, runs it, applies the output guided filter with the photo as guide,
    and converts back by truncation, as the authors' code does.
    """
    x = tf.cast(images, tf.float32) / 127.5 - 1.0
    if generator.channel_order == "bgr":
        x = tf.reverse(x, axis=[-1])
    y = tf.cast(generator(x), tf.float32)
    # The scope names these ops, so the int8 TFLite export can keep them in float.
    with tf.name_scope(OUTPUT_FILTER_SCOPE):
        y = guided_filter(x, y, OUTPUT_FILTER_RADIUS, OUTPUT_FILTER_EPS)
        if generator.channel_order == "bgr":
            y = tf.reverse(y, axis=[-1])
        return tf.cast(tf.clip_by_value((y + 1.0) * 127.5, 0.0, 255.0), tf.uint8)


def symmetric_indices(size, padded_size):
    """Source index of each padded position when mirroring (edge pixel repeated) past `size`.

    Works for any amount of padding, even more than the image is long, where
    `tf.pad(mode="SYMMETRIC")` refuses.
    """
    positions = tf.range(padded_size) % (2 * size)
    return tf.where(positions < size, positions, 2 * size - 1 - positions)


def cartoonize_any_size(generator, images, multiple=8):
    """`cartoonize_batch` for uint8 RGB images of any height and width.

    Pads the bottom and right edges by mirroring to multiples of `multiple`,
    runs, and crops back, so the output has the input's exact shape.
    """
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    padded_height = (height + multiple - 1) // multiple * multiple
    padded_width = (width + multiple - 1) // multiple * multiple
    padded = tf.gather(images, symmetric_indices(height, padded_height), axis=1)
    padded = tf.gather(padded, symmetric_indices(width, padded_width), axis=2)
    return cartoonize_batch(generator, padded)[:, :height, :width]


def load_generator(path):
    """Loads a `UNetGenerator` from a `.keras` file or the authors' TF1 checkpoint."""
    path = Path(path)
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"No model file at {path}")
        model = keras.saving.load_model(path)
        if not isinstance(model, UNetGenerator):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a UNetGenerator")
        return model
    return load_authors_checkpoint(path)


class Cartoonizer:
    """Turns photos into cartoons: `Cartoonizer.load(path).cartoonize(rgb_uint8)`.

    Args:
        generator: a built `UNetGenerator`.
        size_policy: "authors" (short side capped at 720, cropped to multiples
            of 8) or "full" (exact input size, padded internally).
        backend: the runtime (`backends.BACKENDS`); "auto" picks the fastest
            that keeps the pictures, "tf" is the reference path.

    Example:
        >>> cartoonizer = Cartoonizer.load("saved_models/cartoonizer.keras")
        >>> cartoon = cartoonizer.cartoonize(photo)  # uint8 [H, W, 3] RGB in and out
    """

    def __init__(self, generator, size_policy="authors", backend="auto"):
        from cartoonize_tf.backends import make_backend

        if size_policy not in SIZE_POLICIES:
            raise ValueError(f"size_policy must be one of {SIZE_POLICIES}, got {size_policy!r}")
        self.generator = generator
        self.size_policy = size_policy
        self.backend = make_backend(backend, generator)

    @classmethod
    def load(cls, path, size_policy="authors", backend="auto"):
        """From a `.keras` generator, or a TF1 checkpoint prefix or directory (the authors')."""
        return cls(load_generator(path), size_policy=size_policy, backend=backend)

    def cartoonize(self, image):
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon (the input's size under "full")."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError("cartoonize expects a uint8 RGB array of shape [H, W, 3], got "
                             f"{image.dtype} {image.shape}; see image_io.to_rgb_uint8")
        if self.size_policy == "authors":
            image = authors_resize_crop(image)
        return self.backend.cartoonize(image)
