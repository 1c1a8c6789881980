"""Random training patches in numpy, from images held decoded in memory (the JAX trainer's data).

The files and pairing of `image_folders.training_files` (as `dataset.build_dataset`), without
TensorFlow: photos and their teachers share a crop, cartoons are drawn on their
own, and with face folders one batch in five comes from them.
"""

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cartoonize_tf.data.image_folders import (
    FACE_EVERY,
    DataError,
    describe_lists,
    training_files,
)

logger = logging.getLogger(__name__)
DEFAULT_MEMORY_LIMIT = 8 << 30


@dataclass
class ImageGroup:
    """One group's decoded images: `[side][image]` uint8 arrays, the sides of an image alike."""

    images: list

    def crops(self, rng, count, patch_size, flip):
        """`count` random crops of each side, as float32 `[count, patch, patch, 3]` in [-1, 1]."""
        batches = [[] for _ in self.images]
        for index in rng.integers(len(self.images[0]), size=count):
            height, width = self.images[0][index].shape[:2]
            top = rng.integers(height - patch_size + 1)
            left = rng.integers(width - patch_size + 1)
            mirror = flip and rng.random() < 0.5
            for batch, side in zip(batches, self.images, strict=True):
                patch = side[index][top:top + patch_size, left:left + patch_size]
                batch.append(patch[:, ::-1] if mirror else patch)
        return [np.stack(b).astype(np.float32) / 127.5 - 1.0 for b in batches]


def training_size(size, patch_size):
    """`(width, height)` scaled up, if needed, so that the short side holds a patch."""
    scale = max(1.0, patch_size / min(size))
    return tuple(int(np.ceil(side * scale)) for side in size)


def decoded_size(path, patch_size):
    """Bytes the decoded RGB image will take (scaled up to the patch if smaller), from its header."""
    with Image.open(path) as image:
        width, height = training_size(image.size, patch_size)
    return width * height * 3


def load_rgb(path, patch_size):
    """The image as uint8 RGB, scaled up (bicubic) so that its short side holds a patch."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        size = training_size(image.size, patch_size)
        if size != image.size:
            image = image.resize(size, Image.Resampling.BICUBIC)
        return np.asarray(image)


def check_same_sizes(photos, teachers, teacher_files):
    """Raises `DataError` unless each teacher's picture has its photo's size (they share crops)."""
    for photo, teacher, path in zip(photos, teachers, teacher_files, strict=True):
        if photo.shape != teacher.shape:
            raise DataError(f"{path}: {teacher.shape[1]}x{teacher.shape[0]}, but its photo is "
                            f"{photo.shape[1]}x{photo.shape[0]}; a teacher must match its photo")


class PatchSampler:
    """Endless batches of random square patches, one array per side, like `build_dataset`'s.

    Args:
        data_dir: the training folder (see `image_folders`).
        sides: `("photo",)`, `("photo", "cartoon")` or `("photo", "cartoon", "teacher")`;
            a teacher is matched to its photo by file name and cropped alike.
        patch_size, batch_size: the patches' side and the batch's size.
        seed: seed for the crops.
        paired: match the cartoons to the photos by file name, as the teachers are
            (`pretrain.py --paired`).
        flip: flip patches left-right at random.
        memory_limit: most bytes the decoded images may take; checked from the
            image headers before anything is decoded.
    """

    def __init__(self, data_dir, sides, patch_size, batch_size, seed=None, paired=False,
                 flip=False, memory_limit=DEFAULT_MEMORY_LIMIT):
        self.sides = tuple(sides)
        self.patch_size = patch_size
        self.batch_size = batch_size
        self.flip = flip
        self.rng = np.random.default_rng(seed)
        groups, self.lists = training_files(data_dir, sides, paired)
        # Sides cropped together (the photo and its match), and the sides drawn on their own.
        self.paired_sides = groups[0].matched_sides
        self.unpaired_sides = tuple(groups[0].unpaired)
        every_file = [f for group in groups
                      for side in (*group.matched, *group.unpaired.values()) for f in side]
        needed = sum(decoded_size(path, patch_size) for path in every_file)
        if needed > memory_limit:
            raise DataError(f"the training images take {needed / 2**30:.1f} GiB decoded, over the "
                            f"{memory_limit / 2**30:.1f} GiB limit: cut them into smaller tiles "
                            "or use fewer")
        logger.info("Decoding %d training images (%.0f MiB)", len(every_file), needed / 2**20)
        self.groups = []  # per group: (the paired sides' ImageGroup, one per unpaired side)
        for group in groups:
            pairs = ImageGroup([[load_rgb(f, patch_size) for f in side] for side in group.matched])
            if len(group.matched) > 1:
                check_same_sizes(*pairs.images, group.matched[1])
            self.groups.append((pairs, [ImageGroup([[load_rgb(f, patch_size) for f in side]])
                                        for side in group.unpaired.values()]))
        self.batches = 0

    def describe(self):
        return describe_lists(self.lists)

    def next_batch(self):
        """One float32 NHWC batch in [-1, 1] per side, in `sides` order (a tuple)."""
        face_turn = len(self.groups) > 1 and self.batches % FACE_EVERY == 0
        pairs, unpaired = self.groups[1 if face_turn else 0]
        self.batches += 1
        crops = pairs.crops(self.rng, self.batch_size, self.patch_size, self.flip)
        batches = dict(zip(self.paired_sides, crops, strict=True))
        for side, group in zip(self.unpaired_sides, unpaired, strict=True):
            batches[side] = group.crops(self.rng, self.batch_size, self.patch_size, self.flip)[0]
        return tuple(batches[side] for side in self.sides)
