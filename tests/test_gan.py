import keras
import numpy as np
import pytest
import tensorflow as tf

from cartoonize_tf.models.vgg_features import VGGFeatures, VGGWeightsError
from cartoonize_tf.training.builders import build_generator
from cartoonize_tf.training.losses import edge_l1
from cartoonize_tf.training.tensorflow.builders import build_gan, build_pretrainer
from cartoonize_tf.training.tensorflow.white_box_gan import DISCRIMINATOR_METRICS, GENERATOR_METRICS


@pytest.fixture(scope="module")
def vgg():
    return VGGFeatures(weights=None)


def make_gan(vgg):
    generator = build_generator(channels=8, num_blocks=1)
    return build_gan(vgg, generator, discriminator_channels=8, xla=False, seed=0)


def batch(rng, size=32):
    photos = rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
    cartoons = rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
    return tf.constant(photos), tf.constant(cartoons)


def snapshot(model):
    return [w.numpy() for w in model.weights]


def changed(before, model):
    return [not np.array_equal(old, new) for old, new in zip(before, model.weights, strict=True)]


def test_generator_update_changes_the_generator_and_only_the_discriminators_u(vgg, rng):
    gan = make_gan(vgg)
    photos, _ = batch(rng)
    superpixels = gan.superpixel(gan.generate(photos))
    before = {m: snapshot(m) for m in (gan.generator, gan.surface_discriminator,
                                       gan.texture_discriminator, gan.vgg_features)}
    results = gan.generator_update(photos, superpixels)
    assert all(changed(before[gan.generator], gan.generator))
    assert not any(changed(before[gan.vgg_features], gan.vgg_features))
    # As in the authors' step, the discriminators' power iteration runs on (u advances)...
    for model in (gan.surface_discriminator, gan.texture_discriminator):
        moved = {w.path for w, c in zip(model.weights, changed(before[model], model), strict=True) if c}
        assert moved == {w.path for w in model.weights if w.path.endswith("/u")}
    # ... but their kernels and biases stay.
    assert set(results) == set(GENERATOR_METRICS)
    assert all(np.isfinite(float(v)) for v in results.values())


def test_updates_take_given_colour_shift_weights_and_report_gradients(vgg, rng):
    gan = make_gan(vgg)
    photos, cartoons = batch(rng)
    superpixels = gan.superpixel(gan.generate(photos))
    shift = {"r": 0.3, "g": 0.5, "b": 0.2}
    results, gradients = gan.generator_update(photos, superpixels, shift_weights=shift,
                                              return_gradients=True)
    assert set(gradients) == {v.path for v in gan.generator.trainable_variables}
    assert set(results) == set(GENERATOR_METRICS)
    results, gradients = gan.discriminator_update(photos, cartoons, shift_weights=shift,
                                                  return_gradients=True)
    assert set(gradients) == {v.path for v in gan.discriminator_variables}
    assert not any(path.endswith("/u") for path in gradients)
    assert set(results) == set(DISCRIMINATOR_METRICS)


def test_discriminator_update_changes_only_the_discriminators(vgg, rng):
    gan = make_gan(vgg)
    photos, cartoons = batch(rng)
    before_g = snapshot(gan.generator)
    before_d = snapshot(gan.surface_discriminator) + snapshot(gan.texture_discriminator)
    results = gan.discriminator_update(photos, cartoons)
    assert not any(changed(before_g, gan.generator))
    after_d = gan.surface_discriminator.weights + gan.texture_discriminator.weights
    kernels_changed = [not np.array_equal(old, new) for old, new in zip(before_d, after_d, strict=True)
                       if "kernel" in new.path]
    assert kernels_changed and all(kernels_changed)
    assert set(results) == set(DISCRIMINATOR_METRICS)


def test_mixed_precision_step_runs_and_keeps_float32_weights(rng):
    generator = build_generator(channels=8, num_blocks=1, dtype="mixed_float16")
    gan = build_gan(VGGFeatures(weights=None, dtype="mixed_float16"), generator,
                    discriminator_channels=8, xla=False, seed=0)
    assert gan.surface_discriminator.dtype_policy.name == "mixed_float16"
    assert gan.vgg_features.features.layers[1].compute_dtype == "float16"
    results = gan.train_step(batch(rng))
    _, gradients = gan.discriminator_update(*batch(rng), return_gradients=True)
    assert all(np.isfinite(float(v)) for v in results.values())
    # Reported without the loss scale (2**15 at the start): LSGAN gradients are of order 1.
    assert max(float(tf.reduce_max(tf.abs(g))) for g in gradients.values()) < 100
    assert all(w.dtype == "float32" for w in gan.surface_discriminator.weights)


def test_fit_logs_every_loss_and_counts_steps(vgg, rng):
    gan = make_gan(vgg)
    dataset = tf.data.Dataset.from_tensors(batch(rng)).repeat()
    history = gan.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)
    assert set(history.history) == set(GENERATOR_METRICS + DISCRIMINATOR_METRICS)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert int(gan.train_steps.numpy()) == 2


def test_pretrainer_reduces_reconstruction_loss(rng):
    pretrainer = build_pretrainer(build_generator(channels=8, num_blocks=1), learning_rate=1e-3)
    photos = rng.uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    history = pretrainer.fit(tf.data.Dataset.from_tensors(photos).repeat(), steps_per_epoch=30,
                             epochs=2, verbose=0)
    losses = history.history["l1"]
    assert losses[-1] < 0.8 * losses[0]


def test_vgg_features_are_pre_activation_and_frozen(vgg, rng):
    features = vgg(rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32))
    assert features.shape == (1, 4, 4, 512)
    assert np.min(features) < 0  # no ReLU after conv4_4
    assert vgg.trainable_weights == []


def test_vgg_channel_order_is_respected(vgg, rng):
    bgr_vgg = VGGFeatures(weights=None, channel_order="bgr")
    bgr_vgg.features.set_weights(vgg.features.get_weights())
    image = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(vgg(image), bgr_vgg(image[..., ::-1].copy()), atol=1e-4)


def test_vgg_reads_the_authors_npy_weights(vgg, rng, tmp_path):
    # Their format: `conv{block}_{index}` -> [kernel, bias], up to conv4_4 at least.
    table = {}
    for layer in vgg.features.layers:
        if layer.weights:
            block, index = layer.name.removesuffix("_linear").removeprefix("block").split("_conv")
            table[f"conv{block}_{index}"] = [w.numpy() * 1.5 for w in layer.weights]
    np.save(tmp_path / "vgg19.npy", table)
    loaded = VGGFeatures(weights=str(tmp_path / "vgg19.npy"))
    for layer in loaded.features.layers:
        if layer.weights:
            block, index = layer.name.removesuffix("_linear").removeprefix("block").split("_conv")
            for weight, expected in zip(layer.weights, table[f"conv{block}_{index}"], strict=True):
                np.testing.assert_array_equal(weight.numpy(), expected)
    del table["conv4_4"]
    np.save(tmp_path / "short.npy", table)
    with pytest.raises(VGGWeightsError, match="conv4_4"):
        VGGFeatures(weights=str(tmp_path / "short.npy"))


def test_missing_vgg_weights_file_is_named(tmp_path):
    with pytest.raises(VGGWeightsError, match="no-such.h5"):
        VGGFeatures(weights=str(tmp_path / "no-such.h5"))


def test_offline_imagenet_download_says_where_to_put_the_file(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(VGGWeightsError) as raised:
        VGGFeatures(weights="imagenet")
    message = str(raised.value)
    assert str(tmp_path / "models" / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5") in message
    assert "--vgg-weights" in message


def test_edge_loss_is_zero_for_a_shifted_level_and_counts_both_directions():

    flat = tf.zeros([1, 4, 4, 1])
    assert float(edge_l1(flat + 0.5, flat)) == 0.0
    ramp = tf.reshape(tf.range(4, dtype=tf.float32), [1, 1, 4, 1]) * tf.ones([1, 4, 1, 1])
    assert float(edge_l1(ramp, flat)) == pytest.approx(1.0)  # 1 per step along x, 0 along y
    assert float(edge_l1(tf.transpose(ramp, [0, 2, 1, 3]), flat)) == pytest.approx(1.0)


def test_pixel_mode_and_the_teacher_terms(rng):
    generator = build_generator(channels=8, num_blocks=1)
    gan = build_gan(None, generator, discriminator_channels=8, xla=False, seed=0,
                    loss_weights={"content": 0.0, "structure": 1.0, "teacher": 1.0,
                                  "teacher_edges": 2.0})
    photos, cartoons = batch(rng)
    teachers = tf.constant(rng.uniform(-1, 1, photos.shape).astype(np.float32))
    fake = gan.generate(photos, training=True)
    superpixels = gan.superpixel(fake)
    expected_teacher = float(tf.reduce_mean(tf.abs(fake - teachers)))
    expected_structure = float(tf.reduce_mean(tf.abs(fake - superpixels)))
    expected_edges = float(edge_l1(fake, teachers))
    results = gan.generator_update(photos, superpixels, teachers=teachers)
    assert float(results["teacher"]) == pytest.approx(expected_teacher, rel=1e-5)
    assert float(results["structure"]) == pytest.approx(expected_structure, rel=1e-5)
    assert float(results["teacher_edges"]) == pytest.approx(expected_edges, rel=1e-5)
    parts = (1e4 * float(results["total_variation"]) + 0.1 * float(results["surface_g"])
             + float(results["texture_g"]) + float(results["structure"]) + expected_teacher
             + 2 * expected_edges)
    assert float(results["generator_loss"]) == pytest.approx(parts, rel=1e-5)
    # A dataset of (photos, cartoons, teachers) trains through fit.
    dataset = tf.data.Dataset.from_tensors((photos, cartoons, teachers)).repeat()
    history = gan.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)
    assert history.history["teacher"][-1] > 0


def test_with_the_structure_term_off_no_superpixels_are_computed(rng):
    generator = build_generator(channels=8, num_blocks=1)
    gan = build_gan(None, generator, discriminator_channels=8, xla=False, seed=0,
                    loss_weights={"structure": 0.0})

    def refuse(images):
        raise AssertionError("the superpixel step ran with the structure term off")

    gan.superpixel = refuse
    dataset = tf.data.Dataset.from_tensors(batch(rng)).repeat()
    history = gan.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)
    assert history.history["structure"][-1] == 0
    assert np.isfinite(history.history["generator_loss"][-1])
