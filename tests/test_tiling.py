"""Large images in tiles, and the style strength: both against the whole, untiled picture."""

import numpy as np
import pytest
from helpers import random_photo

from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.models.generator import UNetGenerator
from cartoonize_tf.models.pipeline import cartoonize_batch
from cartoonize_tf.utils.tiling import DEFAULT_MARGIN, cartoonize_tiled


@pytest.fixture(scope="module")
def full_generator():
    """The paper's architecture (its receptive field is what the margin must cover)."""
    import keras

    keras.utils.set_random_seed(1)
    generator = UNetGenerator(channel_order="rgb")
    return generator


def test_the_margin_covers_the_generators_reach(full_generator, rng):
    """One changed pixel changes the output no further than the tiles' margin."""
    size = 2 * DEFAULT_MARGIN + 64
    photo = random_photo(rng, size, size)
    changed = photo.copy()
    changed[size // 2, size // 2] = 255 - changed[size // 2, size // 2]
    difference = np.abs(np.asarray(cartoonize_batch(full_generator, np.stack([photo, changed])),
                                   np.int16))
    rows, cols = np.nonzero((difference[0] != difference[1]).any(axis=-1))
    reach = max(np.abs(rows - size // 2).max(), np.abs(cols - size // 2).max())
    assert 0 < reach <= DEFAULT_MARGIN


def test_tiled_and_whole_differ_by_at_most_two_grey_levels(full_generator, rng):
    cartoonizer = Cartoonizer.load(full_generator, size_policy="full", backend="tf", tile=None)
    photo = random_photo(rng, 300, 277)  # not multiples of 8: edge tiles are padded
    whole = cartoonizer.cartoonize(photo)
    tile = 2 * DEFAULT_MARGIN + 80
    calls = []

    def counted(image):
        calls.append(image.shape)
        return cartoonizer.runtime.cartoonize(image)

    tiled = cartoonize_tiled(counted, photo, tile=tile)
    assert len(calls) > 4 and max(max(shape[:2]) for shape in calls) <= tile
    assert np.abs(tiled.astype(np.int16) - whole).max() <= 2


def test_small_images_are_not_tiled(small_generator, rng):
    photo = random_photo(rng, 40, 48)
    calls = []
    cartoonize_tiled(lambda image: calls.append(image.shape) or image, photo, tile=48)
    assert calls == [(40, 48, 3)]


@pytest.mark.parametrize("tile,margin", [(100, 8), (128, 64), (136, 60)])
def test_bad_tile_sizes_are_refused(tile, margin, rng):
    with pytest.raises(ValueError, match="multiples of 8"):
        cartoonize_tiled(lambda image: image, random_photo(rng, 300, 300), tile, margin)


def test_strength_zero_is_the_photo_and_one_the_model(small_generator, rng):
    photo = random_photo(rng, 32, 40)
    own = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    none = Cartoonizer.load(small_generator, size_policy="full", strength=0.0,
                       backend="tf").cartoonize(photo)
    half = Cartoonizer.load(small_generator, size_policy="full", strength=0.5,
                       backend="tf").cartoonize(photo)
    np.testing.assert_array_equal(none, photo)
    expected = np.rint((photo.astype(np.float32) + own) / 2)
    assert np.abs(half.astype(np.int16) - expected).max() <= 1
    assert 0 < np.abs(half.astype(np.int16) - own).mean() < np.abs(photo.astype(np.int16) - own).mean()
    with pytest.raises(ValueError, match="strength"):
        Cartoonizer.load(small_generator, strength=1.5)


def test_filter_options_change_the_picture_and_need_a_graph_backend(small_generator, rng):
    photo = random_photo(rng, 32, 40)
    authors = Cartoonizer.load(small_generator, size_policy="full").cartoonize(photo)
    smoother = Cartoonizer.load(small_generator, size_policy="full", filter_radius=4,
                           filter_eps=0.05).cartoonize(photo)
    assert np.abs(smoother.astype(np.int16) - authors).max() > 0
    with pytest.raises(ValueError, match="built in"):
        Cartoonizer.load(small_generator, backend="tflite", filter_radius=4)


def test_tiling_is_reported_once_per_size(rng, caplog):
    image = random_photo(rng, 40, 56)
    with caplog.at_level("INFO", logger="cartoonize_tf.utils.tiling"):
        for _ in range(3):
            cartoonize_tiled(lambda piece: piece, image, tile=32, margin=8)
    assert [record.getMessage() for record in caplog.records] == [
        "56 x 40 runs in tiles of at most 32 px (--tile)"]
