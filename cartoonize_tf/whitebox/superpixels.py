"""The structure representation: superpixels of an image, each filled with one colour.

All modes take a float image in [-1, 1] (`[H, W, 3]`) in the channel order
named by `channel_order` and return the same shape, dtype and channel order.

- `simple` (the authors' default): SLIC (200 segments, sigma 1, compactness
  10, `convert2lab=True`), each segment filled with its mean colour.
- `adaptive` (the authors' `--use_enhance`): Felzenszwalb (scale 10, sigma
  0.8, min size 100), regions filled with their mean, selective-search
  grouping in Lab (`region_grouping.AuthorsGrouping`) until at most 200
  adjacent pairs of regions remain (about 90 regions at 256 px), mean fill,
  then `((x + 1) / 2) ** 1.2`, divided by its maximum, back to [-1, 1].

Both are computed as the authors' `train_code/utils.py` computes them: on the
[-1, 1] array itself in **BGR** order (they read images with OpenCV), so
SLIC's and the grouping's Lab conversion see values out of its range, with
red and blue swapped. This project trains in RGB: an RGB image is reversed to
BGR for the segmentation, and the means are taken of the image as given, so
the result is in the caller's order. Tested against the authors' outputs
(`authors_superpixel_golden`): same partition and mean colours.

- `simple-rgb` and `adaptive-rgb`: the project's earlier variants, on true
  RGB in [0, 1] (so Lab means what it says); `adaptive-rgb` uses
  `region_grouping.RegionGrouping` (the paper's similarities) down to 200
  regions, then the same power.

Batches run in a fixed pool of worker threads (one per core), so memory does
not grow with the batch; SLIC, Felzenszwalb and the numpy work release the GIL
for most of their time. One 256 x 256 image takes about 65 ms (`simple`) and
120 ms (`adaptive`) on one core (medians, measured on a busy shared machine).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from skimage import color, segmentation

from cartoonize_tf.whitebox.options import SUPERPIXEL_MODES
from cartoonize_tf.whitebox.region_grouping import (
    AuthorsGrouping,
    RegionGrouping,
    region_means_as_numpy,
)

CHANNEL_ORDERS = ("rgb", "bgr")
NUM_SEGMENTS = 200
ADAPTIVE_POWER = 1.2


def fill_mean_color(image, labels):
    """Each labelled region of `image` replaced by its mean colour."""
    flat_labels = labels.ravel()
    count = np.bincount(flat_labels)
    pixels = image.reshape(-1, image.shape[-1])
    means = np.stack([np.bincount(flat_labels, weights=pixels[:, c], minlength=len(count))
                      for c in range(pixels.shape[1])], axis=-1)
    means /= np.maximum(count, 1)[:, None]
    return means[labels].astype(image.dtype)


def as_bgr(image, channel_order):
    """`image` in BGR order (a view), as the authors' code sees it."""
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}")
    return image[..., ::-1] if channel_order == "rgb" else image


def to_unit_rgb(image, channel_order):
    """[-1, 1] image in `channel_order` to [0, 1] RGB (for the Lab conversion)."""
    unit = np.clip((image + 1.0) * 0.5, 0.0, 1.0)
    return unit[..., ::-1] if channel_order == "bgr" else unit


def deepen(filled, power):
    """The authors' colour step: `((x + 1) / 2) ** power`, divided by its maximum, to [-1, 1]."""
    # Means of an image in [-1, 1] stay in it; the clip only keeps a stray input from a NaN.
    unit = np.maximum((filled + 1) / 2, 0) ** power
    unit /= max(unit.max(), np.finfo(unit.dtype).tiny)
    return (unit * 2 - 1).astype(filled.dtype)


def simple_superpixel(image, channel_order="rgb", num_segments=NUM_SEGMENTS):
    """The authors' `simple`: SLIC of the BGR [-1, 1] array, segments filled with their mean."""
    labels = segmentation.slic(as_bgr(image, channel_order), n_segments=num_segments, sigma=1,
                               compactness=10, convert2lab=True)
    return fill_mean_color(image, labels)


def adaptive_superpixel(image, channel_order="rgb", max_pairs=NUM_SEGMENTS, power=ADAPTIVE_POWER):
    """The authors' `adaptive`: Felzenszwalb, their selective-search grouping, mean fill, power.

    `max_pairs` bounds the number of adjacent region pairs left (their `seg_num`).
    """
    bgr = as_bgr(image, channel_order)
    labels = segmentation.felzenszwalb(bgr, scale=10, sigma=0.8, min_size=100)
    _, labels = np.unique(labels, return_inverse=True)
    labels = labels.reshape(image.shape[:2])
    filled = region_means_as_numpy(bgr, labels)[labels]
    grouped = AuthorsGrouping(color.rgb2lab(filled), labels).group(max_pairs)
    return deepen(fill_mean_color(image, grouped), power)


def simple_rgb_superpixel(image, channel_order="rgb", num_segments=NUM_SEGMENTS):
    """SLIC of the true RGB image in [0, 1], segments filled with their mean colour."""
    labels = segmentation.slic(to_unit_rgb(image, channel_order), n_segments=num_segments,
                               sigma=1, compactness=10, convert2lab=True, start_label=0)
    return fill_mean_color(image, labels)


def adaptive_rgb_superpixel(image, channel_order="rgb", num_segments=NUM_SEGMENTS,
                            power=ADAPTIVE_POWER):
    """Felzenszwalb of the true RGB image, the paper's grouping to `num_segments` regions, power."""
    rgb = to_unit_rgb(image, channel_order)
    labels = segmentation.felzenszwalb(rgb, scale=10, sigma=0.8, min_size=100)
    labels = RegionGrouping(color.rgb2lab(rgb), labels).group(num_segments)
    return deepen(fill_mean_color(image, labels), power)


SUPERPIXEL_FUNCTIONS = {"simple": simple_superpixel, "adaptive": adaptive_superpixel,
                        "simple-rgb": simple_rgb_superpixel,
                        "adaptive-rgb": adaptive_rgb_superpixel}


def superpixel_image(image, mode="simple", channel_order="rgb"):
    if mode not in SUPERPIXEL_FUNCTIONS:
        raise ValueError(f"superpixel mode must be one of {SUPERPIXEL_MODES}, got {mode!r}")
    return SUPERPIXEL_FUNCTIONS[mode](image, channel_order)


_pool = None


def worker_pool():
    """The shared thread pool, one worker per core, started on first use."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                   thread_name_prefix="superpixel")
    return _pool


def superpixel_batch(images, mode="simple", channel_order="rgb", parallel=True):
    """`superpixel_image` over a batch `[N, H, W, 3]`, in the worker pool when `parallel`."""
    images = np.asarray(images)
    if not parallel or len(images) == 1:
        return np.stack([superpixel_image(image, mode, channel_order) for image in images])
    results = worker_pool().map(superpixel_image, images, [mode] * len(images),
                                [channel_order] * len(images))
    return np.stack(list(results))
