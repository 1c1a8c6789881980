"""The training folder's layout and its image lists, free of TensorFlow (both trainers read them).

Layout under `--data-dir` (the face folders are optional and go together):

    photo_scenery/  cartoon_scenery/  [photo_face/  cartoon_face/]  [teacher_scenery/]
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from cartoonize_tf.data.errors import DataError
from cartoonize_tf.utils.image_io import IMAGE_SUFFIXES

# Formats tf.io.decode_image reads; TIFF is not among them.
TRAINING_SUFFIXES = tuple(s for s in IMAGE_SUFFIXES if s not in (".tif", ".tiff"))
FACE_EVERY = 5


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
    except Exception:  # any failure means TensorFlow will not read it either
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
    files = [str(p) for p, ok in zip(candidates, readable, strict=True) if ok]
    skipped = [str(p) for p, ok in zip(candidates, readable, strict=True) if not ok]
    if not files:
        raise DataError(f"{folder} holds no readable images ({', '.join(TRAINING_SUFFIXES)}); "
                        f"{len(skipped)} undecodable file(s) skipped")
    return ImageList(folder, files, skipped)


def paired_files(photos, cartoons):
    """(photo files, cartoon files) matched by file name; an unmatched file is an error."""
    by_name = {Path(path).name: path for path in cartoons.files}
    missing = [Path(path).name for path in photos.files if Path(path).name not in by_name]
    if missing:
        raise DataError(f"paired training: {len(missing)} photo(s) in {photos.folder} have no "
                        f"cartoon of the same name in {cartoons.folder}, e.g. {missing[0]}")
    return photos.files, [by_name[Path(path).name] for path in photos.files]


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


def describe_lists(lists):
    """One line per `ImageList`: its folder, image count and undecodable files skipped."""
    return "\n".join(f"  {listing.folder}: {len(listing.files)} images"
                     + (f", {len(listing.skipped)} undecodable skipped" if listing.skipped else "")
                     for listing in lists)


@dataclass
class GroupFiles:
    """One group's training files: `matched` lists cropped together (the photos, and their
    cartoons or teachers of the same names), and `unpaired` sides drawn on their own."""

    name: str
    matched_sides: tuple
    matched: tuple
    unpaired: dict


def training_files(data_dir, sides, paired=False):
    """`(groups, lists)`: each group's `GroupFiles`, and every `ImageList` read (for reports).

    The photos are matched by file name to their cartoons with `paired`, else to
    their teachers when `sides` has them; other sides are unpaired.
    """
    match = "cartoon" if paired else ("teacher" if "teacher" in sides else None)
    matched_sides = ("photo", match) if match else ("photo",)
    groups, lists = [], []
    for group in find_groups(data_dir, sides):
        by_side = {side: list_images(Path(data_dir) / f"{side}_{group}") for side in sides}
        lists.extend(by_side.values())
        matched = (paired_files(by_side["photo"], by_side[match]) if match
                   else (by_side["photo"].files,))
        groups.append(GroupFiles(group, matched_sides, tuple(matched),
                                 {side: by_side[side].files for side in sides
                                  if side not in matched_sides}))
    return groups, lists
