"""Picture quality: how flat, how well outlined, how true to colour, how close to the teacher.

    python benchmarks/quality.py [--photos test_code/test_images data/default/eval_photos]
                                 [--model saved_models/cartoonizer.keras] [--model other.keras]
                                 [--pairs ../shared/reference/wbc_pairs] [--no-cel-shading]
                                 [--look bold] [--look line_width=4,lines=2]

With `--pairs`, the photos are those of a folder of photo | authors' result
pairs (`manifest.json` listing `<name>.photo.png` and `<name>.wbc.png`): each
is cartoonized at twice its size and area-resized back, as the authors' cells
were cut, the authors' results get a row of their own, and the last columns give
the SSIM (grey) of each method's picture to the authors' result and, on faces,
the mean grey SSIM inside each frontal face found in the photo (scikit-image's
LBP cascade, `utils.quality.face_boxes`) to the authors' face cut at the same box.
A second table gives both per category of pairs (the name's leading letters:
city, food, person). A third gives each method's lines and colours against the
authors' (medians over the pairs; `utils.quality.stroke_figures` and
`colour_figures` define them): coverage of the authors' added strokes (theirs
more than 2 px from any stroke of the photo) within 2 px of ours, our strokes'
precision (within 2 px of theirs), stroke density and its ratio to the authors',
the shifts of mean L (0..100), chroma, a and b from the photo in OpenCV's 8-bit
Lab, and the mean Lab distance to the authors' picture.

Every photo is first brought to the authors' size (short side at most 720,
multiples of 8); then each method cartoonizes it: the teacher renderer
(`cartoonize run --method filter`), each `--model`, and a generator with
random weights (seed 0) as the floor; each `--look` (a preset's name, or
controls as NAME=VALUE pairs) adds a row per model drawn with that look.
Prints one row per method, as medians
over the photos of each figure (defined in cartoonize_tf/utils/quality.py);
flatness and colour count as ratios to the photo's own, so the "photo" row
reads 1.00 there.
"""

import argparse
import json
import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_PHOTOS = ["test_code/test_images", "data/default/eval_photos"]
DEFAULT_MODELS = ["saved_models/cartoonizer.keras"]
GOALS_NOTE = ("The authors' model on its published examples: flat 2.64, colours 0.87, edge F "
              "0.88, crispness 0.67 (photos 0.52), Lab shift 8.4.\n"
              "Goals for the default model: flat >= 2.3, colours <= 0.92, edge F >= 0.80, "
              "crispness >= 0.64, Lab shift <= 12.\n")


def parsed_look(text):
    """A --look value: a preset's name as it is, or "name=value,..." as {name: number}."""
    if "=" not in text:
        return text
    pairs = [item.split("=", 1) for item in text.split(",")]
    try:
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a preset or NAME=NUMBER[,...], got "
                                         f"{text!r}") from None


def generators(model_paths, cel_shading, looks=()):
    """(name, cartoonize function) for each model (under its own look, then each of `looks`)
    and the untrained generator."""
    import keras

    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.models.generator import UNetGenerator

    found = []
    for path in model_paths:
        for look in (None, *looks):
            cartoonizer = Cartoonizer.load(path, size_policy="full", backend="tf",
                                           cel_shading=cel_shading, look=look)
            label = "" if look is None else ", " + (look if isinstance(look, str) else " ".join(
                f"{name} {value:g}" for name, value in look.items()))
            found.append((Path(path).name + label, cartoonizer.cartoonize))
    keras.utils.set_random_seed(0)
    untrained = UNetGenerator(channel_order="rgb")
    cartoonizer = Cartoonizer.load(untrained, size_policy="full", backend="tf")
    found.append(("untrained generator", cartoonizer.cartoonize))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", nargs="+", default=DEFAULT_PHOTOS,
                        help="folders (or files) of photos; missing folders are skipped")
    parser.add_argument("--model", action="append", default=None,
                        help=f"a .keras generator to score (repeatable; default {DEFAULT_MODELS})")
    parser.add_argument("--pairs", default=None,
                        help="a folder of photo | authors' result pairs (manifest.json); "
                             "replaces --photos")
    parser.add_argument("--no-cel-shading", action="store_true",
                        help="score the models without their cel-shading stage")
    parser.add_argument("--look", type=parsed_look, action="append", default=[],
                        help="also score each model under this look: a preset (soft, bold) or "
                             "controls, line_width=4,lines=2 (repeatable)")
    args = parser.parse_args()

    import cv2
    import numpy as np
    from skimage.metrics import structural_similarity
    from tqdm import tqdm

    from cartoonize_tf.inference.batch import collect_inputs
    from cartoonize_tf.inference.sizing import authors_resize_crop
    from cartoonize_tf.utils import quality
    from cartoonize_tf.utils.image_io import read_image
    from cartoonize_tf.whitebox.renderer import render_cartoon

    if args.pairs:
        folder = Path(args.pairs)
        names = json.loads((folder / "manifest.json").read_text())["pairs"]
        photos = [read_image(folder / f"{name}.photo.png") for name in names]
        authors = [read_image(folder / f"{name}.wbc.png") for name in names]
        labels = names
    else:
        files = [f for folder in args.photos if Path(folder).exists()
                 for f in collect_inputs(folder)]
        if not files:
            parser.error(f"no photos found in {args.photos}")
        photos = [authors_resize_crop(read_image(f)) for f in files]
        authors, labels = None, [Path(f).name for f in files]
    models = [m for m in (args.model or DEFAULT_MODELS) if Path(m).exists()]
    if not models:
        print(f"note: no model found among {args.model or DEFAULT_MODELS}; scoring the teacher "
              "and the untrained generator only")

    def at_cell_size(method):
        """`method` on the photo at twice its size, area-resized back (the pairs' protocol)."""
        def run(photo):
            height, width = photo.shape[:2]
            large = cv2.resize(photo, (2 * width, 2 * height), interpolation=cv2.INTER_CUBIC)
            return cv2.resize(method(large), (width, height), interpolation=cv2.INTER_AREA)
        return run if args.pairs else method

    teacher_method = at_cell_size(render_cartoon)
    teacher = [teacher_method(photo) for photo in tqdm(photos, desc="teacher", leave=False)]
    rows = [("photo", photos)] + ([("authors' result", authors)] if authors else []) + [
        ("teacher (renderer)", teacher)]
    for name, cartoonize in generators(models, not args.no_cel_shading, args.look):
        method = at_cell_size(cartoonize)
        rows.append((name, [method(photo) for photo in tqdm(photos, desc=name, leave=False)]))

    print(f"{len(photos)} photos: {', '.join(labels)}\n")
    print(GOALS_NOTE)
    faces = [quality.face_boxes(photo) for photo in photos] if authors else None
    ssim_header = (f" SSIM to the authors' result | face SSIM ({sum(map(len, faces))} faces) |"
                   if authors else "")
    print("| method | flat share, ratio to photo | distinct colours, ratio | edge F | crispness "
          "| Lab shift | PSNR to teacher |" + ssim_header)
    print("| --- | --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if authors else ""))

    def grey_ssim(a, b):
        return structural_similarity(quality.grey(a), quality.grey(b))

    def face_ssim(outputs, indices):
        """Mean SSIM over every face of the photos at `indices`."""
        values = [v for i in indices for v in quality.face_ssims(outputs[i], authors[i], faces[i])]
        return f"{np.mean(values):.3f}" if values else "no face"

    for name, outputs in rows:
        def median(metric, outputs=outputs):
            return float(np.nanmedian([metric(o, p) for o, p in zip(outputs, photos, strict=True)]))
        figures = [
            f"{median(lambda o, p: quality.flat_share(o) / quality.flat_share(p)):.2f}",
            f"{median(lambda o, p: quality.distinct_colors(o) / quality.distinct_colors(p)):.2f}",
            f"{median(quality.edge_f_score):.2f}",
            f"{median(lambda o, p: quality.crispness(o)):.2f}",
            f"{median(quality.lab_shift):.1f}",
            "" if name in ("photo", "authors' result", "teacher (renderer)") else
            f"{np.median([quality.psnr(o, t) for o, t in zip(outputs, teacher, strict=True)]):.2f} dB",
        ]
        if authors:
            ssims = [grey_ssim(o, a) for o, a in zip(outputs, authors, strict=True)]
            figures.append(f"{np.median(ssims):.3f}")
            figures.append(face_ssim(outputs, range(len(photos))))
        print(f"| {name} | " + " | ".join(figures) + " |")
    if authors:
        print_categories(labels, rows, authors, grey_ssim, face_ssim)
        print_lines_and_colours(rows, photos, authors)


def category(name):
    """A pair's category: the leading letters of its name ("person2_r0_p1" -> "person")."""
    return re.match(r"[a-z]*", name).group() or name


def print_categories(labels, rows, authors, grey_ssim, face_ssim):
    """SSIM to the authors' result (median) and face SSIM per category of pairs."""
    import numpy as np

    categories = sorted({category(label) for label in labels})
    members = {c: [i for i, label in enumerate(labels) if category(label) == c]
               for c in categories}
    print("\nPer category: SSIM to the authors' result (median) / face SSIM (mean over faces)\n")
    print("| method | " + " | ".join(f"{c} ({len(members[c])})" for c in categories) + " |")
    print("| --- |" + " --- |" * len(categories))
    for name, outputs in rows:
        cells = [f"{np.median([grey_ssim(outputs[i], authors[i]) for i in members[c]]):.3f} / "
                 f"{face_ssim(outputs, members[c])}" for c in categories]
        print(f"| {name} | " + " | ".join(cells) + " |")


def print_lines_and_colours(rows, photos, authors):
    """Strokes and colours against the authors' pictures, medians over the pairs."""
    import numpy as np

    from cartoonize_tf.utils import quality

    authors_density = np.median([quality.strokes(a).mean() for a in authors])
    print("\nLines and colours against the authors' pictures (medians over the pairs)\n")
    print("| method | coverage of added strokes | stroke precision | stroke density (x the "
          "authors') | L shift | chroma shift | a shift | b shift | Lab distance to the "
          "authors |")
    print("| --- |" + " --- |" * 8)
    for name, outputs in rows:
        lines = np.array([quality.stroke_figures(o, p, a)
                          for o, p, a in zip(outputs, photos, authors, strict=True)])
        colours = [quality.colour_figures(o, p, a)
                   for o, p, a in zip(outputs, photos, authors, strict=True)]
        coverage, precision, density = np.nanmedian(lines, axis=0)
        shifts = np.median([shift for shift, _ in colours], axis=0)
        distance = np.median([distance for _, distance in colours])
        print(f"| {name} | {coverage:.3f} | {precision:.3f} | {density:.2%} "
              f"({density / authors_density:.2f}) | " + " | ".join(f"{v:+.1f}" for v in shifts)
              + f" | {distance:.2f} |")


if __name__ == "__main__":
    main()
