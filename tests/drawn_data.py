"""A tiny training folder in the authors' layout, drawn by the tests themselves."""

import cv2
import numpy as np
from helpers import random_photo


def draw_cartoon(rng, height, width):
    """Flat colour shapes with dark outlines: a stand-in for a cartoon frame."""
    image = np.full((height, width, 3), rng.integers(120, 255, 3), np.uint8)
    for _ in range(6):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = int(rng.integers(height // 8, height // 3))
        cv2.circle(image, centre, radius, colour, -1)
        cv2.circle(image, centre, radius, (20, 20, 20), 2)
    return image


def make_training_folder(root, rng, count=6, size=(72, 96), faces=True, corrupt=True):
    """photo_/cartoon_ scenery (and face) folders of small images; one corrupt file if asked."""
    groups = ["scenery", "face"] if faces else ["scenery"]
    for group in groups:
        for side, draw in (("photo", random_photo), ("cartoon", draw_cartoon)):
            folder = root / f"{side}_{group}"
            folder.mkdir(parents=True)
            for index in range(count):
                cv2.imwrite(str(folder / f"{index}.png"), draw(rng, *size)[..., ::-1])
    if corrupt:
        (root / "photo_scenery" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    return root
