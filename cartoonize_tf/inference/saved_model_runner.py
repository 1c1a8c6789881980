"""Running a SavedModel that `cartoonize export` wrote, as `Cartoonizer` runs any model."""

from pathlib import Path

SAVED_MODEL_FILE = "saved_model.pb"


def saved_model_folder(path):
    """The SavedModel folder that `path` names: itself, or the highest numbered version below it
    (TF Serving's base path, as `cartoonize export` writes it); None when it names neither."""
    path = Path(path)
    if not path.is_dir():
        return None
    if (path / SAVED_MODEL_FILE).is_file():
        return path
    versions = [(int(child.name), child) for child in path.iterdir()
                if child.name.isdecimal() and (child / SAVED_MODEL_FILE).is_file()]
    return max(versions)[1] if versions else None


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

    def cartoonize(self, image):
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon of the same size."""
        return self.serve(images=self._tf.constant(image[None]))["cartoons"].numpy()[0]
