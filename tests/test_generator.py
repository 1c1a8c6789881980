import numpy as np
import pytest
import tensorflow as tf
from helpers import random_photo, run_layer_test

from cartoonize_tf.layers.residual_block import ResidualBlock
from cartoonize_tf.layers.resize import upsample_bilinear_2x, upsample_by_interleaving
from cartoonize_tf.models.generator import UNetGenerator


def test_default_architecture_has_the_papers_parameter_count():
    generator = UNetGenerator()
    assert generator.count_params() == 1_467_075
    assert len(generator.plain_convs) == 10 and len(generator.blocks) == 4


@pytest.mark.parametrize("height,width", [(64, 64), (36, 52), (8, 12)])
def test_output_has_the_input_size(small_generator, rng, height, width):
    x = rng.uniform(-1, 1, (2, height, width, 3)).astype(np.float32)
    assert small_generator(x).shape == (2, height, width, 3)


def tf1_bilinear_2x(x):
    """TF1 resize_bilinear (align_corners=False, half_pixel_centers=False), 2x, in numpy."""
    def along(axis, values):
        n = values.shape[axis]
        src = np.arange(2 * n) / 2.0
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(values.ndim)])
        return np.take(values, lo, axis) * (1 - frac) + np.take(values, hi, axis) * frac
    return along(2, along(1, x))


def test_upsampling_uses_the_tf1_grid(rng):
    x = rng.uniform(-1, 1, (1, 5, 7, 2)).astype(np.float32)
    got = upsample_bilinear_2x(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, tf1_bilinear_2x(x), atol=1e-6)
    # tf.image.resize uses half-pixel centres: a different picture, so not a valid stand-in.
    half_pixel = tf.image.resize(x, (10, 14), "bilinear").numpy()
    assert np.abs(half_pixel - got).max() > 0.05


def test_upsampling_in_keras_ops_uses_the_same_grid(rng):
    """The other backends' path (the JAX trainer's) equals the TensorFlow op."""
    x = rng.uniform(-1, 1, (2, 5, 7, 3)).astype(np.float32)
    got = upsample_by_interleaving(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, tf1_bilinear_2x(x), atol=1e-6)


def test_upsampling_keeps_the_dtype():
    x = tf.zeros((1, 2, 2, 1), tf.float16)
    assert upsample_bilinear_2x(x).dtype == tf.float16


def test_keras_model_conventions(tmp_path, rng):
    x = rng.uniform(-1, 1, (1, 16, 24, 3)).astype(np.float32)
    run_layer_test(UNetGenerator, {"channels": 8, "num_blocks": 2, "channel_order": "bgr"}, x,
                   (1, 16, 24, 3), tmp_path, atol=0)


def test_residual_block_conventions(tmp_path, rng):
    x = rng.uniform(-1, 1, (1, 6, 5, 4)).astype(np.float32)
    run_layer_test(ResidualBlock, {"filters": 4}, x, (1, 6, 5, 4), tmp_path)


def test_rejects_an_unknown_channel_order():
    with pytest.raises(ValueError, match="channel_order"):
        UNetGenerator(channel_order="rbg")


def test_with_rgb_weights_keeps_a_bgr_generators_pictures(small_generator, rng):
    from cartoonize_tf.models.pipeline import cartoonize_batch
    from cartoonize_tf.training.builders import build_generator

    assert small_generator.channel_order == "bgr"
    rgb = build_generator(pretrained=small_generator)  # what train.py --pretrained does
    assert rgb.channel_order == "rgb"
    photos = np.stack([random_photo(rng, 24, 32), random_photo(rng, 24, 32)])
    np.testing.assert_allclose(np.asarray(cartoonize_batch(rgb, photos), np.int16),
                               np.asarray(cartoonize_batch(small_generator, photos), np.int16),
                               atol=1)
    # The same raw network output, with red and blue swapped on both sides.
    x = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(rgb(x), np.asarray(small_generator(x[..., ::-1]))[..., ::-1],
                               atol=1e-5)
    # Weights copied, not shared: the original stays as it was.
    assert small_generator.plain_convs[0].kernel is not rgb.plain_convs[0].kernel
