"""The authors' spectral-norm convolution: raw kernel as the variable, W / sigma in every call."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import run_layer_test

from cartoonize_tf.layers.spectral_norm_conv import SpectralNormConv2D


def built_layer(rng, filters=6, in_channels=4, strides=1, top_singular_u=False):
    layer = SpectralNormConv2D(filters, 3, strides=strides, name="sn")
    layer.build((None, None, None, in_channels))
    layer.kernel.assign(rng.normal(0, 0.3, layer.kernel.shape).astype(np.float32))
    layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape).astype(np.float32))
    if top_singular_u:  # the power iteration's fixed point
        _, _, vt = np.linalg.svd(layer.kernel.numpy().reshape(-1, filters))
        layer.u.assign(vt[:1])
    return layer


def test_output_is_the_convolution_with_the_kernel_over_its_spectral_norm(rng):
    layer = built_layer(rng, strides=2, top_singular_u=True)
    x = rng.uniform(-1, 1, (2, 9, 7, 4)).astype(np.float32)
    kernel = layer.kernel.numpy()
    sigma = np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), 2)
    expected = tf.nn.conv2d(x, kernel / sigma, [1, 2, 2, 1], "SAME") + layer.bias.numpy()
    for training in (False, True):  # normalised in inference calls too
        np.testing.assert_allclose(layer(x, training=training), expected, atol=1e-5)
    assert layer.compute_output_shape((2, 9, 7, 4)) == (2, 5, 4, 6)


def test_only_training_calls_store_the_power_iteration(rng):
    layer = built_layer(rng)
    x = rng.uniform(-1, 1, (1, 5, 5, 4)).astype(np.float32)
    u, kernel = layer.u.numpy(), layer.kernel.numpy()
    inference = layer(x)
    np.testing.assert_array_equal(layer.u.numpy(), u)
    training = layer(x, training=True)
    np.testing.assert_array_equal(inference, training)  # the same W / sigma either way
    matrix = kernel.reshape(-1, kernel.shape[-1])
    v = u @ matrix.T
    v /= np.linalg.norm(v)
    u_hat = v @ matrix
    np.testing.assert_allclose(layer.u.numpy(), u_hat / np.linalg.norm(u_hat), atol=1e-6)
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel)


def test_the_kernel_gradient_carries_the_sigma_term(rng):
    """d/dW of L(W / sigma) = (G - <G, W/sigma> v u^T) / sigma, G the gradient for W / sigma."""
    layer = built_layer(rng, top_singular_u=True)
    x = tf.constant(rng.uniform(-1, 1, (2, 6, 6, 4)).astype(np.float32))
    weights = tf.constant(rng.normal(size=(2, 6, 6, 6)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True) * weights)
    raw_gradient = tape.gradient(loss, layer.kernel).numpy()

    kernel = layer.kernel.numpy()
    matrix = kernel.reshape(-1, kernel.shape[-1])
    left, singular, right = np.linalg.svd(matrix)
    sigma, v, u = singular[0], left[:, :1], right[:1]
    normalized = tf.Variable(kernel / sigma)
    with tf.GradientTape() as tape:
        plain = tf.nn.conv2d(x, normalized, [1, 1, 1, 1], "SAME") + layer.bias.numpy()
        loss = tf.reduce_sum(plain * weights)
    g = tape.gradient(loss, normalized).numpy().reshape(matrix.shape)
    expected = (g - np.sum(g * matrix / sigma) * (v @ u)) / sigma
    np.testing.assert_allclose(raw_gradient.reshape(matrix.shape), expected, atol=1e-4)


def test_mixed_precision_keeps_the_power_iteration_in_float32(rng):
    layer = SpectralNormConv2D(4, 3, dtype="mixed_float16")
    y = layer(rng.uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32), training=True)
    assert y.dtype == "float16"
    assert layer.u.dtype == layer.kernel.dtype == "float32"
    assert np.all(np.isfinite(layer.u.numpy()))


def test_keras_layer_conventions(tmp_path, rng):
    x = rng.uniform(-1, 1, (2, 6, 6, 3)).astype(np.float32)
    run_layer_test(SpectralNormConv2D, {"filters": 5, "kernel_size": (3, 1), "strides": (2, 1),
                                        "activation": "leaky_relu"}, x, (2, 3, 6, 5), tmp_path)


def test_keras_round_trip_keeps_u(tmp_path):
    inputs = keras.Input((None, None, 3))
    layer = SpectralNormConv2D(5, 3, name="sn")
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "sn.keras")
    loaded = keras.saving.load_model(tmp_path / "sn.keras")
    np.testing.assert_array_equal(loaded.get_layer("sn").u.numpy(), layer.u.numpy())


@pytest.mark.parametrize("kwargs", [{"kernel_size": 0}, {"strides": (1, 2, 3)}])
def test_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        SpectralNormConv2D(**{"filters": 2, "kernel_size": 3, **kwargs})
