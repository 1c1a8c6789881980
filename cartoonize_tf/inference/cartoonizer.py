"""Cartoonizing uint8 RGB images with a trained or converted generator."""

import numpy as np

from cartoonize_tf.inference.backends import make_backend
from cartoonize_tf.inference.options import SIZE_POLICIES
from cartoonize_tf.inference.sizing import authors_resize_crop
from cartoonize_tf.models.loading import load_generator


class Cartoonizer:
    """Turns photos into cartoons: `Cartoonizer.load(path).cartoonize(rgb_uint8)`.

    Args:
        generator: a built `UNetGenerator`.
        size_policy: "authors" (short side capped at 720, cropped to multiples
            of 8) or "full" (exact input size, padded internally).
        backend: the runtime (`inference.options.BACKENDS`); "auto" picks the fastest
            that keeps the pictures, "tf" is the reference path.

    Example:
        >>> cartoonizer = Cartoonizer.load("saved_models/cartoonizer.keras")
        >>> cartoon = cartoonizer.cartoonize(photo)  # uint8 [H, W, 3] RGB in and out
    """

    def __init__(self, generator, size_policy="authors", backend="auto"):
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
