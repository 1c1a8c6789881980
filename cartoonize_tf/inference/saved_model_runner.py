"""Running a SavedModel that `cartoonize export` wrote, as `Cartoonizer` runs any model."""

from pathlib import Path

import numpy as np

from cartoonize_tf.contract.look import checked_look
from cartoonize_tf.contract.saved_model_file import signature_defaults
from cartoonize_tf.contract.signatures import (
    IMAGES_INPUT,
    IMAGES_OUTPUT,
    IMAGES_SIGNATURE,
    LOOK_IMAGES_SIGNATURE,
)


class SavedModelCartoonizer:
    """Runs an exported SavedModel's `serving_default` signature (uint8 images in, uint8
    cartoons out, any size), with its output filter and cel stage built in; with a `look`
    (controls or a preset's name, `contract.look`), its `serving_look` signature.

    Example:
        >>> photo = np.full((48, 64, 3), 128, np.uint8)  # uint8 [H, W, 3] RGB
        >>> cartoon = SavedModelCartoonizer("saved_models/cartoonizer/1").cartoonize(photo)
        >>> bold = SavedModelCartoonizer("saved_models/cartoonizer/1", look="bold").cartoonize(photo)
        >>> cartoon.shape, bold.shape
        ((48, 64, 3), (48, 64, 3))
    """

    def __init__(self, folder, look=None):
        import tensorflow as tf

        self._tf = tf
        self.folder = Path(folder)
        self.signatures = tf.saved_model.load(str(folder)).signatures
        self.serve = self.signatures[IMAGES_SIGNATURE]
        self.controls = {}
        if look is not None:
            self.take_look(look)

    def take_look(self, look):
        """Draws `look` from now on, through `serving_look` (controls left out: the model's
        own); ValueError for bad values or a SavedModel without that signature."""
        look = checked_look(look)
        if LOOK_IMAGES_SIGNATURE not in self.signatures:
            raise ValueError(f"{self.folder} has no {LOOK_IMAGES_SIGNATURE} signature to take a "
                             "look (a model without a cel stage, or exported before the "
                             "signature existed): export it again, or leave the look options "
                             "out")
        self.serve = self.signatures[LOOK_IMAGES_SIGNATURE]
        self.controls = {name: self._tf.constant(value, self._tf.float32) for name, value in
                         {**signature_defaults(self.folder, LOOK_IMAGES_SIGNATURE),
                          **look}.items()}

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon of the same size."""
        images = self._tf.constant(image[None])
        return self.serve(**{IMAGES_INPUT: images}, **self.controls)[IMAGES_OUTPUT].numpy()[0]
