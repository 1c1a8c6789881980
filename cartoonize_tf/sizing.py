"""Size policies: how an image of any size is brought to one the generator takes.

The generator needs height and width divisible by 4; the authors cropped to
multiples of 8. Two policies:

- `authors`: cap the short side at 720 px with area resampling, then crop the
  bottom and right edges to multiples of 8, exactly as the authors' code did.
  The output is that (possibly smaller) image.
- `full`: keep every pixel; pad by reflection to multiples of 8, run, and crop
  back, so the output has the input's exact size.
"""

import cv2
import numpy as np

SIZE_POLICIES = ("authors", "full")
MULTIPLE = 8
AUTHORS_MAX_SHORT_SIDE = 720


class ImageTooSmallError(ValueError):
    """The image is too small for the chosen size policy."""


def authors_resize_crop(image):
    """The authors' `resize_crop`: short side capped at 720 (INTER_AREA), crop to multiples of 8."""
    height, width = image.shape[:2]
    short, long = min(height, width), max(height, width)
    if short > AUTHORS_MAX_SHORT_SIDE:
        long = int(AUTHORS_MAX_SHORT_SIDE * long / short)
        new_h, new_w = ((AUTHORS_MAX_SHORT_SIDE, long) if height <= width
                        else (long, AUTHORS_MAX_SHORT_SIDE))
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        height, width = new_h, new_w
    crop_h, crop_w = height // MULTIPLE * MULTIPLE, width // MULTIPLE * MULTIPLE
    if crop_h == 0 or crop_w == 0:
        raise ImageTooSmallError(
            f"image of {height}x{width} is smaller than {MULTIPLE}x{MULTIPLE}, the least the "
            "'authors' size policy can crop to; use the 'full' policy, which pads instead")
    return image[:crop_h, :crop_w]


def pad_to_multiple(image, multiple=MULTIPLE):
    """Pads the bottom and right edges by reflection; returns the padded image.

    Images shorter than the padding reflect repeatedly (numpy's "symmetric"
    mode keeps working down to a single pixel).
    """
    height, width = image.shape[:2]
    pad_h, pad_w = -height % multiple, -width % multiple
    if pad_h == 0 and pad_w == 0:
        return image
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")


def apply_policy(image, policy):
    """Returns `(model_input, output_size)`: the array to run and the (h, w) to crop the result to."""
    if policy == "authors":
        image = authors_resize_crop(image)
        return image, image.shape[:2]
    if policy == "full":
        return pad_to_multiple(image), image.shape[:2]
    raise ValueError(f"unknown size policy {policy!r}; choose one of {SIZE_POLICIES}")
