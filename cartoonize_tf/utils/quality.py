"""Figures that say how cartoon-like a picture is, comparable across models.

All take uint8 RGB arrays of one size: the photo and what a method made of it.

- `flat_share`: share of pixels whose grey gradient (|dx| + |dy|) is under 2
  levels: flat colour areas raise it.
- `distinct_colors`: colours left after quantising each channel to 5 bits.
- `edge_f_score`: Canny edges of the output against those of the photo, each
  side counted as matched within 2 pixels of the other: outlines on the real
  edges score high, lost or invented edges low.
- `lab_shift`: CIE76 distance between the mean Lab colours: a cast moves it.
- `psnr`: distance to another picture (the teacher's) in dB.
"""

import cv2
import numpy as np
from skimage import color

FLAT_GRADIENT = 2.0
COLOR_BITS = 5
EDGE_TOLERANCE = 2
CANNY_THRESHOLDS = (100, 200)


def grey(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def flat_share(image):
    level = grey(image).astype(np.float32)
    gradient = np.abs(np.diff(level, axis=0))[:, :-1] + np.abs(np.diff(level, axis=1))[:-1]
    return float((gradient < FLAT_GRADIENT).mean())


def distinct_colors(image):
    codes = (image >> (8 - COLOR_BITS)).astype(np.int32)
    return int(np.unique((codes[..., 0] << 2 * COLOR_BITS) | (codes[..., 1] << COLOR_BITS)
                         | codes[..., 2]).size)


def edges(image):
    return cv2.Canny(grey(image), *CANNY_THRESHOLDS) > 0


def edge_f_score(output, photo):
    """F-score of the output's Canny edges against the photo's, with a 2-pixel tolerance."""
    found, truth = edges(output), edges(photo)
    if not found.any() or not truth.any():
        return 0.0
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE_TOLERANCE + 1,) * 2)
    near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
    near_found = cv2.dilate(found.astype(np.uint8), kernel) > 0
    precision = (found & near_truth).sum() / found.sum()
    recall = (truth & near_found).sum() / truth.sum()
    return float(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))


def lab_shift(output, photo):
    """CIE76 distance between the mean Lab colours of the two pictures."""
    means = [color.rgb2lab(image).reshape(-1, 3).mean(axis=0) for image in (output, photo)]
    return float(np.linalg.norm(means[0] - means[1]))


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
