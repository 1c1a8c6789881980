"""The exported model's size limits: its pixel cap, the file that records it, the padding."""

import json
from pathlib import Path

# 3840 x 2160: a 4K frame. Above it one image needs several GB of activations.
DEFAULT_MAX_PIXELS = 3840 * 2160
# Written into a version folder: {"max_pixels": N}, the cap its signatures enforce, so a
# server can refuse larger requests from their claimed shape before it allocates anything.
LIMITS_FILE = "assets.extra/cartoonize_tf.json"
# Sides are cropped (the authors' sizing) or padded (any size) to multiples of this; the
# generator's skips need 4, the authors' code uses 8.
SIZE_MULTIPLE = 8


def padded_pixels(height, width):
    """The pixels the generator runs for an image of `height` x `width`: each side padded up
    to a multiple of `SIZE_MULTIPLE` (a 1 x 1000 image runs on 8 x 1000)."""
    def padded(side):
        return -(-side // SIZE_MULTIPLE) * SIZE_MULTIPLE

    return padded(height) * padded(width)


def write_max_pixels(folder, max_pixels):
    """Records the pixel cap of the version in `folder` (its LIMITS_FILE)."""
    path = Path(folder) / LIMITS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"max_pixels": int(max_pixels)}))


def read_max_pixels(folder):
    """The pixel cap the version in `folder` was exported with, or None if it records none."""
    try:
        value = json.loads((Path(folder) / LIMITS_FILE).read_text())["max_pixels"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return int(value) if isinstance(value, int) and value > 0 else None
