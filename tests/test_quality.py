"""The quality figures on pictures whose answers are known."""

import numpy as np
import pytest
from skimage import data

from cartoonize_tf.utils import quality


def test_flat_share_and_colors_of_a_flat_and_a_noisy_picture(rng):
    flat = np.full((32, 32, 3), 120, np.uint8)
    noisy = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert quality.flat_share(flat) == 1.0 and quality.flat_share(noisy) < 0.05
    assert quality.distinct_colors(flat) == 1 and quality.distinct_colors(noisy) > 900


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
