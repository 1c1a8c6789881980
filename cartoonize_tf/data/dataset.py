"""Training data: the authors' folder layout (`image_folders`) read into `tf.data` pipelines.

Photos and cartoons are unpaired: each side is shuffled on its own. When face
folders are present, one batch in five comes from them, as in the authors'
training. With `paired=True` (supervised training on a teacher's cartoons)
each photo has the cartoon of the same file name, and both get the same crop.
"""

from dataclasses import dataclass

import tensorflow as tf

from cartoonize_tf.data.image_folders import FACE_EVERY, describe_lists, training_files


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
        return describe_lists(self.lists)


def build_dataset(data_dir, sides, patch_size, batch_size, seed=None, paired=False, flip=False):
    """Batches of one tensor per side (`("photo",)` or `("photo", "cartoon")`), prefetched.

    With `paired`, the two sides are matched by file name and cropped (and
    flipped) alike. With `flip`, patches are flipped left-right at random.
    `("photo", "cartoon", "teacher")` gives `(photos, cartoons, teachers)`:
    the teacher's picture of each photo (same file name, same crop) beside
    unpaired cartoons.
    """
    groups, lists = training_files(data_dir, sides, paired)
    per_group = []
    for group in groups:
        group_seed = None if seed is None else seed + (100 if group.name == "face" else 0)
        matched = group.matched if len(group.matched) > 1 else group.matched[0]
        parts = [patch_dataset(matched, patch_size, batch_size, group_seed, flip)]
        parts += [patch_dataset(files, patch_size, batch_size,
                                None if seed is None else group_seed + 7 * offset, flip)
                  for offset, files in enumerate(group.unpaired.values(), start=1)]
        per_group.append(in_side_order(parts, [*group.matched_sides, *group.unpaired], sides))
    dataset = per_group[0] if len(per_group) == 1 else interleave_faces(*per_group)
    return TrainingData(dataset.prefetch(tf.data.AUTOTUNE), lists)


def in_side_order(parts, produced, sides):
    """The datasets `parts` (yielding the sides `produced`, in order) zipped into `sides` order."""
    if len(parts) == 1 and tuple(produced) == tuple(sides):
        return parts[0]

    def reorder(*elements):
        by_side = dict(zip(produced, tf.nest.flatten(elements), strict=True))
        return tuple(by_side[side] for side in sides)

    return tf.data.Dataset.zip(tuple(parts)).map(reorder)
