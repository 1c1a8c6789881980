import numpy as np
import pytest

from cartoonize_tf.sizing import ImageTooSmallError, apply_policy, authors_resize_crop, pad_to_multiple


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


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (17, 9), (16, 24)])
def test_full_policy_pads_and_remembers_the_size(rng, shape):
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    padded, size = apply_policy(image, "full")
    assert size == shape
    assert padded.shape[0] % 8 == 0 and padded.shape[1] % 8 == 0
    np.testing.assert_array_equal(padded[:shape[0], :shape[1]], image)


def test_padding_mirrors_the_edge():
    row = np.arange(6, dtype=np.uint8).reshape(1, 6, 1).repeat(3, axis=2)
    padded = pad_to_multiple(row)
    assert list(padded[0, :, 0]) == [0, 1, 2, 3, 4, 5, 5, 4]


def test_unknown_policy():
    with pytest.raises(ValueError, match="authors"):
        apply_policy(np.zeros((8, 8, 3), np.uint8), "stretch")
