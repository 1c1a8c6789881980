"""The quality figures on pictures whose answers are known."""

import cv2
import numpy as np
import pytest
from skimage import data

from cartoonize_tf.utils import quality


def test_flat_share_and_colors_of_a_flat_and_a_noisy_picture(rng):
    flat = np.full((32, 32, 3), 120, np.uint8)
    noisy = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert quality.flat_share(flat) == 1.0 and quality.flat_share(noisy) < 0.05
    assert quality.distinct_colors(flat) == 1 and quality.distinct_colors(noisy) > 850
    # 16 levels per channel: values 0..15 are one level, 16 starts the next.
    assert quality.distinct_colors(np.array([[[0, 0, 0], [15, 15, 15], [16, 0, 0]]], np.uint8)) == 2


def test_crispness_tells_a_step_from_a_blur():
    step = np.zeros((64, 64, 3), np.uint8)
    step[:, 32:] = 200
    blurred = cv2.GaussianBlur(step, (0, 0), 2.5)
    assert quality.crispness(step) == pytest.approx(1.0)
    assert quality.crispness(blurred) < 0.5
    assert np.isnan(quality.crispness(np.full((16, 16, 3), 90, np.uint8)))
    # Photos sit in between: about 0.5 (the authors' results about 0.67).
    assert 0.4 < quality.crispness(data.astronaut()) < 0.6


def test_edge_f_score_tolerates_two_pixels_and_punishes_lost_edges():
    photo = data.astronaut()
    assert quality.edge_f_score(photo, photo) == 1.0
    shifted = np.roll(photo, 1, axis=1)
    assert quality.edge_f_score(shifted, photo) > 0.95
    assert quality.edge_f_score(np.full_like(photo, 100), photo) == 0.0


def test_lab_shift_sees_a_cast_and_psnr_a_difference():
    photo = data.coffee()
    assert quality.lab_shift(photo, photo) == 0.0
    blue = photo.copy()
    blue[..., 2] = np.clip(blue[..., 2].astype(int) + 40, 0, 255)
    assert quality.lab_shift(blue, photo) > 10
    assert quality.psnr(photo, photo) == float("inf")
    assert quality.psnr(photo, photo // 2 * 2) == pytest.approx(10 * np.log10(255 ** 2 / 0.5), abs=1)


def test_faces_are_found_and_compared_where_they_are():
    from helpers import PROJECT_ROOT

    from cartoonize_tf.utils.image_io import read_image

    astronaut = read_image(PROJECT_ROOT / "test_code" / "test_images" / "astronaut.jpg")
    boxes = [(x, y, w, h) for x, y, w, h in quality.face_boxes(astronaut)
             if 150 < x + w / 2 < 300 and 50 < y + h / 2 < 200]  # her face, upper left
    assert len(boxes) == 1 and boxes[0][2] >= 24
    assert quality.face_ssims(astronaut, astronaut, boxes) == [1.0]
    flat = np.full_like(astronaut, 128)
    assert quality.face_boxes(flat) == []
    assert quality.face_ssims(flat, astronaut, boxes)[0] < 0.5


def test_strokes_added_by_the_authors_are_counted_where_ours_draw_them():
    photo = np.full((64, 64, 3), 200, np.uint8)
    authors = photo.copy()
    authors[20:44, 31:33] = 40  # a thin dark line the photo does not have
    stray = photo.copy()
    stray[5:15, 5:7] = 40  # a line somewhere else
    assert quality.strokes(authors).sum() == 48 and not quality.strokes(photo).any()
    assert quality.stroke_figures(authors, photo, authors) == (1.0, 1.0, 48 / 64 ** 2)
    coverage, precision, density = quality.stroke_figures(stray, photo, authors)
    assert coverage == 0.0 and precision == 0.0 and density == 20 / 64 ** 2
    coverage, precision, _ = quality.stroke_figures(photo, photo, authors)
    assert coverage == 0.0 and np.isnan(precision)  # no stroke of ours to count


def test_colour_figures_are_shifts_from_the_photo_and_a_distance_to_the_authors():
    photo = np.full((8, 8, 3), (120, 110, 100), np.uint8)
    lighter = np.full((8, 8, 3), (140, 130, 120), np.uint8)
    shifts, distance = quality.colour_figures(lighter, photo, lighter)
    assert shifts[0] > 5 and abs(shifts[2]) < 2 and abs(shifts[3]) < 2 and distance == 0
    warm = np.full((8, 8, 3), (150, 110, 70), np.uint8)
    shifts, distance = quality.colour_figures(warm, photo, photo)
    assert shifts[1] > 5 and shifts[3] > 5 and distance > 10  # more chroma, towards yellow
