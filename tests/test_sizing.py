import numpy as np
import pytest

from cartoonize_tf.inference.sizing import ImageTooSmallError, authors_resize_crop


@pytest.mark.parametrize("shape,expected", [
    ((300, 451), (296, 448)),      # no resize, crop only
    ((720, 1283), (720, 1280)),    # short side exactly 720: no resize
    ((1000, 1500), (720, 1080)),   # landscape: short side to 720, long int(720*1500/1000)
    ((1503, 1001), (1080, 720)),   # portrait: int(720*1503/1001) = 1081 -> 1080
])
def test_authors_policy_sizes(shape, expected):
    image = np.zeros((*shape, 3), np.uint8)
    assert authors_resize_crop(image).shape[:2] == expected


def test_authors_policy_crops_the_top_left_corner(rng):
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(authors_resize_crop(image), image[:16, :24])


def test_authors_policy_rejects_tiny_images():
    with pytest.raises(ImageTooSmallError, match="full"):
        authors_resize_crop(np.zeros((5, 40, 3), np.uint8))
