"""The morphology the line rules and the tones are built from: black-hat, coherence, ridges,
thinning."""

import numpy as np
import tensorflow as tf

from cartoonize_tf.layers.morphology import black_hat, coherence, differences, ridge, thin_dark


def column_image(profile, height=24):
    """An image [1, height, len(profile), 1] whose every row is `profile`."""
    row = np.asarray(profile, np.float32)
    return tf.constant(np.broadcast_to(row[None, None, :, None], (1, height, row.size, 1)))


def test_black_hat_measures_narrow_dark_lines_only():
    profile = np.full(40, 50.0)
    profile[10:13] -= 8.0  # a line 3 px wide
    profile[25:34] -= 8.0  # a band 9 px wide
    hat = black_hat(column_image(profile), 2).numpy()[0, 12, :, 0]
    np.testing.assert_allclose(hat[10:13], 8.0, atol=1e-5)
    np.testing.assert_allclose(np.delete(hat, range(10, 13)), 0.0, atol=1e-5)


def test_coherence_is_high_along_lines_and_low_in_noise(rng):
    stripes = column_image(50 + 10 * np.sin(np.arange(40) / 2.0))
    noise = tf.constant(rng.normal(50, 10, (1, 24, 40, 1)).astype(np.float32))
    assert coherence(stripes, 3).numpy()[0, 8:16, 8:32].min() > 0.95
    assert coherence(noise, 3).numpy()[0, 8:16, 8:32].mean() < 0.65  # about 0.5 over 7x7


def test_differences_keep_the_shape():
    ramp = column_image(np.arange(10.0))
    dx, dy = differences(ramp)
    assert dx.shape == dy.shape == ramp.shape
    np.testing.assert_allclose(dx.numpy(), 1.0)
    np.testing.assert_allclose(dy.numpy(), 0.0)


def test_ridge_keeps_a_valley_centre_narrow():
    """On a smooth bump the centre and its two neighbours (at 0.9 of its height) stay, the
    flanks go."""
    bump = 10.0 * np.exp(-((np.arange(21) - 10.0) / 3.0) ** 2)
    weight = ridge(column_image(bump)).numpy()[0, 12, :, 0]
    assert weight[10] > 0.9 and weight[10] > weight[[9, 11]].max() > 0.5
    assert weight[[7, 13]].max() < 0.5 and weight[:6].max() < 0.01


def test_black_hat_sees_no_feature_at_the_border():
    """A dark strip along the border, and brightness falling towards it, go on outside the
    image: neither is a narrow dark feature."""
    strip = np.full(40, 50.0)
    strip[:3] -= 8.0
    falling = 50.0 - 2.0 * np.maximum(8 - np.arange(40), 0)
    for profile in (strip, falling, strip[::-1], falling[::-1]):
        np.testing.assert_allclose(black_hat(column_image(profile), 4).numpy(), 0.0, atol=1e-5)
    rows = tf.transpose(column_image(strip), (0, 2, 1, 3))
    np.testing.assert_allclose(black_hat(rows, 4).numpy(), 0.0, atol=1e-5)


def dark_band(width, depth=30.0, size=40, start=15):
    profile = np.full(size, 60.0)
    profile[start:start + width] -= depth
    return profile


def test_thin_dark_keeps_lines_and_lifts_the_flanks_of_bands():
    for width in (1, 2, 3, 4):
        profile = dark_band(width)
        thinned = thin_dark(column_image(profile), 5, 12.0).numpy()[0, 12, :, 0]
        np.testing.assert_allclose(thinned, profile, atol=2.0)  # 0.95 of the depth kept
    profile = dark_band(6)
    thinned = thin_dark(column_image(profile), 5, 12.0).numpy()[0, 12, :, 0]
    np.testing.assert_allclose(thinned[17:19], 30.0, atol=2.0)  # the middle two stay
    lifted = thinned - profile
    assert lifted[[15, 20]].min() > 9.0 and lifted[[16, 19]].min() > 6.0  # a third, a quarter
    assert lifted[[15, 20]].min() > lifted[[16, 19]].max()
    np.testing.assert_allclose(np.delete(lifted, range(15, 21)), 0.0, atol=1e-5)


def test_thin_dark_leaves_flat_areas_wide_regions_and_shallow_bands():
    flat = column_image(np.full(40, 60.0))
    np.testing.assert_array_equal(thin_dark(flat, 5, 12.0).numpy(), flat.numpy())
    wide = np.where(np.arange(40) < 20, 30.0, 60.0)  # an edge: no feature narrower than 11
    np.testing.assert_allclose(thin_dark(column_image(wide), 5, 12.0).numpy()[0, 12, :, 0],
                               wide, atol=1e-5)
    shallow = dark_band(6, depth=4.0)
    lifted = thin_dark(column_image(shallow), 5, 12.0).numpy()[0, 12, :, 0] - shallow
    assert lifted.max() < 0.1 * 4.0
