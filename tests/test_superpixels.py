import numpy as np
import pytest
import tensorflow as tf
from helpers import random_photo
from skimage import color, segmentation

from cartoonize_tf.layers.superpixel import Superpixel
from cartoonize_tf.whitebox.region_grouping import RegionGrouping
from cartoonize_tf.whitebox.superpixels import (
    adaptive_superpixel,
    fill_mean_colour,
    simple_superpixel,
    superpixel_batch,
)


def as_unit_range(image):
    return image.astype(np.float32) / 127.5 - 1.0


def regions_of(image):
    """Label map of connected areas of one colour."""
    _, inverse = np.unique(image.reshape(-1, 3), axis=0, return_inverse=True)
    return inverse.reshape(image.shape[:2])


def test_fill_mean_colour_by_hand():
    image = np.array([[[0, 0, 0], [2, 4, 6]], [[10, 10, 10], [20, 20, 20]]], np.float32)
    labels = np.array([[0, 0], [1, 1]])
    filled = fill_mean_colour(image, labels)
    np.testing.assert_array_equal(filled[0], [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_array_equal(filled[1], [[15, 15, 15], [15, 15, 15]])


def test_simple_fills_each_slic_segment_with_its_mean(rng):
    image = as_unit_range(random_photo(rng, 96, 128))
    out = simple_superpixel(image)
    assert out.shape == image.shape and out.dtype == np.float32
    colours = len(np.unique(out.reshape(-1, 3), axis=0))
    assert 100 <= colours <= 260, colours  # SLIC's count is near, not exactly, 200
    # Within any one output colour the input's mean is that colour.
    labels = regions_of(out)
    for label in np.unique(labels)[:20]:
        mask = labels == label
        np.testing.assert_allclose(image[mask].mean(axis=0), out[mask][0], atol=1e-4)


def test_adaptive_groups_down_to_the_target(rng):
    image = as_unit_range(random_photo(rng, 128, 128))
    out = adaptive_superpixel(image, num_segments=40)
    assert out.shape == image.shape and np.all(out >= -1.0) and np.all(out <= 1.0)
    assert len(np.unique(out.reshape(-1, 3), axis=0)) <= 40


def test_grouping_merges_adjacent_regions_only():
    labels = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 8, axis=0), 8, axis=1)
    image = np.zeros((32, 32, 3))
    image[:, 16:] = 1.0  # left half black, right half white
    lab = color.rgb2lab(image)
    grouped = RegionGrouping(lab, labels).group(2)
    assert len(np.unique(grouped)) == 2
    # The similar colour halves end up as the two regions, and each region is connected.
    assert len(np.unique(grouped[:, :16])) == 1 and len(np.unique(grouped[:, 16:])) == 1
    for region in np.unique(grouped):
        assert segmentation.flood(grouped, tuple(np.argwhere(grouped == region)[0])).sum() == (
            grouped == region).sum()


def test_batch_in_parallel_equals_serial(rng):
    batch = np.stack([as_unit_range(random_photo(rng, 48, 48)) for _ in range(3)])
    np.testing.assert_array_equal(superpixel_batch(batch, "simple"),
                                  superpixel_batch(batch, "simple", parallel=False))


def test_channel_order_only_changes_the_colour_conversion(rng):
    rgb = as_unit_range(random_photo(rng, 48, 64))
    from_rgb = simple_superpixel(rgb, "rgb")
    from_bgr = simple_superpixel(rgb[..., ::-1].copy(), "bgr")
    np.testing.assert_allclose(from_rgb, from_bgr[..., ::-1], atol=1e-5)


def test_layer_runs_inside_a_graph_and_is_not_jit_compiled(rng):
    layer = Superpixel("simple")
    assert layer.supports_jit is False
    batch = np.stack([as_unit_range(random_photo(rng, 32, 32)) for _ in range(2)])
    out = tf.function(layer)(tf.constant(batch))
    assert out.shape == batch.shape
    np.testing.assert_array_equal(out.numpy(), superpixel_batch(batch, "simple", parallel=False))


def test_layer_rejects_unknown_modes():
    with pytest.raises(ValueError, match="simple"):
        Superpixel("watershed")
