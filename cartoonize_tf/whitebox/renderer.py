"""A cartoon renderer built from the three white-box representations, without a network.

It is the teacher of the project's default model (see saved_models/README.md)
and `cartoonize run --method filter`. On a uint8 RGB photo:

1. surface: four bilateral filter passes smooth textures and keep edges;
2. structure: Felzenszwalb regions of the smoothed image, each filled with its
   mean colour, mixed 65 / 35 with the smoothed image; near the photo's edges,
   faint ones included, it is left unflattened, so thin structures (a launch
   tower's lattice against the sky) survive. Saturation is raised by a fifth.
   Steps between regions away from any edge of the photo are softened, so a
   smooth gradient (a sky, a blurred background) gets no invented outline;
3. texture: dark outlines, one pixel wide, on the photo's Canny edges (its line
   drawing); specks under 12 pixels are dropped.

Region sizes scale with the image, so a photo and a crop of it at the same
scale look alike. About 0.9 s for 512 x 768 on the 2-core CPU. The settings were
measured on held-out photos with benchmarks/quality.py: flat areas, outlines
on the real edges (edge F-score 0.87, against 0.68 with the difference-of-
Gaussians lines it had before), and no colour cast.
"""

import cv2
import numpy as np
from skimage import segmentation

from cartoonize_tf.whitebox.superpixels import fill_mean_color

SMOOTHING_PASSES = 4
REGION_SCALE = 70
PIXELS_PER_MIN_REGION = 4000
FLAT_SHARE = 0.65
SATURATION = 1.2
EDGE_BLUR = ((5, 5), 1.5)
EDGE_THRESHOLDS = (50, 150)
FAINT_EDGE_THRESHOLDS = (20, 60)
MIN_LINE_PIXELS = 12
LINE_DARKNESS = 0.7
SOFTEN_SIGMA = 1.5


def smooth_surface(image):
    for _ in range(SMOOTHING_PASSES):
        image = cv2.bilateralFilter(image, 9, 30, 7)
    return image


def photo_edges(image):
    """Canny edges of the photo's lightly blurred grey image, bool `[H, W]` each: the strong
    ones (its line drawing) and the faint ones."""
    grey = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), *EDGE_BLUR)
    return cv2.Canny(grey, *EDGE_THRESHOLDS) > 0, cv2.Canny(grey, *FAINT_EDGE_THRESHOLDS) > 0


def near(edges, width):
    """Soft mask in [0, 1] of the pixels within about `width` / 2 of an edge."""
    grown = cv2.dilate(edges.astype(np.float32), np.ones((width, width), np.uint8))
    return cv2.GaussianBlur(grown, (0, 0), 1.0)[..., None]


def flatten_regions(smooth, edges):
    """Felzenszwalb regions filled with their mean colour, mixed with `smooth`; float in [0, 1]."""
    unit = smooth.astype(np.float32) / 255.0
    height, width = unit.shape[:2]
    labels = segmentation.felzenszwalb(unit, scale=REGION_SCALE, sigma=0.6,
                                       min_size=max(40, height * width // PIXELS_PER_MIN_REGION))
    share = FLAT_SHARE * (1.0 - near(edges, 3))
    mixed = share * fill_mean_color(unit, labels) + (1.0 - share) * unit
    hsv = cv2.cvtColor(mixed, cv2.COLOR_RGB2HSV)
    hsv[..., 1] = np.clip(hsv[..., 1] * SATURATION, 0.0, 1.0)
    flat = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    keep = near(edges, 5)
    return keep * flat + (1.0 - keep) * cv2.GaussianBlur(flat, (0, 0), SOFTEN_SIGMA)


def without_specks(mask, min_pixels):
    """`mask` without its 4-connected parts of fewer than `min_pixels` pixels."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False  # the background
    return keep[labels]


def render_cartoon(image):
    """uint8 RGB `[H, W, 3]` photo -> uint8 RGB cartoon of the same shape."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {image.shape}")
    edges, faint_edges = photo_edges(image)
    flat = flatten_regions(smooth_surface(image), edges | faint_edges)
    outlines = without_specks(edges, MIN_LINE_PIXELS).astype(np.float32)
    cartoon = flat * (1.0 - LINE_DARKNESS * outlines[..., None])
    return (np.clip(cartoon, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class RendererCartoonizer:
    """`render_cartoon` as an `inference.image_cartoonizer.ImageCartoonizer`
    (`cartoonize run --method filter`)."""

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        return render_cartoon(image)
