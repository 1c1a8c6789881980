import numpy as np
import pytest
import tensorflow as tf
from helpers import random_photo

from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.models.pipeline import cartoonize_batch, symmetric_indices


@pytest.mark.parametrize("shape", [(37, 53), (8, 8), (3, 2)])
def test_full_policy_keeps_the_exact_size(small_generator, rng, shape):
    photo = random_photo(rng, *shape)
    cartoon = Cartoonizer.load(small_generator, size_policy="full", backend="tf").cartoonize(photo)
    assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8


@pytest.mark.parametrize("size,padded,expected", [
    (6, 8, [0, 1, 2, 3, 4, 5, 5, 4]),
    (1, 8, [0] * 8),
    (3, 8, [0, 1, 2, 2, 1, 0, 0, 1]),  # padding longer than the image mirrors again
])
def test_symmetric_padding_indices(size, padded, expected):
    assert symmetric_indices(size, padded).numpy().tolist() == expected


def test_authors_policy_crops_to_multiples_of_eight(small_generator, rng):
    cartoon = Cartoonizer.load(small_generator, size_policy="authors", backend="tf").cartoonize(
        random_photo(rng, 37, 53))
    assert cartoon.shape == (32, 48, 3)


def test_rgb_api_feeds_bgr_weights_in_bgr(small_generator, rng):
    """A BGR generator sees the photo reversed, and its output is reversed back."""
    photo = random_photo(rng, 16, 24)
    x = photo[None, ..., ::-1].astype(np.float32) / 127.5 - 1.0
    raw = small_generator(x)
    from cartoonize_tf.layers import guided_filter
    filtered = guided_filter(tf.constant(x), raw, 1, 5e-3).numpy()[0, ..., ::-1]
    expected = np.clip((filtered + 1) * 127.5, 0, 255).astype(np.uint8)
    got = Cartoonizer.load(small_generator, backend="tf").cartoonize(photo)
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_batch_and_single_agree(small_generator, rng):
    photos = np.stack([random_photo(rng, 16, 16), random_photo(rng, 16, 16)])
    batch = cartoonize_batch(small_generator, tf.constant(photos)).numpy()
    single = Cartoonizer.load(small_generator, backend="tf").cartoonize(photos[1])
    assert np.abs(batch[1].astype(int) - single).max() <= 1


def test_load_takes_keras_files_and_rejects_others(tmp_path, small_generator):
    small_generator.save(tmp_path / "g.keras")
    loaded = Cartoonizer.load(tmp_path / "g.keras", size_policy="full", backend="tf")
    assert loaded.runtime.generator.channel_order == "bgr"
    with pytest.raises(FileNotFoundError):
        Cartoonizer.load(tmp_path / "missing.keras")


@pytest.mark.parametrize("bad", [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32),
                                 np.zeros((8, 8, 4), np.uint8)])
def test_rejects_arrays_that_are_not_rgb_uint8(small_generator, bad):
    with pytest.raises(ValueError, match="uint8 RGB"):
        Cartoonizer.load(small_generator, backend="tf").cartoonize(bad)


def test_unknown_size_policy(small_generator):
    with pytest.raises(ValueError, match="size_policy"):
        Cartoonizer.load(small_generator, size_policy="big")


def test_loads_the_authors_checkpoint_folder(reference_dir):
    cartoonizer = Cartoonizer.load(reference_dir / "authors_golden" / "checkpoint", backend="tf")
    assert cartoonizer.runtime.generator.channel_order == "bgr"


def test_load_says_what_is_wrong_with_a_model_path(tmp_path):
    """Nothing there, options an exported model has built in, and a file it cannot read: the
    three errors the command line translates (before anything is loaded, where it can be)."""
    from cartoonize_tf.inference.opening import ModelLoadError, ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="No model at"):
        Cartoonizer.load(tmp_path / "none.keras")
    (tmp_path / "m.tflite").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="leave --backend and --no-cel-shading out"):
        Cartoonizer.load(tmp_path / "m.tflite", backend="tf", cel_shading=False)
    with pytest.raises(ModelLoadError, match=r"^cannot load .*m\.tflite \(ValueError: "):
        Cartoonizer.load(tmp_path / "m.tflite")


def test_every_cartoonizer_keeps_the_one_contract(small_generator):
    from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
    from cartoonize_tf.whitebox.renderer import RendererCartoonizer

    cartoonizer = Cartoonizer.load(small_generator, size_policy="full", backend="tf")
    for each in (cartoonizer, cartoonizer.runtime, RendererCartoonizer()):
        assert isinstance(each, ImageCartoonizer), type(each).__name__
    assert type(cartoonizer.runtime).__name__ == "GraphCartoonizer"


def test_a_generator_is_opened_by_load_not_given_to_the_constructor(small_generator):
    with pytest.raises(TypeError, match=r"Cartoonizer.load\(model"):
        Cartoonizer(small_generator)


def test_auto_is_decided_once_on_the_way_to_a_runtime(tmp_path, small_generator, monkeypatch):
    """A model file without a shipped conversion: `auto` is decided when looking for one and
    the same choice opens the generator (it used to be decided twice)."""
    from cartoonize_tf.inference import opening

    decisions = []
    monkeypatch.setattr(opening, "auto_backend",
                        lambda *args: decisions.append(args) or ("tf", "a test's choice"))
    small_generator.save(tmp_path / "g.keras")
    loaded = Cartoonizer.load(tmp_path / "g.keras")
    assert len(decisions) == 1 and type(loaded.runtime).__name__ == "GraphCartoonizer"
