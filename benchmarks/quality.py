"""Picture quality: how flat, how well outlined, how true to colour, how close to the teacher.

    python benchmarks/quality.py [--photos test_code/test_images data/default/eval_photos]
                                 [--model saved_models/cartoonizer.keras] [--model other.keras]

Every photo is first brought to the authors' size (short side at most 720,
multiples of 8); then each method cartoonizes it: the teacher renderer
(`cartoonize run --method filter`), each `--model`, and a generator with
random weights (seed 0) as the floor. Prints one row per method, as means
over the photos (figures defined in cartoonize_tf/quality.py); the "photo"
row gives the photos' own flatness and colour count to compare with.
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_PHOTOS = ["test_code/test_images", "data/default/eval_photos"]
DEFAULT_MODELS = ["saved_models/cartoonizer.keras"]


def generators(model_paths):
    """(name, cartoonize function) for each model and the untrained generator."""
    import keras

    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.models.generator import UNetGenerator

    found = []
    for path in model_paths:
        cartoonizer = Cartoonizer.load(path, size_policy="full", backend="tf")
        found.append((Path(path).name, cartoonizer.cartoonize))
    keras.utils.set_random_seed(0)
    untrained = UNetGenerator(channel_order="rgb")
    untrained.build((None, None, None, 3))
    cartoonizer = Cartoonizer(untrained, size_policy="full", backend="tf")
    found.append(("untrained generator", cartoonizer.cartoonize))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", nargs="+", default=DEFAULT_PHOTOS,
                        help="folders (or files) of photos; missing folders are skipped")
    parser.add_argument("--model", action="append", default=None,
                        help=f"a .keras generator to score (repeatable; default {DEFAULT_MODELS})")
    args = parser.parse_args()

    import numpy as np
    from tqdm import tqdm

    from cartoonize_tf.inference.batch import collect_inputs
    from cartoonize_tf.inference.sizing import authors_resize_crop
    from cartoonize_tf.utils import quality
    from cartoonize_tf.utils.image_io import read_image
    from cartoonize_tf.whitebox.renderer import render_cartoon

    files = [f for folder in args.photos if Path(folder).exists() for f in collect_inputs(folder)]
    if not files:
        parser.error(f"no photos found in {args.photos}")
    models = [m for m in (args.model or DEFAULT_MODELS) if Path(m).exists()]
    if not models:
        print(f"note: no model found among {args.model or DEFAULT_MODELS}; scoring the teacher "
              "and the untrained generator only")
    photos = [authors_resize_crop(read_image(f)) for f in files]
    teacher = [render_cartoon(photo) for photo in tqdm(photos, desc="teacher", leave=False)]
    rows = [("photo", photos), ("teacher (renderer)", teacher)]
    for name, cartoonize in generators(models):
        rows.append((name, [cartoonize(photo) for photo in tqdm(photos, desc=name, leave=False)]))

    print(f"{len(photos)} photos: {', '.join(Path(f).name for f in files)}\n")
    print("| method | flat pixels | distinct colours | edge F-score | colour shift (Lab) "
          "| PSNR to teacher |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, outputs in rows:
        def mean(metric):
            return float(np.mean([metric(o, p) for o, p in zip(outputs, photos)]))
        figures = [f"{mean(lambda o, p: quality.flat_share(o)):.1%}",
                   f"{mean(lambda o, p: quality.distinct_colors(o)):,.0f}"]
        if name != "photo":
            figures += [f"{mean(quality.edge_f_score):.3f}", f"{mean(quality.lab_shift):.2f}"]
        if name not in ("photo", "teacher (renderer)"):
            figures.append(f"{np.mean([quality.psnr(o, t) for o, t in zip(outputs, teacher)]):.2f} dB")
        print(f"| {name} | " + " | ".join(figures + [""] * (5 - len(figures))) + " |")


if __name__ == "__main__":
    main()
