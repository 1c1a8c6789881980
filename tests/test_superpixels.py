"""The structure representation against the authors' own outputs, and its parts by hand."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import REFERENCE_DIR, random_photo
from skimage import color, segmentation

from cartoonize_tf.layers.superpixel import Superpixel
from cartoonize_tf.whitebox.region_grouping import (
    AuthorsGrouping,
    RegionGrouping,
    adjacent_pairs,
    own_range_histograms,
)
from cartoonize_tf.whitebox.superpixels import (
    SUPERPIXEL_MODES,
    adaptive_superpixel,
    fill_mean_color,
    simple_superpixel,
    superpixel_batch,
    superpixel_image,
)

GOLDEN_DIR = REFERENCE_DIR / "authors_superpixel_golden"
# How close "equal to the authors" has to be: the share of pixels whose region is the very
# same pixel set in both, and the colour error allowed on those regions.
SAME_REGION_SHARE = 0.995
COLOR_TOLERANCE = {"simple": 1e-5, "adaptive": 1e-3}


@pytest.fixture(scope="module")
def golden():
    """`images` (BGR, [-1, 1]), `names` and the authors' result per mode, from the golden set."""
    inputs, expected = GOLDEN_DIR / "inputs.npz", GOLDEN_DIR / "expected.npz"
    if not (inputs.is_file() and expected.is_file()):
        pytest.skip(f"superpixel golden data not found at {GOLDEN_DIR} (the reference data sits "
                    "beside the checkout as ../shared/reference, or set CARTOONIZE_TF_REFERENCE)")
    with np.load(inputs) as given, np.load(expected) as made:
        return {"images": given["images"], "names": [str(n) for n in given["names"]],
                **{mode: made[mode] for mode in made.files}}


def as_unit_range(image):
    return image.astype(np.float32) / 127.5 - 1.0


def regions_of(image):
    """Label map of the areas of one colour."""
    _, inverse = np.unique(image.reshape(-1, image.shape[-1]), axis=0, return_inverse=True)
    return inverse.reshape(image.shape[:2])


def same_regions(ours, theirs):
    """Mask of the pixels whose region (area of one colour) is the same pixel set in both."""
    a, b = regions_of(ours).ravel(), regions_of(theirs).ravel()
    pair = a * (b.max() + 1) + b
    overlap = np.bincount(pair)[pair]
    same = (overlap == np.bincount(a)[a]) & (overlap == np.bincount(b)[b])
    return same.reshape(ours.shape[:2])


def region_count(image):
    return len(np.unique(image.reshape(-1, image.shape[-1]), axis=0))


@pytest.mark.parametrize("channel_order", ["bgr", "rgb"])
@pytest.mark.parametrize("mode", ["simple", "adaptive"])
def test_modes_match_the_authors(golden, mode, channel_order):
    images, expected = golden["images"], golden[mode]
    if channel_order == "rgb":  # the project trains in RGB; the result comes back in RGB
        images, expected = images[..., ::-1], expected[..., ::-1]
    ours = superpixel_batch(np.ascontiguousarray(images), mode, channel_order)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    for name, out, theirs in zip(golden["names"], ours, expected, strict=True):
        same = same_regions(out, theirs)
        assert same.mean() >= SAME_REGION_SHARE, (name, same.mean())
        error = np.abs(out - theirs)[same].max()
        assert error <= COLOR_TOLERANCE[mode], (name, error)
        if mode == "adaptive":
            assert region_count(out) == region_count(theirs), name


def test_own_range_histograms_are_numpys(rng):
    labels = segmentation.slic(random_photo(rng, 40, 56), n_segments=30, start_label=0)
    values = np.stack([rng.normal(50, 30, labels.shape).astype(np.float32),
                       np.round(rng.uniform(0, 8, labels.shape)),  # ties on the bin edges
                       np.full(labels.shape, 3.0)], axis=-1)  # constant: value -+ 0.5
    bins = 7
    hist = own_range_histograms(values, labels, bins)
    for region in range(labels.max() + 1):
        counts = np.concatenate([np.histogram(values[..., c][labels == region], bins)[0]
                                 for c in range(values.shape[-1])])
        np.testing.assert_array_equal(hist[region], counts / counts.sum())


def test_fill_mean_color_by_hand():
    image = np.array([[[0, 0, 0], [2, 4, 6]], [[10, 10, 10], [20, 20, 20]]], np.float32)
    labels = np.array([[0, 0], [1, 1]])
    filled = fill_mean_color(image, labels)
    np.testing.assert_array_equal(filled[0], [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_array_equal(filled[1], [[15, 15, 15], [15, 15, 15]])


@pytest.mark.parametrize("mode", ["simple", "simple-rgb"])
def test_simple_fills_each_slic_segment_with_its_mean(rng, mode):
    image = as_unit_range(random_photo(rng, 96, 128))
    out = superpixel_image(image, mode)
    assert out.shape == image.shape and out.dtype == np.float32
    assert 100 <= region_count(out) <= 260  # SLIC's count is near, not exactly, 200
    # Within any one output colour the input's mean is that colour.
    labels = regions_of(out)
    for label in np.unique(labels)[:20]:
        mask = labels == label
        np.testing.assert_allclose(image[mask].mean(axis=0), out[mask][0], atol=1e-4)


def test_adaptive_groups_down_to_the_target_number_of_pairs(rng):
    image = as_unit_range(random_photo(rng, 128, 128))
    max_pairs = 40
    out = adaptive_superpixel(image, max_pairs=max_pairs)
    assert out.shape == image.shape and np.all(out >= -1.0) and np.all(out <= 1.0)
    assert out.max() == 1.0  # divided by its maximum
    assert len(adjacent_pairs(regions_of(out))) <= max_pairs


@pytest.mark.parametrize("grouping", [RegionGrouping, AuthorsGrouping])
def test_grouping_merges_adjacent_regions_only(grouping):
    labels = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 8, axis=0), 8, axis=1)
    image = np.zeros((32, 32, 3))
    image[:, 16:] = 1.0  # left half black, right half white
    lab = color.rgb2lab(image)
    grouped = grouping(lab, labels).group(2)  # regions, or pairs for the authors' grouping
    assert 2 <= len(np.unique(grouped)) <= 3
    for region in np.unique(grouped):  # every region is connected
        assert segmentation.flood(grouped, tuple(np.argwhere(grouped == region)[0])).sum() == (
            grouped == region).sum()
    if grouping is RegionGrouping:  # the paper's colour similarity keeps the halves apart
        assert len(np.unique(grouped[:, :16])) == 1 and len(np.unique(grouped[:, 16:])) == 1
    else:
        assert len(adjacent_pairs(grouped)) <= 2


@pytest.mark.parametrize("mode", ["simple", "adaptive"])
def test_batch_in_parallel_equals_serial(rng, mode):
    batch = np.stack([as_unit_range(random_photo(rng, 48, 48)) for _ in range(3)])
    np.testing.assert_array_equal(superpixel_batch(batch, mode),
                                  superpixel_batch(batch, mode, parallel=False))


@pytest.mark.parametrize("mode", SUPERPIXEL_MODES)
def test_channel_order_is_only_a_matter_of_naming(rng, mode):
    rgb = as_unit_range(random_photo(rng, 48, 64))
    from_rgb = superpixel_image(rgb, mode, "rgb")
    from_bgr = superpixel_image(rgb[..., ::-1].copy(), mode, "bgr")
    np.testing.assert_allclose(from_rgb, from_bgr[..., ::-1], atol=1e-5)


def test_channel_order_matters_and_is_checked(rng):
    rgb = as_unit_range(random_photo(rng, 48, 64))
    # Naming the order wrongly swaps red and blue for the Lab conversion: other segments.
    assert not np.array_equal(simple_superpixel(rgb, "rgb"), simple_superpixel(rgb, "bgr"))
    with pytest.raises(ValueError, match="rgb"):
        simple_superpixel(rgb, "rbg")


def test_layer_runs_inside_a_graph_and_is_not_jit_compiled(rng):
    layer = Superpixel("simple")
    assert layer.supports_jit is False
    batch = np.stack([as_unit_range(random_photo(rng, 32, 32)) for _ in range(2)])
    out = tf.function(layer)(tf.constant(batch))
    assert out.shape == batch.shape
    np.testing.assert_array_equal(out.numpy(), superpixel_batch(batch, "simple", parallel=False))


@pytest.mark.parametrize("mode", SUPERPIXEL_MODES)
def test_layer_accepts_every_mode(mode):
    assert Superpixel(mode).get_config()["mode"] == mode


def test_layer_rejects_unknown_modes():
    with pytest.raises(ValueError, match="simple"):
        Superpixel("watershed")
