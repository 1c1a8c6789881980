"""Size policies: how an image of any size is brought to one the generator takes.

The generator needs height and width divisible by 4; the authors cropped to
multiples of 8. Two policies:

- `authors`: cap the short side at 720 px with area resampling, then crop the
  bottom and right edges to multiples of 8, exactly as the authors' code did.
  The output is that (possibly smaller) image.
- `full`: keep every pixel; pad by mirroring to multiples of 8, run, and crop
  back, so the output has the input's exact size (`models.pipeline.cartoonize_any_size`,
  in the graph, the same code the exported models run).
"""

import cv2

from cartoonize_tf.contract.limits import SIZE_MULTIPLE

AUTHORS_MAX_SHORT_SIDE = 720


class ImageTooSmallError(ValueError):
    """The image is too small for the chosen size policy."""


def authors_size(height, width):
    """`(resized, cropped)`: the `(h, w)` the authors' policy resizes an image to (the short side
    capped at 720) and the multiples of 8 it then crops that to."""
    short, long = min(height, width), max(height, width)
    if short > AUTHORS_MAX_SHORT_SIDE:
        long = int(AUTHORS_MAX_SHORT_SIDE * long / short)
        height, width = ((AUTHORS_MAX_SHORT_SIDE, long) if height <= width
                         else (long, AUTHORS_MAX_SHORT_SIDE))
    return (height, width), (height // SIZE_MULTIPLE * SIZE_MULTIPLE,
                             width // SIZE_MULTIPLE * SIZE_MULTIPLE)


def authors_resize_crop(image):
    """The authors' `resize_crop`: short side capped at 720 (INTER_AREA), crop to multiples of 8."""
    (height, width), (crop_h, crop_w) = authors_size(*image.shape[:2])
    if (height, width) != image.shape[:2]:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    if crop_h == 0 or crop_w == 0:
        raise ImageTooSmallError(
            f"image of {height}x{width} is smaller than {SIZE_MULTIPLE}x{SIZE_MULTIPLE}, the least the "
            "'authors' size policy can crop to; use the 'full' policy, which pads instead")
    return image[:crop_h, :crop_w]


def parse_size(text):
    """'HxW' -> (H, W), both multiples of `SIZE_MULTIPLE` (a fixed export size)."""
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--input-size must look like 720x1280, got {text!r}") from None
    if height <= 0 or width <= 0 or height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(f"--input-size {text}: height and width must be positive "
                         f"multiples of {SIZE_MULTIPLE}")
    return height, width
