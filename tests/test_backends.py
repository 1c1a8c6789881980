"""Every inference backend against the reference `tf` path."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_photo

from cartoonize_tf.inference import backends
from cartoonize_tf.inference.backends import make_backend
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.inference.options import BACKENDS
from cartoonize_tf.utils.quality import psnr


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CARTOONIZE_TF_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("name,least_db", [
    ("keras-eager", 60), ("xla", 50), ("tflite", 50), ("tflite-float16", 40), ("onnx", 50),
    ("tflite-int8", 30), ("auto", 50)])
def test_backend_keeps_the_picture_at_odd_sizes(small_generator, rng, name, least_db):
    reference = make_backend("tf", small_generator)
    backend = make_backend(name, small_generator)
    for shape in ((37, 53), (64, 48)):
        photo = random_photo(rng, *shape)
        cartoon = backend.cartoonize(photo)
        assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8
        assert psnr(cartoon, reference.cartoonize(photo)) >= least_db


def test_conversions_are_cached_by_weights(small_generator, tmp_path, monkeypatch):
    calls = []
    def convert():
        calls.append(1)
        return b"model"
    assert backends.cached_conversion(small_generator, "x.onnx", convert) == b"model"
    assert backends.cached_conversion(small_generator, "x.onnx", convert) == b"model"
    assert len(calls) == 1
    changed = small_generator.from_config(small_generator.get_config())
    assert backends.generator_digest(changed) != backends.generator_digest(small_generator)


def test_unknown_backend_is_refused(small_generator):
    with pytest.raises(ValueError, match="backend must be one of"):
        Cartoonizer(small_generator, backend="gpu-magic")
    assert "auto" in BACKENDS


def test_auto_picks_litert_on_avx2_and_tensorflow_on_avx512(tmp_path):
    from cartoonize_tf.inference.backends import auto_backend

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU always gets tf")
    avx2, avx512 = tmp_path / "avx2", tmp_path / "avx512"
    avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    avx512.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw\n")
    assert auto_backend(cpuinfo=avx2) == "tflite"
    assert auto_backend(cpuinfo=avx512) == "tf"
    assert auto_backend({"filter_radius": 2}, cpuinfo=avx2) == "tf"  # only tf takes the filter
