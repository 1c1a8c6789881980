"""Remake the README's gallery: each test photo beside its cartoon.

    python test_code/make_gallery.py [--model saved_models/cartoonizer.keras] [--output docs/gallery]
                                     [--previous old-cartoonizer.keras]

Cartoonizes every image of test_code/test_images at the authors' size (short
side at most 720) and writes `<output>/<name>.jpg`: photo on the left, cartoon
on the right, scaled to 360 px high to keep the repository small, and
`<output>/strength.jpg`: the first photo at each of `STRENGTHS`,
`<output>/comparison.jpg`: one row per photo of photo | model | white-box
renderer (`--method filter`, the teacher), with the model it replaces between
photo and model when `--previous` names it, so a retraining's change is seen at
a glance, and `<output>/portraits.jpg`: the portraits of the training data's
sources (scikit-image's astronaut; Grace Hopper and Luis Pedro Coelho from the
matplotlib and mahotas wheels, fetched into `--cache-dir` once) as photo |
previous | model, with the face enlarged, and `<output>/presets.jpg`: a person, a
scene and food under each look preset (`cartoonize run --preset NAME`). Run it again
after every retraining.

With `--pairs DIR` (a folder of photo | authors' result pairs, manifest.json)
it writes `<output>/pairs.jpg` instead: photo | authors' result | previous
model | model, each cartoonized at twice the cell size and area-resized back.
The authors' results are CC BY-NC-SA: `--output` must then lie outside the
project, so they never end up in it.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
HEIGHT = 360
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
COMPARISON_WIDTH = 1200


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "saved_models" / "cartoonizer.keras"))
    parser.add_argument("--photos", default=str(ROOT / "test_code" / "test_images"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "gallery"))
    parser.add_argument("--previous", help="the model this one replaces: a column of comparison.jpg")
    parser.add_argument("--cache-dir", default=None,
                        help="where the portraits' wheels are kept (default: prepare-data's)")
    parser.add_argument("--pairs", help="a folder of photo | authors' result pairs: write "
                                        "pairs.jpg (outside the project) instead")
    args = parser.parse_args()
    if args.pairs and Path(args.output).resolve().is_relative_to(ROOT):
        print("error: --pairs holds the authors' results (CC BY-NC-SA): choose an --output "
              "outside the project", file=sys.stderr)
        return 2

    import cv2
    import numpy as np

    from cartoonize_tf.inference.batch import collect_inputs
    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.inference.sizing import authors_resize_crop
    from cartoonize_tf.models.loading import load_generator
    from cartoonize_tf.utils.image_io import read_image, write_image
    from cartoonize_tf.whitebox.renderer import render_cartoon

    for path in filter(None, (args.model, args.previous)):
        if not Path(path).is_file():
            print(f"error: no model at {path}", file=sys.stderr)
            return 2
    cartoonizer = Cartoonizer.load(args.model, size_policy="full")
    Path(args.output).mkdir(parents=True, exist_ok=True)

    def write_strip(pictures, name, height=HEIGHT):
        strip = np.concatenate(pictures, axis=1)
        width = round(strip.shape[1] * height / strip.shape[0])
        target = Path(args.output) / name
        write_image(cv2.resize(strip, (width, height), interpolation=cv2.INTER_AREA), target)
        print(f"Wrote {target}")

    if args.pairs:
        return write_pairs(args, cartoonizer, write_image)
    photos = [(Path(path).stem, authors_resize_crop(read_image(path)))
              for path in collect_inputs(args.photos)]
    for stem, photo in photos:
        write_strip([photo, cartoonizer.cartoonize(photo)], f"{stem}.jpg")
    model = load_generator(args.model)  # `cartoonizer` may run its LiteRT conversion instead
    write_strip([Cartoonizer.load(model, size_policy="full", strength=s).cartoonize(photos[0][1])
                 for s in STRENGTHS], "strength.jpg", HEIGHT // 2)
    methods = [cartoonizer.cartoonize, render_cartoon]
    labels = ["photo", "model", "white-box renderer"]
    if args.previous:
        methods.insert(0, Cartoonizer.load(args.previous, size_policy="full").cartoonize)
        labels.insert(1, "previous model")
    rows = [np.concatenate([photo] + [method(photo) for method in methods], axis=1)
            for _, photo in photos]
    rows = [cv2.resize(row, (COMPARISON_WIDTH, round(row.shape[0] * COMPARISON_WIDTH / row.shape[1])),
                       interpolation=cv2.INTER_AREA) for row in rows]
    target = Path(args.output) / "comparison.jpg"
    write_image(np.concatenate([column_labels(labels, COMPARISON_WIDTH), *rows]), target)
    print(f"Wrote {target}")
    write_portraits(args, [m for m in methods if m is not render_cartoon], write_image)
    write_presets(args, dict(photos), write_image)
    return 0


def write_presets(args, photos, write_image):
    """presets.jpg: one row per photo (a person, a scene, food), one column per look preset."""
    import cv2
    import numpy as np

    from cartoonize_tf.contract.look import PRESETS
    from cartoonize_tf.inference.cartoonizer import Cartoonizer

    cartoonizers = [Cartoonizer.load(args.model, size_policy="full", look=name)
                    for name in PRESETS]
    width = COMPARISON_WIDTH // len(PRESETS)
    rows = []
    for stem in ("astronaut", "rocket", "coffee"):
        cells = [cartoonizer.cartoonize(photos[stem]) for cartoonizer in cartoonizers]
        rows.append(np.concatenate([cv2.resize(c, (width, round(c.shape[0] * width / c.shape[1])),
                                               interpolation=cv2.INTER_AREA) for c in cells],
                                   axis=1))
    labels = [f"--preset {name}" for name in PRESETS]
    target = Path(args.output) / "presets.jpg"
    write_image(np.concatenate([column_labels(labels, width * len(PRESETS)), *rows]), target)
    print(f"Wrote {target}")


def write_portraits(args, methods, write_image):
    """portraits.jpg: photo | (previous |) model, each beside its face box enlarged."""
    import cv2
    import numpy as np

    from cartoonize_tf.cli.defaults import DEFAULT_DATA_CACHE
    from cartoonize_tf.data import photo_sources
    from cartoonize_tf.inference.sizing import authors_resize_crop
    from cartoonize_tf.utils.quality import face_boxes

    cache = args.cache_dir or ROOT / DEFAULT_DATA_CACHE
    sources = [p for p in photo_sources.skimage_photos() if p.name == "skimage/astronaut"]
    sources += photo_sources.wheel_photos(cache)
    labels = ["photo"] + (["previous model"] if len(methods) > 1 else []) + ["model"]
    rows = []
    for source in sources:
        photo = authors_resize_crop(source.load())
        pictures = [photo] + [method(photo) for method in methods]
        boxes = face_boxes(photo)
        cells = []
        for picture in pictures:
            cell = cv2.resize(picture, (HEIGHT * picture.shape[1] // picture.shape[0], HEIGHT),
                              interpolation=cv2.INTER_AREA)
            if boxes:
                x, y, w, h = max(boxes, key=lambda box: box[2] * box[3])
                face = cv2.resize(picture[y:y + h, x:x + w], (HEIGHT, HEIGHT),
                                  interpolation=cv2.INTER_CUBIC)
                cell = np.concatenate([cell, face], axis=1)
            cells.append(cell)
        rows.append(np.concatenate(cells, axis=1))
    width = min(row.shape[1] for row in rows)
    rows = [cv2.resize(row, (width, round(row.shape[0] * width / row.shape[1])),
                       interpolation=cv2.INTER_AREA) for row in rows]
    target = Path(args.output) / "portraits.jpg"
    write_image(np.concatenate([column_labels(labels, width), *rows]), target)
    print(f"Wrote {target}")


def column_labels(labels, width, height=36):
    """A white strip naming each of `len(labels)` equal columns, to stand above a grid."""
    import cv2
    import numpy as np

    strip = np.full((height, width, 3), 255, np.uint8)
    column = width / len(labels)
    for index, label in enumerate(labels):
        (text_width, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)
        left = round(index * column + (column - text_width) / 2)
        cv2.putText(strip, label, (left, height - 11), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (40, 36, 29), 2, cv2.LINE_AA)
    return strip


def write_pairs(args, cartoonizer, write_image):
    """pairs.jpg: photo | authors' result | previous | model, one row per pair."""
    import json

    import cv2
    import numpy as np

    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.utils.image_io import read_image

    def at_cell_size(cartoonize, photo):
        height, width = photo.shape[:2]
        large = cv2.resize(photo, (2 * width, 2 * height), interpolation=cv2.INTER_CUBIC)
        return cv2.resize(cartoonize(large), (width, height), interpolation=cv2.INTER_AREA)

    methods = [cartoonizer.cartoonize]
    if args.previous:
        methods.insert(0, Cartoonizer.load(args.previous, size_policy="full").cartoonize)
    folder = Path(args.pairs)
    rows = []
    for name in json.loads((folder / "manifest.json").read_text())["pairs"]:
        photo = read_image(folder / f"{name}.photo.png")
        authors = cv2.resize(read_image(folder / f"{name}.wbc.png"), photo.shape[1::-1])
        row = np.concatenate([photo, authors] + [at_cell_size(m, photo) for m in methods], axis=1)
        rows.append(cv2.resize(row, (COMPARISON_WIDTH, round(row.shape[0] * COMPARISON_WIDTH
                                                             / row.shape[1])),
                               interpolation=cv2.INTER_AREA))
    target = Path(args.output) / "pairs.jpg"
    write_image(np.concatenate(rows), target)
    print(f"Wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
