"""Remake the README's gallery: each test photo beside its cartoon.

    python test_code/make_gallery.py [--model saved_models/cartoonizer.keras] [--output docs/gallery]

Cartoonizes every image of test_code/test_images at the authors' size (short
side at most 720) and writes `<output>/<name>.jpg`: photo on the left, cartoon
on the right, scaled to 360 px high to keep the repository small, and
`<output>/strength.jpg`: the first photo at each of `STRENGTHS`. Run it again
after every retraining.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
HEIGHT = 360
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "saved_models" / "cartoonizer.keras"))
    parser.add_argument("--photos", default=str(ROOT / "test_code" / "test_images"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "gallery"))
    args = parser.parse_args()

    import cv2
    import numpy as np

    from cartoonize_tf.inference.batch import collect_inputs
    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.inference.sizing import authors_resize_crop
    from cartoonize_tf.utils.image_io import read_image, write_image

    if not Path(args.model).is_file():
        print(f"error: no model at {args.model}", file=sys.stderr)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
