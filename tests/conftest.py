"""Shared fixtures: the authors' reference data and small generators."""

import io
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The golden outputs of the authors' code live beside the checkout, never inside it.
REFERENCE_DIR = Path(os.environ.get("CARTOONIZE_TF_REFERENCE",
                                    PROJECT_ROOT.parent / "shared" / "reference"))


@pytest.fixture(scope="session")
def reference_dir():
    if not (REFERENCE_DIR / "authors_golden" / "manifest.json").is_file():
        pytest.skip(f"reference data not found at {REFERENCE_DIR} (it sits beside the checkout "
                    "as ../shared/reference, or set CARTOONIZE_TF_REFERENCE)")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def small_generator():
    """A randomly initialised generator, built, channels=8 to keep tests fast."""
    from cartoonize_tf.models.generator import UNetGenerator

    generator = UNetGenerator(channels=8, num_blocks=2, channel_order="bgr")
    generator.build((None, None, None, 3))
    return generator


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def random_photo(rng, height, width):
    """A smooth colourful uint8 RGB image (gradients plus noise) of the given size."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx / max(width - 1, 1), yy / max(height - 1, 1),
                     0.5 + 0.5 * np.sin(xx / 7.0 + yy / 5.0)], axis=-1)
    noisy = base * 220 + rng.normal(0, 12, size=(height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def png_bytes(image):
    """A uint8 image encoded as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
