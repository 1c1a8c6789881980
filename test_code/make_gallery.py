"""Remake the README's gallery: each test photo beside its cartoon.

    python test_code/make_gallery.py [--model saved_models/cartoonizer.keras] [--output docs/gallery]
                                     [--previous old-cartoonizer.keras]

Cartoonizes every image of test_code/test_images at the authors' size (short
side at most 720) and writes `<output>/<name>.jpg`: photo on the left, cartoon
on the right, scaled to 360 px high to keep the repository small, and
`<output>/strength.jpg`: the first photo at each of `STRENGTHS`, and
`<output>/comparison.jpg`: one row per photo of photo | model | white-box
renderer (`--method filter`, the teacher), with the model it replaces between
photo and model when `--previous` names it, so a retraining's change is seen at
a glance. Run it again after every retraining.
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
    args = parser.parse_args()

    import cv2
    import numpy as np

    from cartoonize_tf.inference.batch import collect_inputs
    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.inference.sizing import authors_resize_crop
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

    photos = [(Path(path).stem, authors_resize_crop(read_image(path)))
              for path in collect_inputs(args.photos)]
    for stem, photo in photos:
        write_strip([photo, cartoonizer.cartoonize(photo)], f"{stem}.jpg")
    model = cartoonizer.generator
    write_strip([Cartoonizer(model, size_policy="full", strength=s).cartoonize(photos[0][1])
                 for s in STRENGTHS], "strength.jpg", HEIGHT // 2)
    methods = [cartoonizer.cartoonize, render_cartoon]
    if args.previous:
        methods.insert(0, Cartoonizer.load(args.previous, size_policy="full").cartoonize)
    rows = [np.concatenate([photo] + [method(photo) for method in methods], axis=1)
            for _, photo in photos]
    rows = [cv2.resize(row, (COMPARISON_WIDTH, round(row.shape[0] * COMPARISON_WIDTH / row.shape[1])),
                       interpolation=cv2.INTER_AREA) for row in rows]
    target = Path(args.output) / "comparison.jpg"
    write_image(np.concatenate(rows), target)
    print(f"Wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
