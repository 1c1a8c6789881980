"""The one contract every cartoonizer keeps: `cartoonize(image)`, uint8 RGB in and out."""

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ImageCartoonizer(Protocol):
    """Anything that cartoonizes one image: `cartoonize(image)` takes a uint8 RGB `[H, W, 3]`
    array and returns its uint8 RGB cartoon.

    The classes that keep it are named `<how>Cartoonizer`: `Cartoonizer` (sizing, tiles and
    strength over a runtime that keeps it too), its runtimes `GraphCartoonizer` (TensorFlow),
    `TFLiteCartoonizer`, `ONNXCartoonizer` and `SavedModelCartoonizer`, and the white-box
    `whitebox.renderer.RendererCartoonizer`.
    """

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon."""
        ...
