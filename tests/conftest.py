"""Shared fixtures: the authors' reference data and small generators (helpers live in helpers.py),
and the CPU every test sees.

Every test runs on a faked CPU (`CARTOONIZE_TF_CPU_FLAGS`, default `avx2`, which the
developer may set to another kind of `CPU_KINDS`), so what `auto` chooses never depends on the
machine that runs the suite. Tests marked `every_cpu` (those that go through `auto`: the
command line, `Cartoonizer.load` without a backend, video, bulk) run once per backend that
`auto` can take on a CPU, each under a kind of CPU that takes it.
"""

import logging
import os

from cartoonize_tf.utils.cpu_flags import CPU_FLAGS_VARIABLE, CPU_KINDS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault(CPU_FLAGS_VARIABLE, "avx2")

import numpy as np
import pytest
from helpers import REFERENCE_DIR

from cartoonize_tf.inference.choice import auto_backend


def cpu_kinds_of_every_auto_branch():
    """One CPU kind (`CPU_KINDS`) for each backend that `auto` takes on a CPU without a GPU."""
    kinds = {}
    for kind, flags in CPU_KINDS.items():
        kinds.setdefault(auto_backend(flags=flags, has_gpu=False)[0], kind)
    return list(kinds.values())


def pytest_generate_tests(metafunc):
    """Runs each `every_cpu` test under every kind that `cpu_kinds_of_every_auto_branch` names."""
    if metafunc.definition.get_closest_marker("every_cpu"):
        if "cpu_kind" not in metafunc.fixturenames:
            metafunc.fixturenames.append("cpu_kind")
        metafunc.parametrize("cpu_kind", cpu_kinds_of_every_auto_branch(), indirect=True)


@pytest.fixture
def cpu_kind(request, monkeypatch):
    """The faked CPU of an `every_cpu` test (subprocesses inherit it), named by its parameter."""
    monkeypatch.setenv(CPU_FLAGS_VARIABLE, request.param)
    return request.param


@pytest.fixture(autouse=True)
def restored_root_logging():
    """Undoes the `logging.basicConfig` of a test that ran the CLI in-process.

    Its handler writes to that test's captured stdout, which is closed once the
    test ends; later tests' log records would meet a closed file.
    """
    root = logging.getLogger()
    handlers, level = set(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers and type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def reference_dir():
    if not (REFERENCE_DIR / "authors_golden" / "manifest.json").is_file():
        pytest.skip(f"reference data not found at {REFERENCE_DIR} (it sits beside the checkout "
                    "as ../shared/reference, or set CARTOONIZE_TF_REFERENCE)")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def small_generator():
    """A randomly initialised generator, built, channels=8 to keep tests fast.

    Seeded: the int8 fidelity tests depend on the weights (48 seeds gave 40 to
    55 dB here, and one unseeded CI run gave 29 dB), so every run tests the same net.
    """
    import keras

    from cartoonize_tf.models.generator import UNetGenerator

    keras.utils.set_random_seed(0)
    generator = UNetGenerator(channels=8, num_blocks=2, channel_order="bgr")
    return generator


@pytest.fixture(scope="session")
def shaded_generator(small_generator):
    """`small_generator` with the shipped model's cel stage (`helpers.SHIPPED_STAGE`)."""
    from helpers import SHIPPED_STAGE

    from cartoonize_tf.models.loading import generator_copy

    return generator_copy(small_generator, cel_shading=SHIPPED_STAGE)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory, small_generator):
    """`small_generator` saved as a `.keras` file, for the commands' --model."""
    path = tmp_path_factory.mktemp("model") / "g.keras"
    small_generator.save(path)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)
