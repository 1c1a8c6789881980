"""Shared fixtures: the authors' reference data and small generators (helpers live in helpers.py)."""

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from helpers import REFERENCE_DIR


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
    """`small_generator` with the shipped model's cel stage (`helpers.FLAT_TONES`)."""
    from helpers import FLAT_TONES

    from cartoonize_tf.models.loading import generator_copy

    return generator_copy(small_generator, cel_shading=FLAT_TONES)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory, small_generator):
    """`small_generator` saved as a `.keras` file, for the commands' --model."""
    path = tmp_path_factory.mktemp("model") / "g.keras"
    small_generator.save(path)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)
