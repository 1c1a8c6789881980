import numpy as np
import pytest
from helpers import run_layer_test

from cartoonize_tf.layers import ColorShift
from cartoonize_tf.layers.color_shift import DEFAULT_WEIGHT_RANGES


def test_fixed_weights_give_the_normalised_weighted_sum(rng):
    image = rng.uniform(-1, 1, (2, 5, 6, 3)).astype(np.float32)
    weights = {"r": 0.3, "g": 0.6, "b": 0.1}
    grey = np.asarray(ColorShift("rgb", fixed_weights=weights)(image))
    expected = (0.3 * image[..., 0] + 0.6 * image[..., 1] + 0.1 * image[..., 2]) / 1.0
    assert grey.shape == (2, 5, 6, 1)
    np.testing.assert_allclose(grey[..., 0], expected, atol=1e-6)


def test_channel_order_names_the_channels_not_the_positions(rng):
    rgb = rng.uniform(-1, 1, (1, 4, 4, 3)).astype(np.float32)
    weights = {"r": 0.2, "g": 0.5, "b": 0.3}
    from_rgb = ColorShift("rgb", fixed_weights=weights)(rgb)
    from_bgr = ColorShift("bgr", fixed_weights=weights)(rgb[..., ::-1].copy())
    np.testing.assert_allclose(from_rgb, from_bgr, atol=1e-6)


def test_weights_given_to_a_call_replace_the_draw(rng):
    image = rng.uniform(-1, 1, (1, 4, 4, 3)).astype(np.float32)
    weights = {"b": 0.1, "g": 0.6, "r": 0.3}
    given = ColorShift("bgr", seed=5)(image, weights=weights)
    np.testing.assert_allclose(given, ColorShift("bgr", fixed_weights=weights)(image), atol=1e-6)
    with pytest.raises(ValueError):
        ColorShift("bgr")(image, weights={"r": 1.0})


def test_random_weights_are_in_range_and_normalised():
    layer = ColorShift("bgr", seed=3)
    draws = np.stack([np.asarray(layer.draw_weights()) for _ in range(200)])
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, atol=1e-6)
    # Before normalisation each weight lies in its range, so each ratio is bounded.
    low = {c: r[0] for c, r in DEFAULT_WEIGHT_RANGES.items()}
    high = {c: r[1] for c, r in DEFAULT_WEIGHT_RANGES.items()}
    for index, channel in enumerate("bgr"):
        others_high = sum(high[c] for c in "rgb" if c != channel)
        others_low = sum(low[c] for c in "rgb" if c != channel)
        assert draws[:, index].min() >= low[channel] / (low[channel] + others_high) - 1e-6
        assert draws[:, index].max() <= high[channel] / (high[channel] + others_low) + 1e-6
    assert draws.std(axis=0).min() > 0.01  # the draw really varies


def test_one_draw_is_shared_by_every_batch_in_the_call(rng):
    a = rng.uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)
    shifted_a, shifted_copy = ColorShift(seed=1)([a, a.copy()])
    np.testing.assert_array_equal(shifted_a, shifted_copy)


def test_seeded_layers_repeat_their_draws(rng):
    a = rng.uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)
    first, second = ColorShift(seed=7), ColorShift(seed=7)
    np.testing.assert_array_equal(first(a), second(a))
    assert not np.array_equal(first(a), first(a))


def test_keras_layer_conventions(tmp_path, rng):
    run_layer_test(ColorShift, {"channel_order": "bgr", "fixed_weights": {"r": 1.0, "g": 2.0, "b": 1.0},
                                "seed": 3},
                   rng.uniform(-1, 1, (2, 3, 5, 3)).astype(np.float32), (2, 3, 5, 1), tmp_path)


@pytest.mark.parametrize("kwargs", [{"channel_order": "rgba"}, {"fixed_weights": {"r": 1.0}}])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ColorShift(**kwargs)
