import keras
import numpy as np

from cartoonize_tf.models.discriminator import PatchDiscriminator


def test_patch_map_shape(rng):
    discriminator = PatchDiscriminator(channels=8)
    x = rng.uniform(-1, 1, (2, 64, 48, 3)).astype(np.float32)
    assert discriminator(x).shape == (2, 8, 6, 1)


def test_training_calls_bring_each_kernel_to_unit_spectral_norm(rng):
    keras.utils.set_random_seed(0)  # the same initial kernels and u vectors on every run
    discriminator = PatchDiscriminator(channels=8)
    discriminator.build((None, None, None, 1))
    x = rng.uniform(-1, 1, (1, 32, 32, 1)).astype(np.float32)
    for _ in range(100):  # one power iteration per call; convergence speed depends on the draw
        discriminator(x, training=True)
    for wrapper in discriminator.convs:
        kernel = np.asarray(wrapper.layer.kernel).reshape(-1, wrapper.layer.kernel.shape[-1])
        assert abs(np.linalg.norm(kernel, 2) - 1.0) < 0.05


def test_inference_calls_leave_the_weights_alone(rng):
    discriminator = PatchDiscriminator(channels=8)
    discriminator.build((None, None, None, 3))
    before = [w.numpy() for w in discriminator.weights]
    discriminator(rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32))
    for old, new in zip(before, discriminator.weights):
        np.testing.assert_array_equal(old, new)


def test_keras_round_trip(tmp_path, rng):
    discriminator = PatchDiscriminator(channels=4, num_stages=2, name="d")
    discriminator.build((None, None, None, 3))
    discriminator.save(tmp_path / "d.keras")
    loaded = keras.saving.load_model(tmp_path / "d.keras")
    assert loaded.get_config()["num_stages"] == 2
    x = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x), discriminator(x), atol=1e-6)
