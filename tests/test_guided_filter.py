import numpy as np
import pytest
import tensorflow as tf
from helpers import run_layer_test

from cartoonize_tf.layers import GuidedFilter, guided_filter


def box_sum(x, radius):
    """Zero-padded box sum over each pixel's (2r+1)^2 window, in plain numpy."""
    padded = np.pad(x, ((0, 0), (radius, radius), (radius, radius), (0, 0)))
    height, width = x.shape[1:3]
    size = 2 * radius + 1
    return sum(padded[:, i:i + height, j:j + width] for i in range(size) for j in range(size))


def reference_guided_filter(x, y, radius, eps):
    """The box-sum formulation of the authors' code: box(v) / box(ones)."""
    count = box_sum(np.ones_like(x[..., :1]), radius)
    def mean(v):
        return box_sum(v, radius) / count

    mean_x, mean_y = mean(x), mean(y)
    a = (mean(x * y) - mean_x * mean_y) / (mean(x * x) - mean_x * mean_x + eps)
    b = mean_y - a * mean_x
    return mean(a) * x + mean(b)


@pytest.mark.parametrize("radius,eps,shape", [(1, 5e-3, (2, 17, 23, 3)), (5, 0.2, (1, 32, 12, 3)),
                                              (2, 1e-2, (1, 5, 4, 3))])
def test_matches_box_sum_reference(rng, radius, eps, shape):
    x = rng.uniform(-1, 1, shape)
    y = rng.uniform(-1, 1, shape)
    expected = reference_guided_filter(x, y, radius, eps)
    got = GuidedFilter(radius, eps)([x.astype(np.float32), y.astype(np.float32)])
    np.testing.assert_allclose(np.asarray(got), expected, atol=2e-5)


def test_single_channel_guide(rng):
    x = rng.uniform(-1, 1, (1, 9, 11, 1))
    y = rng.uniform(-1, 1, (1, 9, 11, 3))
    got = guided_filter(tf.constant(x, tf.float32), tf.constant(y, tf.float32), 1, 1e-2)
    np.testing.assert_allclose(got.numpy(), reference_guided_filter(x, y, 1, 1e-2), atol=2e-5)


def test_flat_image_is_unchanged():
    flat = np.full((1, 10, 10, 3), 0.3, np.float32)
    np.testing.assert_allclose(GuidedFilter(1, 5e-3)([flat, flat]), flat, atol=1e-6)


def test_smooths_noise_but_keeps_a_strong_edge(rng):
    step = np.where(np.arange(32) < 16, -0.8, 0.8).astype(np.float32)
    clean = np.broadcast_to(step[None, None, :, None], (1, 32, 32, 3))
    noisy = (clean + rng.normal(0, 0.05, clean.shape)).astype(np.float32)
    out = np.asarray(GuidedFilter(radius=5, eps=0.2)([noisy, noisy]))
    assert np.std(out[..., :8, :]) < 0.5 * np.std(noisy[..., :8, :])
    assert out[0, 16, 15, 0] < -0.5 and out[0, 16, 16, 0] > 0.5


def test_is_differentiable_in_both_inputs(rng):
    x = tf.Variable(rng.uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32))
    y = tf.Variable(rng.uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(GuidedFilter(1, 1e-2)([x, y]) ** 2)
    grad_x, grad_y = tape.gradient(loss, [x, y])
    assert np.all(np.isfinite(grad_x)) and np.any(grad_x.numpy() != 0)
    assert np.all(np.isfinite(grad_y)) and np.any(grad_y.numpy() != 0)


def test_fixed_size_graph_holds_no_image_sized_constant():
    layer = GuidedFilter(1, 5e-3)
    spec = tf.TensorSpec([1, 96, 128, 3], tf.float32)
    graph = tf.function(lambda x, y: layer([x, y])).get_concrete_function(spec, spec).graph
    sizes = [tf.make_ndarray(op.get_attr("value")).size
             for op in graph.get_operations() if op.type == "Const"]
    assert max(sizes) < 96 * 128


def test_keras_layer_conventions(tmp_path, rng):
    x = rng.uniform(-1, 1, (2, 12, 10, 3)).astype(np.float32)
    y = rng.uniform(-1, 1, (2, 12, 10, 3)).astype(np.float32)
    run_layer_test(GuidedFilter, {"radius": 2, "eps": 0.05}, [x, y], (2, 12, 10, 3), tmp_path)


@pytest.mark.parametrize("kwargs", [{"radius": 0}, {"radius": 1.5}, {"eps": 0}])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        GuidedFilter(**kwargs)
