"""Running a SavedModel that `cartoonize export` wrote, as `Cartoonizer` runs any model."""

from pathlib import Path

import numpy as np

from cartoonize_tf.utils.saved_model_versions import SAVED_MODEL_FILE, newest_version


def saved_model_folder(path):
    """The SavedModel folder that `path` names: itself, or the highest numbered version below it
    (TF Serving's base path, as `cartoonize export` writes it); None when it names neither."""
    path = Path(path)
    return path if (path / SAVED_MODEL_FILE).is_file() else newest_version(path)


class SavedModelCartoonizer:
    """Runs an exported SavedModel's `serving_default` signature (uint8 images in, uint8
    cartoons out, any size), with its output filter and cel stage built in.

    Example:
        >>> cartoon = SavedModelCartoonizer("exports/cartoonizer/1").cartoonize(photo)
    """

    def __init__(self, folder):
        import tensorflow as tf

        self._tf = tf
        self.folder = Path(folder)
        self.serve = tf.saved_model.load(str(folder)).signatures["serving_default"]

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon of the same size."""
        return self.serve(images=self._tf.constant(image[None]))["cartoons"].numpy()[0]
