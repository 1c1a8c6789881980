import cv2
import numpy as np
import pytest
from drawn_data import make_training_folder

from cartoonize_tf.data.dataset import build_dataset, patch_dataset
from cartoonize_tf.data.image_folders import FACE_EVERY, DataError, list_images


@pytest.fixture
def data_dir(tmp_path, rng):
    return make_training_folder(tmp_path / "data", rng, count=3, size=(40, 70))


def test_lists_readable_images_and_counts_the_rest(data_dir):
    images = list_images(data_dir / "photo_scenery")
    assert len(images.files) == 3
    assert [p.endswith("broken.jpg") for p in images.skipped] == [True]


def test_patches_are_cropped_and_scaled(data_dir):
    files = list_images(data_dir / "cartoon_scenery").files
    batch = next(iter(patch_dataset(files, 32, 2, seed=1))).numpy()
    assert batch.shape == (2, 32, 32, 3)
    assert batch.min() >= -1.0 and batch.max() <= 1.0


def test_patches_are_flipped_only_when_asked(tmp_path):
    # A patch as large as the image: the crop is the whole image, so only a flip can change it.
    image = np.tile(np.arange(16, dtype=np.uint8)[None, :, None] * 16, (16, 1, 3))
    cv2.imwrite(str(tmp_path / "ramp.png"), image)
    expected = image.astype(np.float32) / 127.5 - 1.0
    files = [str(tmp_path / "ramp.png")]
    for patch in patch_dataset(files, 16, 1, seed=0).take(20):
        np.testing.assert_allclose(patch.numpy()[0], expected, atol=1e-6)
    flipped = [bool(np.allclose(patch.numpy()[0], expected[:, ::-1], atol=1e-6))
               for patch in patch_dataset(files, 16, 1, seed=0, flip=True).take(20)]
    assert any(flipped) and not all(flipped)


def test_images_smaller_than_the_patch_are_scaled_up(data_dir):
    files = list_images(data_dir / "photo_face").files  # 40 x 70 images
    assert next(iter(patch_dataset(files, 64, 1, seed=1))).shape == (1, 64, 64, 3)


def test_one_batch_in_five_comes_from_faces(tmp_path):
    for group, value in (("scenery", 0), ("face", 255)):  # black scenery, white faces
        folder = tmp_path / f"photo_{group}"
        folder.mkdir()
        cv2.imwrite(str(folder / "a.png"), np.full((20, 20, 3), value, np.uint8))
    data = build_dataset(tmp_path, ("photo",), 16, 2, seed=0)
    from_faces = [bool(batch.numpy().mean() > 0) for batch in data.dataset.take(2 * FACE_EVERY)]
    assert from_faces == ([True] + [False] * (FACE_EVERY - 1)) * 2


def test_missing_folders_are_clear_errors(tmp_path, rng):
    with pytest.raises(DataError, match="does not exist"):
        build_dataset(tmp_path / "nowhere", ("photo",), 32, 2)
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match="photo_scenery"):
        build_dataset(tmp_path / "data", ("photo",), 32, 2)
    (tmp_path / "data" / "photo_scenery").mkdir()
    with pytest.raises(DataError, match="no readable images"):
        build_dataset(tmp_path / "data", ("photo",), 32, 2)


def test_paired_batches_share_their_crop_and_flip(tmp_path, rng):
    for side in ("photo", "cartoon"):
        (tmp_path / f"{side}_scenery").mkdir()
    for index in range(3):
        photo = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / "photo_scenery" / f"{index}.png"), photo)
        cv2.imwrite(str(tmp_path / "cartoon_scenery" / f"{index}.png"), 255 - photo)
    data = build_dataset(tmp_path, ("photo", "cartoon"), 32, 2, seed=0, paired=True, flip=True)
    for photos, cartoons in data.dataset.take(4):
        np.testing.assert_allclose(photos.numpy(), -cartoons.numpy(), atol=1e-6)


def test_paired_data_names_a_photo_without_its_cartoon(tmp_path):
    for side, names in (("photo", ("a.png", "b.png")), ("cartoon", ("a.png",))):
        (tmp_path / f"{side}_scenery").mkdir()
        for name in names:
            cv2.imwrite(str(tmp_path / f"{side}_scenery" / name), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DataError, match="b.png"):
        build_dataset(tmp_path, ("photo", "cartoon"), 8, 1, paired=True)


def test_teacher_batches_match_their_photos_and_cartoons_stay_unpaired(tmp_path, rng):
    root = make_training_folder(tmp_path / "data", rng, count=3, size=(40, 40), faces=False,
                                corrupt=False)
    teachers = root / "teacher_scenery"
    teachers.mkdir()
    for photo in (root / "photo_scenery").iterdir():
        # The "teacher" of each photo is its negative: easy to check crop for crop.
        cv2.imwrite(str(teachers / photo.name), 255 - cv2.imread(str(photo)))
    data = build_dataset(root, ("photo", "cartoon", "teacher"), 32, 3, seed=0)
    photos, cartoons, teacher_batch = next(iter(data.dataset))
    assert photos.shape == cartoons.shape == teacher_batch.shape == (3, 32, 32, 3)
    np.testing.assert_allclose(teacher_batch, -photos, atol=1e-5)
    assert not np.allclose(cartoons, -photos, atol=1e-2)
