"""Cartoonizing uint8 RGB images: sizing, tiles and strength over a runtime.

The runtime (`opening.open_runtime`) runs the model; TensorFlow and Keras are imported only
where its path needs them: the shipped model's conversion runs without them, in OpenVINO or
LiteRT.
"""

import numpy as np

from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.inference.opening import open_runtime
from cartoonize_tf.inference.options import DEFAULT_TILE, SIZE_POLICIES
from cartoonize_tf.inference.sizing import authors_resize_crop, authors_size
from cartoonize_tf.utils.tiling import cartoonize_tiled, runs_in_tiles


def check_options(size_policy, strength):
    """ValueError for a size policy or a strength the Cartoonizer does not take."""
    if size_policy not in SIZE_POLICIES:
        raise ValueError(f"size_policy must be one of {SIZE_POLICIES}, got {size_policy!r}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")


class Cartoonizer:
    """Turns photos into cartoons: `Cartoonizer.load(model).cartoonize(rgb_uint8)`.

    Args:
        runtime: what runs the model, an `ImageCartoonizer`; `load` opens one from a
            generator or a model file (`opening.open_runtime`: the backend, the look, the
            cel stage and the output filter are chosen there).
        size_policy: "full" (the default: the input's exact size, padded
            internally, large images in tiles) or "authors" (short side capped at
            720, cropped to multiples of 8, as the authors' code did).
        strength: how cartoony, from 0 (the photo) to 1 (the model's own
            output): a linear mix of the two, no retraining.
        tile: images with a side longer than this run in tiles of this size
            (`utils.tiling`), so memory stays bounded; None: always whole.

    Example:
        >>> photo = np.full((48, 64, 3), 128, np.uint8)  # uint8 [H, W, 3] RGB
        >>> cartoonizer = Cartoonizer.load("saved_models/cartoonizer.keras")
        >>> cartoonizer.cartoonize(photo).shape  # uint8 RGB, the photo's size
        (48, 64, 3)
    """

    def __init__(self, runtime: ImageCartoonizer, size_policy="full", strength=1.0,
                 tile=DEFAULT_TILE):
        if not isinstance(runtime, ImageCartoonizer):
            raise TypeError(f"Cartoonizer takes a runtime (an ImageCartoonizer), got a "
                            f"{type(runtime).__name__}; open a generator or a model file with "
                            "Cartoonizer.load(model, backend=..., look=...)")
        check_options(size_policy, strength)
        self.runtime = runtime
        self.size_policy = size_policy
        self.strength = strength
        self.tile = tile

    @classmethod
    def load(cls, model, size_policy="full", strength=1.0, tile=DEFAULT_TILE, **runtime_options):
        """A Cartoonizer over the runtime `opening.open_runtime(model, **runtime_options)`
        opens: `model` is a built generator or a path to a `.keras` generator, the authors'
        TF1 checkpoint, a SavedModel from `cartoonize export` (a version, or the base path:
        its newest version), or a `.tflite` or `.onnx` file; `runtime_options` are `backend`
        ("auto" by default), `cel_shading`, `filter_radius`, `filter_eps` and `look` (an
        exported model has them built in, but a SavedModel takes a look). With the defaults,
        a model whose conversion ships with the project (the default model) runs that
        conversion, without importing TensorFlow.

        Raises:
            opening.ModelNotFoundError: nothing at the path.
            opening.ModelLoadError: something at the path, but no model this reads.
            ValueError: options that the model refuses (or the constructor does).
        """
        check_options(size_policy, strength)
        return cls(open_runtime(model, **runtime_options), size_policy, strength, tile)

    def sizing_note(self, shape):
        """How an image of `shape` is sized on its way through, for the user: "resized" (the
        authors' policy shrank or cropped it), "tiled" (run in tiles), or None (whole, as is)."""
        height, width = shape[:2]
        if self.size_policy == "authors" and authors_size(height, width)[1] != (height, width):
            return "resized"
        if self.tile is not None and runs_in_tiles(height, width, self.tile):
            return "tiled"
        return None

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
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
            cartoon = self.runtime.cartoonize(image)
        else:
            cartoon = cartoonize_tiled(self.runtime.cartoonize, image, self.tile)
        if self.strength == 1.0:
            return cartoon
        mixed = image + self.strength * (cartoon.astype(np.float32) - image)
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)

