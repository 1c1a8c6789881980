"""Picture quality: how flat, how well outlined, how true to colour, how close to the teacher.

    python benchmarks/quality.py [--photos test_code/test_images data/default/eval_photos]
                                 [--model saved_models/cartoonizer.keras] [--model other.keras]

Every photo is first brought to the authors' size (short side at most 720,
multiples of 8); then each method cartoonizes it: the teacher renderer
(`cartoonize run --method filter`), each `--model`, and a generator with
random weights (seed 0) as the floor. Prints one row per method, as medians
over the photos of each figure (defined in cartoonize_tf/utils/quality.py);
flatness and colour count as ratios to the photo's own, so the "photo" row
reads 1.00 there.
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_PHOTOS = ["test_code/test_images", "data/default/eval_photos"]
DEFAULT_MODELS = ["saved_models/cartoonizer.keras"]
GOALS_NOTE = ("The authors' model on its published examples: flat 2.64, colours 0.87, edge F "
              "0.88, crispness 0.67 (photos 0.52), Lab shift 8.4.\n"
              "Goals for the default model: flat >= 2.3, colours <= 0.92, edge F >= 0.80, "
              "crispness >= 0.64, Lab shift <= 12.\n")


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
    print(GOALS_NOTE)
    print("| method | flat share, ratio to photo | distinct colours, ratio | edge F | crispness "
          "| Lab shift | PSNR to teacher |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, outputs in rows:
        def median(metric):
            return float(np.nanmedian([metric(o, p) for o, p in zip(outputs, photos)]))
        figures = [
            f"{median(lambda o, p: quality.flat_share(o) / quality.flat_share(p)):.2f}",
            f"{median(lambda o, p: quality.distinct_colors(o) / quality.distinct_colors(p)):.2f}",
            f"{median(quality.edge_f_score):.2f}",
            f"{median(lambda o, p: quality.crispness(o)):.2f}",
            f"{median(quality.lab_shift):.1f}",
            "" if name in ("photo", "teacher (renderer)") else
            f"{np.median([quality.psnr(o, t) for o, t in zip(outputs, teacher)]):.2f} dB",
        ]
        print(f"| {name} | " + " | ".join(figures) + " |")


if __name__ == "__main__":
    main()
