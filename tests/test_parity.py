"""Parity with the authors' own TF1 code, from golden outputs it produced (../shared/reference)."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.layers import guided_filter
from cartoonize_tf.models.authors_checkpoint import load_authors_checkpoint
from cartoonize_tf.models.pipeline import OUTPUT_FILTER_EPS, OUTPUT_FILTER_RADIUS

GOLDEN_NAMES = ["astronaut", "chelsea", "coffee"]


@pytest.fixture(scope="module")
def golden(reference_dir):
    directory = reference_dir / "authors_golden"
    manifest = json.loads((directory / "manifest.json").read_text())
    assert sorted(manifest) == GOLDEN_NAMES
    return directory, manifest


@pytest.fixture(scope="module")
def authors_generator(golden):
    return load_authors_checkpoint(golden[0] / "checkpoint")


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def authors_model_input(directory, entry):
    """The authors' preprocessing on the golden input: BGR, cropped, scaled to [-1, 1]."""
    height, width = entry["processed_hw"]
    bgr = load_rgb(directory / entry["input"])[:height, :width, ::-1]
    return (bgr.astype(np.float32) / 127.5 - 1.0)[None]


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_network_and_filtered_outputs_match(golden, authors_generator, name):
    directory, manifest = golden
    entry = manifest[name]
    x = authors_model_input(directory, entry)
    network_out = authors_generator(x)
    final_out = guided_filter(tf.constant(x), network_out, OUTPUT_FILTER_RADIUS, OUTPUT_FILTER_EPS)
    network_diff = np.abs(network_out.numpy()[0] - np.load(directory / entry["network_out"])).max()
    final_diff = np.abs(final_out.numpy()[0] - np.load(directory / entry["final_out"])).max()
    print(f"{name}: network_out max abs diff {network_diff:.2e}, final_out {final_diff:.2e}")
    assert network_diff < 1e-4
    assert final_diff < 1e-4


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_cartoonizer_reproduces_the_saved_cartoon(golden, authors_generator, name):
    directory, manifest = golden
    entry = manifest[name]
    photo = load_rgb(directory / entry["input"])
    cartoon = Cartoonizer.load(authors_generator, size_policy="authors", backend="tf").cartoonize(photo)
    expected = load_rgb(directory / entry["cartoon"])
    assert cartoon.shape == expected.shape == (*entry["processed_hw"], 3)
    difference = np.abs(cartoon.astype(int) - expected)
    print(f"{name}: {np.mean(difference == 0):.4%} of values equal, max diff {difference.max()}")
    assert difference.max() <= 1
    assert np.mean(difference == 0) > 0.999
