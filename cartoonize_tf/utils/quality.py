"""Figures that say how cartoon-like a picture is, comparable across models.

All take uint8 RGB arrays of one size: the photo and what a method made of it.
The definitions are the ones the authors' look was measured with (medians on
their published photo | result pairs: flat share 2.64x the photo's, colours
0.87x, edge F 0.88, crispness 0.67 against the photo's 0.52, Lab shift 8.4):

- `flat_share`: share of pixels whose grey Sobel magnitude / 8 is under 1:
  flat colour areas raise it.
- `distinct_colors`: colours left after quantising each channel to 16 levels.
- `edge_f_score`: Canny (50, 150, after a 5x5 Gaussian of sigma 1.5) edges
  of the output against those of the photo, each side matched within 2
  pixels of the other: outlines on the real edges score high, lost or
  invented edges low.
- `crispness`: median, over the output's Canny (60, 150) edge pixels whose
  7x7 grey range exceeds 24, of (Sobel magnitude / 4) / that range: a sharp
  step scores high, a blur low.
- `lab_shift`: CIE76 distance between the mean Lab colours: a cast moves it.
- `psnr`: distance to another picture (the teacher's) in dB.

Against the authors' result of the same photo (their look: thin contour lines, light calm
colours), in OpenCV's 8-bit Lab (`cv2.COLOR_RGB2LAB` on uint8):

- `strokes`: thin dark lines: pixels whose grey (0..255) lies more than 30 below the grey
  image's morphological closing with a 7x7 elliptical element (a black-hat above 30).
- `stroke_figures`: the authors' *added* strokes are theirs that lie more than 2 px from any
  stroke of the photo (lines drawn where the photo has none); *coverage* is the share of them
  within 2 px of one of ours, *precision* the share of our strokes within 2 px of one of
  theirs, *density* the share of our pixels that are strokes.
- `colour_figures`: the shifts from the photo of mean L (shown as 0..100), mean chroma (the
  distance of a, b from 128), mean a and mean b; and the mean per-pixel Euclidean distance
  in that Lab (L, a and b all on OpenCV's 0..255 scale) to the authors' picture.
"""

import cv2
import numpy as np
from skimage import color

FLAT_SOBEL_SCALE = 8.0
COLOR_LEVELS = 16
EDGE_TOLERANCE = 2
EDGE_CANNY = (50, 150)
EDGE_BLUR = ((5, 5), 1.5)
CRISP_CANNY = (60, 150)
CRISP_WINDOW = 7
CRISP_MIN_RANGE = 24
CRISP_SOBEL_SCALE = 4.0
STROKE_DEPTH = 30
STROKE_ELEMENT = (7, 7)
STROKE_NEAR = 2


def grey(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def sobel_magnitude(grey_image):
    level = grey_image.astype(np.float32)
    dx = cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3)
    return np.hypot(dx, dy)


def flat_share(image):
    return float((sobel_magnitude(grey(image)) / FLAT_SOBEL_SCALE < 1).mean())


def distinct_colors(image):
    codes = (image.astype(np.int32) * COLOR_LEVELS) >> 8
    return int(np.unique((codes[..., 0] * COLOR_LEVELS + codes[..., 1]) * COLOR_LEVELS
                         + codes[..., 2]).size)


def edges(image):
    blurred = cv2.GaussianBlur(grey(image), *EDGE_BLUR)
    return cv2.Canny(blurred, *EDGE_CANNY) > 0


def edge_f_score(output, photo):
    """F-score of the output's edges against the photo's, with a 2-pixel tolerance."""
    found, truth = edges(output), edges(photo)
    if not found.any() or not truth.any():
        return 0.0
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE_TOLERANCE + 1,) * 2)
    near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
    near_found = cv2.dilate(found.astype(np.uint8), kernel) > 0
    precision = (found & near_truth).sum() / found.sum()
    recall = (truth & near_found).sum() / truth.sum()
    return float(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))


def crispness(image):
    """How step-like the strong edges are: 1 for an ideal one-pixel step, less for a blur.

    NaN when the picture has no edge with enough contrast to judge.
    """
    level = grey(image)
    window = np.ones((CRISP_WINDOW, CRISP_WINDOW), np.uint8)
    local_range = (cv2.dilate(level, window).astype(np.float32)
                   - cv2.erode(level, window).astype(np.float32))
    chosen = (cv2.Canny(level, *CRISP_CANNY) > 0) & (local_range > CRISP_MIN_RANGE)
    if not chosen.any():
        return float("nan")
    steepness = sobel_magnitude(level)[chosen] / CRISP_SOBEL_SCALE
    return float(np.median(steepness / local_range[chosen]))


def lab_shift(output, photo):
    """CIE76 distance between the mean Lab colours of the two pictures."""
    means = [color.rgb2lab(image).reshape(-1, 3).mean(axis=0) for image in (output, photo)]
    return float(np.linalg.norm(means[0] - means[1]))


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


# Frontal faces: scikit-image's LBP cascade, which ships inside scikit-image (OpenCV 5 has no
# Haar cascades any more). 8 neighbours: no face found on the shared city and food pairs.
FACE_SCALE_FACTOR, FACE_NEIGHBOURS, FACE_MIN_SIDE = 1.1, 8, 24


def face_boxes(photo):
    """`(x, y, w, h)` of each frontal face that scikit-image's LBP frontal-face cascade finds
    in an RGB photo (scale 1.1, 8 neighbours, at least 24 px)."""
    from skimage import data
    from skimage.feature import Cascade

    image = grey(photo)
    found = Cascade(data.lbp_frontal_face_cascade_filename()).detect_multi_scale(
        img=image, scale_factor=FACE_SCALE_FACTOR, step_ratio=1,
        min_size=(FACE_MIN_SIDE, FACE_MIN_SIDE), max_size=image.shape,
        min_neighbor_number=FACE_NEIGHBOURS)
    return [(box["c"], box["r"], box["width"], box["height"]) for box in found]


def face_ssims(output, reference, boxes):
    """Grey SSIM of `output` to `reference` inside each face box (cut at the same place)."""
    from skimage.metrics import structural_similarity

    return [structural_similarity(grey(output[y:y + h, x:x + w]),
                                  grey(reference[y:y + h, x:x + w]))
            for x, y, w, h in boxes]


def strokes(image):
    """Thin dark lines (`STROKE_DEPTH` under the grey closing): a boolean mask."""
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, STROKE_ELEMENT)
    return cv2.morphologyEx(grey(image), cv2.MORPH_BLACKHAT, element) > STROKE_DEPTH


def near(mask, distance=STROKE_NEAR):
    """Pixels within `distance` px (Euclidean) of a pixel of `mask`."""
    if not mask.any():
        return np.zeros_like(mask)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) <= distance


def stroke_figures(output, photo, authors):
    """(coverage, precision, density) of `output`'s strokes against the authors' picture of
    `photo`; coverage or precision is NaN where there is nothing to count."""
    ours, theirs = strokes(output), strokes(authors)
    added = theirs & ~near(strokes(photo))
    coverage = (added & near(ours)).sum() / added.sum() if added.any() else float("nan")
    precision = (ours & near(theirs)).sum() / ours.sum() if ours.any() else float("nan")
    return float(coverage), float(precision), float(ours.mean())


def lab8(image):
    """OpenCV's 8-bit Lab of a uint8 RGB image, as float32."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)


def lab_means(lab):
    """Mean L (0..100), chroma, a and b of an 8-bit Lab image (`lab8`)."""
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    return np.array([lab[..., 0].mean() * 100 / 255, chroma.mean(), lab[..., 1].mean(),
                     lab[..., 2].mean()])


def colour_figures(output, photo, authors):
    """((L, chroma, a, b) shifts of the means from the photo's, mean Lab distance to the
    authors' picture)."""
    ours = lab8(output)
    distance = np.linalg.norm(ours - lab8(authors), axis=-1).mean()
    return lab_means(ours) - lab_means(lab8(photo)), float(distance)
