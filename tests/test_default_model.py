"""The shipped default model: it exists, it cartoonizes, and its SavedModel agrees with it."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import PROJECT_ROOT

from cartoonize_tf.inference.batch import collect_inputs
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.models.loading import load_generator
from cartoonize_tf.utils import quality
from cartoonize_tf.utils.image_io import read_image
from cartoonize_tf.whitebox.renderer import render_cartoon

MODEL = PROJECT_ROOT / "saved_models" / "cartoonizer.keras"
SAVED_MODEL = PROJECT_ROOT / "saved_models" / "cartoonizer" / "1"


@pytest.fixture(scope="module")
def photos():
    return [read_image(path)[:256, :256] for path in
            collect_inputs(PROJECT_ROOT / "test_code" / "test_images")]


@pytest.fixture(scope="module")
def shipped():
    return Cartoonizer.load(MODEL, size_policy="full", backend="tf")


def test_the_shipped_model_is_the_project_generator():
    generator = load_generator(MODEL)
    assert generator.count_params() == 1_467_075 and generator.channel_order == "rgb"


def test_it_imitates_the_teacher_and_flattens_the_photos(shipped, photos):
    for photo in photos:
        cartoon = shipped.cartoonize(photo)
        assert quality.flat_share(cartoon) > quality.flat_share(photo) + 0.1
        assert quality.psnr(cartoon, render_cartoon(photo)) > 20
        assert quality.lab_shift(cartoon, photo) < 10


def test_its_saved_model_gives_the_same_pictures(shipped, photos):
    serve = tf.saved_model.load(str(SAVED_MODEL)).signatures["serving_default"]
    for photo in photos[:2]:
        served = serve(images=tf.constant(photo[None]))["cartoons"].numpy()[0]
        np.testing.assert_array_equal(served, shipped.cartoonize(photo))
