"""Every inference backend against the reference `tf` path."""

import numpy as np
import pytest
from helpers import random_photo

from cartoonize_tf.inference import backends, choice
from cartoonize_tf.inference.backends import make_backend
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.inference.opening import open_runtime
from cartoonize_tf.inference.options import BACKENDS
from cartoonize_tf.utils.cpu_flags import CPU_FLAGS_VARIABLE, CPU_KINDS, cpu_flags
from cartoonize_tf.utils.quality import psnr


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CARTOONIZE_TF_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("generator,name,least_db", [
    *[("small_generator", name, least_db) for name, least_db in (
        ("keras-eager", 60), ("tf-bfloat16", 50), ("xla", 50), ("openvino", 50),
        ("openvino-bfloat16", 45), ("tflite", 50), ("tflite-float16", 40), ("onnx", 50),
        ("tflite-int8", 30))],
    # The shipped stage (the photo's colour, ink lines) converted to each format.
    *[("shaded_generator", name, 45) for name in ("tflite", "onnx", "openvino")]])
def test_backend_keeps_the_picture_at_odd_sizes(request, rng, generator, name, least_db):
    """Each backend draws the `tf` picture at sizes the generator's strides do not divide."""
    generator = request.getfixturevalue(generator)
    reference = make_backend("tf", generator)
    backend = make_backend(name, generator)
    for shape in ((37, 53), (64, 48), (72, 96)):
        photo = random_photo(rng, *shape)
        cartoon = backend.cartoonize(photo)
        assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8
        assert psnr(cartoon, reference.cartoonize(photo)) >= least_db


@pytest.mark.every_cpu
def test_auto_keeps_the_picture_on_every_kind_of_cpu(small_generator, rng):
    reference = make_backend("tf", small_generator)
    backend = open_runtime(small_generator)
    photo = random_photo(rng, 37, 53)
    assert psnr(backend.cartoonize(photo), reference.cartoonize(photo)) >= 45


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


def test_shipping_a_conversion_converts_anew(small_generator, tmp_path, monkeypatch):
    """A conversion already under the model's name (the stage's code changed since, say) is
    replaced, not read back: shipping never takes a cached file."""
    from cartoonize_tf.inference.conversion_files import conversion_kind
    from cartoonize_tf.models.loading import load_generator

    model_path = tmp_path / "generator.keras"
    small_generator.save(model_path)
    folder = tmp_path / "conversions"
    folder.mkdir()
    name = f"{backends.generator_digest(load_generator(model_path))}-{conversion_kind('tflite')}"
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("CARTOONIZE_TF_CACHE", str(cache))
    for stale in (folder / name, cache / name):
        stale.write_bytes(b"stale")
    monkeypatch.setattr(backends, "fresh_conversion", lambda kind, generator: b"fresh")
    assert backends.ship_conversion(model_path, folder=folder).read_bytes() == b"fresh"
    assert not (cache / name).exists()  # nor is the stale copy read first from now on


def test_unknown_backend_is_refused(small_generator):
    with pytest.raises(ValueError, match="backend must be one of"):
        Cartoonizer.load(small_generator, backend="gpu-magic")
    assert "auto" in BACKENDS


AVX2 = {"fpu", "sse2", "avx", "avx2", "fma"}
AVX512 = AVX2 | {"avx512f", "avx512bw", "avx512vl"}


@pytest.mark.parametrize("flags,has_gpu,expected", [
    (AVX2, False, "openvino"),
    (AVX512, False, "openvino"),
    (AVX512 | {"avx512_bf16", "avx512_vnni"}, False, "openvino-bfloat16"),  # Zen 4, Cooper Lake
    (AVX512 | {"amx_bf16", "amx_tile", "amx_int8"}, False, "openvino-bfloat16"),  # Sapphire Rapids
    (AVX2, True, "tf"),
    (AVX512 | {"avx512_bf16"}, True, "tf"),
    (set(), False, "openvino"),  # flags unreadable
])
def test_auto_rule_for_every_kind_of_machine(flags, has_gpu, expected):
    name, reason = choice.auto_backend(flags=flags, has_gpu=has_gpu)
    assert name == expected and reason
    assert name in BACKENDS


def test_auto_gives_a_non_default_filter_to_tensorflow():
    for flags in (AVX2, AVX512 | {"avx512_bf16"}):
        assert choice.auto_backend({"filter_radius": 2}, flags=flags, has_gpu=False)[0] == "tf"


def test_gpus_are_looked_for_only_where_a_driver_is(monkeypatch):
    import sys

    monkeypatch.setattr(choice, "GPU_DEVICE_FILES", ("/no/such/driver",))
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # importing it would fail
    assert choice.gpu_visible() is False


def test_auto_reads_this_machines_flags(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    monkeypatch.setattr(choice, "cpu_flags", lambda: cpu_flags(cpuinfo))
    assert choice.auto_backend(has_gpu=False)[0] == "openvino-bfloat16"


@pytest.mark.parametrize("kind", CPU_KINDS)
def test_the_faked_cpu_decides_what_auto_takes(monkeypatch, kind):
    monkeypatch.setenv(CPU_FLAGS_VARIABLE, kind)
    assert cpu_flags() == CPU_KINDS[kind]
    assert choice.auto_backend(has_gpu=False) == choice.auto_backend(flags=CPU_KINDS[kind],
                                                                      has_gpu=False)
    monkeypatch.setenv(CPU_FLAGS_VARIABLE, "avx2, AMX_BF16")  # flags, as /proc/cpuinfo has them
    assert cpu_flags() == {"avx2", "amx_bf16"}


def test_without_the_switch_the_flags_are_this_machines(monkeypatch):
    monkeypatch.delenv(CPU_FLAGS_VARIABLE)
    assert cpu_flags() == cpu_flags("/proc/cpuinfo")


def test_every_cpu_tests_cover_every_branch_auto_takes_on_a_cpu():
    from conftest import cpu_kinds_of_every_auto_branch

    taken = {choice.auto_backend(flags=flags, has_gpu=False)[0] for flags in CPU_KINDS.values()}
    covered = [choice.auto_backend(flags=CPU_KINDS[kind], has_gpu=False)[0]
               for kind in cpu_kinds_of_every_auto_branch()]
    assert sorted(covered) == sorted(taken)  # which ones: test_default_model.AUTO_CHOICES


def test_openvino_computes_bfloat16_only_where_the_cpu_does(small_generator, caplog):
    """On a CPU without native bfloat16 the bfloat16 backend runs float32 and says so."""
    import logging

    import openvino

    native = "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    with caplog.at_level(logging.INFO):
        backend = make_backend("openvino-bfloat16", small_generator)
    assert backend.precision == ("bfloat16" if native else "float32")
    assert native or "no native bfloat16" in caplog.text


def test_openvino_refuses_an_unknown_precision():
    from cartoonize_tf.inference.runtimes import OpenVINOCartoonizer

    with pytest.raises(ValueError, match="precision must be one of"):
        OpenVINOCartoonizer(b"", precision="int4")


