import keras
import numpy as np
from helpers import run_layer_test

from cartoonize_tf.models.discriminator import PatchDiscriminator


def test_patch_map_shape(rng):
    discriminator = PatchDiscriminator(channels=8)
    x = rng.uniform(-1, 1, (2, 64, 48, 3)).astype(np.float32)
    assert discriminator(x).shape == (2, 8, 6, 1)


def test_training_calls_bring_each_kernel_to_unit_spectral_norm(rng):
    keras.utils.set_random_seed(0)  # the same initial kernels and u vectors on every run
    discriminator = PatchDiscriminator(channels=8, input_channels=1)
    raw = [layer.kernel.numpy() for layer in discriminator.convs]
    x = rng.uniform(-1, 1, (1, 32, 32, 1)).astype(np.float32)
    for _ in range(100):  # one power iteration per call; convergence speed depends on the draw
        discriminator(x, training=True)
    for layer, kernel in zip(discriminator.convs, raw, strict=True):
        np.testing.assert_array_equal(layer.kernel.numpy(), kernel)  # the variable stays raw
        normalized = np.asarray(layer.normalized_kernel()).reshape(-1, layer.filters)
        assert abs(np.linalg.norm(normalized, 2) - 1.0) < 0.05


def test_layers_and_variables_carry_the_authors_names():
    discriminator = PatchDiscriminator(channels=4, num_stages=2, name="disc")
    assert [w.path for w in discriminator.weights[:3]] == [
        "disc/conv0_1/kernel", "disc/conv0_1/bias", "disc/conv0_1/u"]
    assert [layer.name for layer in discriminator.convs] == [
        "conv0_1", "conv0_2", "conv1_1", "conv1_2", "conv_out"]
    assert len(discriminator.trainable_weights) == 2 * len(discriminator.convs)


def test_without_spectral_norm_the_convolutions_are_plain(rng):
    discriminator = PatchDiscriminator(channels=4, num_stages=1, spectral_norm=False)
    assert all(type(layer) is keras.layers.Conv2D for layer in discriminator.convs)
    assert discriminator(rng.uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)).shape == (1, 4, 4, 1)


def test_inference_calls_leave_the_weights_alone(rng):
    discriminator = PatchDiscriminator(channels=8)
    before = [w.numpy() for w in discriminator.weights]
    discriminator(rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32))
    for old, new in zip(before, discriminator.weights, strict=True):
        np.testing.assert_array_equal(old, new)


def test_keras_model_conventions(tmp_path, rng):
    x = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    run_layer_test(PatchDiscriminator, {"channels": 4, "num_stages": 2}, x, (1, 4, 4, 1),
                   tmp_path)
