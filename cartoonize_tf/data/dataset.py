"""Training data: the authors' folder layout read into `tf.data` pipelines of random patches.

Layout under `--data-dir` (the face folders are optional and go together):

    photo_scenery/  cartoon_scenery/  [photo_face/  cartoon_face/]

Photos and cartoons are unpaired: each side is shuffled on its own. When face
folders are present, one batch in five comes from them, as in the authors'
training. With `paired=True` (supervised training on a teacher's cartoons)
each photo has the cartoon of the same file name, and both get the same crop.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf
from PIL import Image

from cartoonize_tf.utils.image_io import IMAGE_SUFFIXES

# Formats tf.io.decode_image reads; TIFF is not among them.
TRAINING_SUFFIXES = tuple(s for s in IMAGE_SUFFIXES if s not in (".tif", ".tiff"))
FACE_EVERY = 5


class DataError(ValueError):
    """The data folder is missing, empty, or lacks a required sub-folder."""


@dataclass
class ImageList:
    """The readable image files of a folder, and the ones skipped as undecodable."""

    folder: Path
    files: list
    skipped: list


def is_decodable(path):
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - any failure means TensorFlow will not read it either
        return False


def list_images(folder):
    """The image files of `folder` (not recursive), checked in parallel; undecodable ones skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"Missing folder {folder}")
    candidates = sorted(p for p in folder.iterdir()
                        if p.is_file() and p.suffix.lower() in TRAINING_SUFFIXES)
    with ThreadPoolExecutor() as pool:
        readable = list(pool.map(is_decodable, candidates))
    files = [str(p) for p, ok in zip(candidates, readable) if ok]
    skipped = [str(p) for p, ok in zip(candidates, readable) if not ok]
    if not files:
        raise DataError(f"{folder} holds no readable images ({', '.join(TRAINING_SUFFIXES)}); "
                        f"{len(skipped)} undecodable file(s) skipped")
    return ImageList(folder, files, skipped)


def decode(path):
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return tf.cast(image, tf.float32)


def load_patch(paths, patch_size, flip=False):
    """Decodes files of one size into the same random `patch_size` square crop.

    `paths` is a file or a tuple of files (a photo and its cartoon); the result
    matches, in [-1, 1] RGB. Images with a side shorter than the patch are
    first scaled up to fit it. With `flip`, the crop is flipped left-right at
    random (an augmentation the authors' training does not have).
    """
    paths = paths if isinstance(paths, tuple) else (paths,)
    image = tf.concat([decode(path) for path in paths], axis=-1)
    shape = tf.shape(image)
    short = tf.cast(tf.minimum(shape[0], shape[1]), tf.float32)
    scale = tf.maximum(1.0, patch_size / short)
    new_size = tf.cast(tf.math.ceil(tf.cast(shape[:2], tf.float32) * scale), tf.int32)
    image = tf.cond(scale > 1.0, lambda: tf.image.resize(image, new_size, "bicubic"),
                    lambda: image)
    image = tf.image.random_crop(image, [patch_size, patch_size, 3 * len(paths)])
    if flip:
        image = tf.image.random_flip_left_right(image)
    image = tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0
    parts = tuple(tf.split(image, len(paths), axis=-1))
    return parts if len(parts) > 1 else parts[0]


def patch_dataset(files, patch_size, batch_size, seed=None, flip=False):
    """An endless dataset of `[batch, patch, patch, 3]` batches drawn from `files`.

    `files` is a list of paths, or a tuple of equally long lists whose entries
    go together (then each element is a tuple of matching crops). `flip` adds
    random left-right flips.
    """
    dataset = tf.data.Dataset.from_tensor_slices(files)
    dataset = dataset.shuffle(len(files[0]) if isinstance(files, tuple) else len(files),
                              seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.map(lambda *paths: load_patch(paths, patch_size, flip),
                          num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.ignore_errors()  # a file that verified but still fails to decode
    return dataset.batch(batch_size, drop_remainder=True)


def paired_files(photos, cartoons):
    """(photo files, cartoon files) matched by file name; an unmatched file is an error."""
    by_name = {Path(path).name: path for path in cartoons.files}
    missing = [Path(path).name for path in photos.files if Path(path).name not in by_name]
    if missing:
        raise DataError(f"paired training: {len(missing)} photo(s) in {photos.folder} have no "
                        f"cartoon of the same name in {cartoons.folder}, e.g. {missing[0]}")
    return photos.files, [by_name[Path(path).name] for path in photos.files]


def interleave_faces(scenery, face):
    """One batch in `FACE_EVERY` from `face`, the rest from `scenery`."""
    choice = tf.data.Dataset.range(FACE_EVERY).repeat().map(
        lambda i: tf.cast(tf.equal(i, 0), tf.int64))
    return tf.data.Dataset.choose_from_datasets([scenery, face], choice)


@dataclass
class TrainingData:
    """A ready dataset and what went into it (for the run's report)."""

    dataset: tf.data.Dataset
    lists: list

    def describe(self):
        lines = [f"  {listing.folder}: {len(listing.files)} images"
                 + (f", {len(listing.skipped)} undecodable skipped" if listing.skipped else "")
                 for listing in self.lists]
        return "\n".join(lines)


def find_groups(data_dir, sides):
    """Which groups ("scenery", and "face" when present) the data folder holds for `sides`."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"Data folder {data_dir} does not exist")
    for side in sides:
        if not (data_dir / f"{side}_scenery").is_dir():
            raise DataError(f"{data_dir} needs a '{side}_scenery' folder (layout: photo_scenery/, "
                            "cartoon_scenery/, and optionally photo_face/, cartoon_face/)")
    has_faces = all((data_dir / f"{side}_face").is_dir() for side in sides)
    return ["scenery", "face"] if has_faces else ["scenery"]


def build_dataset(data_dir, sides, patch_size, batch_size, seed=None, paired=False, flip=False):
    """Batches of one tensor per side (`("photo",)` or `("photo", "cartoon")`), prefetched.

    With `paired`, the two sides are matched by file name and cropped (and
    flipped) alike. With `flip`, patches are flipped left-right at random.
    `("photo", "cartoon", "teacher")` gives `(photos, cartoons, teachers)`:
    the teacher's picture of each photo (same file name, same crop) beside
    unpaired cartoons.
    """
    data_dir = Path(data_dir)
    groups = find_groups(data_dir, sides)
    lists, per_group = [], []
    for group in groups:
        group_lists = [list_images(data_dir / f"{side}_{group}") for side in sides]
        lists.extend(group_lists)
        group_seed = None if seed is None else seed + (100 if group == "face" else 0)
        if paired:
            files = paired_files(*group_lists)
            per_group.append(patch_dataset(files, patch_size, batch_size, group_seed, flip))
            continue
        if tuple(sides) == ("photo", "cartoon", "teacher"):
            photos, cartoons, teachers = group_lists
            pairs = patch_dataset(paired_files(photos, teachers), patch_size, batch_size,
                                  group_seed, flip)
            unpaired = patch_dataset(cartoons.files, patch_size, batch_size,
                                     None if seed is None else group_seed + 7, flip)
            per_group.append(tf.data.Dataset.zip((pairs, unpaired)).map(
                lambda pair, cartoon: (pair[0], cartoon, pair[1])))
            continue
        side_datasets = [patch_dataset(images.files, patch_size, batch_size,
                                       None if seed is None else group_seed + 7 * offset, flip)
                         for offset, images in enumerate(group_lists)]
        per_group.append(side_datasets[0] if len(sides) == 1
                         else tf.data.Dataset.zip(tuple(side_datasets)))
    dataset = per_group[0] if len(per_group) == 1 else interleave_faces(*per_group)
    return TrainingData(dataset.prefetch(tf.data.AUTOTUNE), lists)
