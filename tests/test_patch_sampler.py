"""The JAX trainer's numpy patches: the folders, pairing and checks of the tf.data loader."""

import cv2
import numpy as np
import pytest
from drawn_data import make_training_folder

from cartoonize_tf.data.image_folders import DataError
from cartoonize_tf.data.patch_sampler import PatchSampler


@pytest.fixture
def data_dir(tmp_path, rng):
    root = make_training_folder(tmp_path / "data", rng, count=3, size=(40, 70), faces=False)
    (root / "teacher_scenery").mkdir()
    for photo in (root / "photo_scenery").glob("*.png"):  # a teacher equal to its photo
        (root / "teacher_scenery" / photo.name).write_bytes(photo.read_bytes())
    return root


def test_batches_have_the_asked_shape_and_range(data_dir):
    sampler = PatchSampler(data_dir, ("photo", "cartoon"), 32, 4, seed=0)
    photos, cartoons = sampler.next_batch()
    for batch in (photos, cartoons):
        assert batch.shape == (4, 32, 32, 3) and batch.dtype == np.float32
        assert -1.0 <= batch.min() and batch.max() <= 1.0
    assert "1 undecodable skipped" in sampler.describe()  # the folder's broken.jpg


def test_teacher_gets_its_photos_crop(data_dir):
    sampler = PatchSampler(data_dir, ("photo", "cartoon", "teacher"), 24, 6, seed=1, flip=True)
    for _ in range(3):
        photos, _, teachers = sampler.next_batch()
        np.testing.assert_array_equal(photos, teachers)


def test_small_images_are_scaled_up_to_a_patch(data_dir):
    (photos,) = PatchSampler(data_dir, ("photo",), 64, 2, seed=0).next_batch()
    assert photos.shape == (2, 64, 64, 3)


def test_paired_cartoons_get_their_photos_crop(data_dir):
    for cartoon in (data_dir / "cartoon_scenery").glob("*.png"):
        cartoon.unlink()
    for photo in (data_dir / "photo_scenery").glob("*.png"):
        (data_dir / "cartoon_scenery" / photo.name).write_bytes(photo.read_bytes())
    photos, cartoons = PatchSampler(data_dir, ("photo", "cartoon"), 24, 6, seed=2,
                                    paired=True).next_batch()
    np.testing.assert_array_equal(photos, cartoons)


def test_a_teacher_of_another_size_is_refused(data_dir):
    teacher = next((data_dir / "teacher_scenery").glob("*.png"))
    cv2.imwrite(str(teacher), np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(DataError, match="must match its photo"):
        PatchSampler(data_dir, ("photo", "cartoon", "teacher"), 16, 2)


def test_the_memory_limit_is_checked_before_decoding(data_dir, monkeypatch):
    import cartoonize_tf.data.patch_sampler as patch_sampler

    def no_decoding(*args):
        raise AssertionError("decoded despite the limit")

    monkeypatch.setattr(patch_sampler, "load_rgb", no_decoding)
    with pytest.raises(DataError, match="GiB limit"):
        PatchSampler(data_dir, ("photo", "cartoon"), 32, 2, memory_limit=1000)
