"""The white-box cartoon renderer: flat areas, dark outlines on real edges, colours kept."""

import numpy as np
import pytest
from skimage import color, data

from cartoonize_tf.utils.quality import flat_share
from cartoonize_tf.whitebox.renderer import render_cartoon, without_specks


def test_keeps_shape_and_flattens_a_real_photo():
    photo = data.coffee()
    cartoon = render_cartoon(photo)
    assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8
    assert flat_share(cartoon) > flat_share(photo) + 0.2


def test_draws_a_dark_outline_on_an_edge():
    image = np.full((64, 64, 3), 180, np.uint8)
    image[:, 32:] = 90
    cartoon = render_cartoon(image).astype(int)
    assert cartoon[:, 28:36].mean(axis=0).min() < 90 - 30  # the outline, darker than either side
    assert abs(cartoon[:, 50:].mean() - 90) < 8  # the flat dark side, away from the edge
    assert abs(cartoon[:, :20].mean() - 180) < 8


def test_no_color_cast():
    # Saturation is raised on purpose, so the mean colour may grow more vivid but not change hue.
    for photo in (data.coffee(), data.chelsea(), data.astronaut()):
        before = color.rgb2lab(photo).mean((0, 1))[1:]
        after = color.rgb2lab(render_cartoon(photo)).mean((0, 1))[1:]
        angle = np.degrees(np.arccos(before @ after / np.linalg.norm(before) / np.linalg.norm(after)))
        assert angle < 10
    grey = np.repeat(data.camera()[:128, :128, None], 3, axis=-1)
    assert np.abs(color.rgb2lab(render_cartoon(grey))[..., 1:]).max() < 1  # greys stay grey


def test_specks_are_removed_lines_kept():
    mask = np.zeros((20, 20), bool)
    mask[2, 2] = True  # a speck
    mask[10, 2:18] = True  # a line of 16 pixels
    kept = without_specks(mask, 5)
    assert not kept[2, 2] and kept[10, 2:18].all()


def test_refuses_a_grey_image():
    with pytest.raises(ValueError, match="RGB"):
        render_cartoon(np.zeros((8, 8), np.uint8))
