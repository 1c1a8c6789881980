"""Cartoonizing uint8 RGB images with a trained or converted generator."""

import numpy as np

from cartoonize_tf.inference.backends import make_backend
from cartoonize_tf.inference.options import SIZE_POLICIES
from cartoonize_tf.inference.sizing import authors_resize_crop
from cartoonize_tf.inference.tiling import DEFAULT_TILE, cartoonize_tiled
from cartoonize_tf.models.loading import generator_copy, load_generator


class Cartoonizer:
    """Turns photos into cartoons: `Cartoonizer.load(path).cartoonize(rgb_uint8)`.

    Args:
        generator: a built `UNetGenerator`.
        size_policy: "authors" (short side capped at 720, cropped to multiples
            of 8) or "full" (exact input size, padded internally).
        backend: the runtime (`inference.options.BACKENDS`); "auto" picks the
            fastest that keeps the pictures, "tf" is the reference path.
        strength: how cartoony, from 0 (the photo) to 1 (the model's own
            output): a linear mix of the two, no retraining.
        tile: images with a side longer than this run in tiles of this size
            (`inference.tiling`), so memory stays bounded; None: always whole.
        cel_shading: False leaves out the generator's cel-shading stage (flat
            tones, outlines), if it has one.
        filter_radius, filter_eps: the output guided filter, for experts
            (default: the authors' 1 and 5e-3; TensorFlow backends only).

    Example:
        >>> cartoonizer = Cartoonizer.load("saved_models/cartoonizer.keras")
        >>> cartoon = cartoonizer.cartoonize(photo)  # uint8 [H, W, 3] RGB in and out
    """

    def __init__(self, generator, size_policy="authors", backend="auto", strength=1.0,
                 tile=DEFAULT_TILE, cel_shading=True, filter_radius=None, filter_eps=None):
        if size_policy not in SIZE_POLICIES:
            raise ValueError(f"size_policy must be one of {SIZE_POLICIES}, got {size_policy!r}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be between 0 and 1, got {strength}")
        filter_options = {name: value for name, value in
                          (("filter_radius", filter_radius), ("filter_eps", filter_eps))
                          if value is not None}
        if not cel_shading and generator.cel_shading is not None:
            generator = generator_copy(generator, cel_shading=None)
        self.generator = generator
        self.size_policy = size_policy
        self.strength = strength
        self.tile = tile
        self.backend = make_backend(backend, generator, **filter_options)

    @classmethod
    def load(cls, path, **options):
        """From a `.keras` generator, or a TF1 checkpoint prefix or directory (the authors').

        `options` are the constructor's (size_policy, backend, strength, ...).
        """
        return cls(load_generator(path), **options)

    def cartoonize(self, image):
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon (the input's size under "full")."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError("cartoonize expects a uint8 RGB array of shape [H, W, 3], got "
                             f"{image.dtype} {image.shape}; see image_io.to_rgb_uint8")
        if self.size_policy == "authors":
            image = authors_resize_crop(image)
        if self.strength == 0.0:
            return image.copy()
        if self.tile is None:
            cartoon = self.backend.cartoonize(image)
        else:
            cartoon = cartoonize_tiled(self.backend.cartoonize, image, self.tile)
        if self.strength == 1.0:
            return cartoon
        mixed = image + self.strength * (cartoon.astype(np.float32) - image)
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
