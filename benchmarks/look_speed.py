"""What the look controls cost: the shipped model's cartoon with each control at the top of its
range, and the SavedModel's look signature beside `serving_default`.

    python benchmarks/look_speed.py [--model saved_models/cartoonizer.keras]
        [--saved-model saved_models/cartoonizer/1] [--size 1280x720] [--repeats 5]

One process, TensorFlow in float32 (the `tf` backend: the stage runs the same ops on every
runtime). Each row is the median of `--repeats` runs after a warm-up, on the astronaut resized
to `--size`, with its ratio to the first row of its group; the rows of a group take turns
(one run of each per round), so a busy moment of a shared machine slows them all alike:

- the model's own look, then each control at its range's top (baked into the stage, as
  `cartoonize run --lines 3` does; tones 16 turns the bands on, flatness 12 widens the
  flattening, line width 4 widens the outlines);
- the SavedModel's `serving_default`, then `serving_look` given the model's own values (what
  a request without controls runs) and given every control at its top.
"""

import argparse
import functools
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def print_group(title, runs, repeats):
    """Times `runs` ({name: function}) in turns, and prints each median and its ratio to the
    first's."""
    times = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up: tracing
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    first = next(iter(medians.values()))
    print(f"\n{title}")
    print(f"{'':34s} {'median ms':>10s} {'ratio':>7s}")
    for name, seconds in medians.items():
        print(f"{name:34s} {seconds * 1000:10.0f} {seconds / first:7.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "saved_models" / "cartoonizer.keras"))
    parser.add_argument("--saved-model", default=str(ROOT / "saved_models" / "cartoonizer" / "1"))
    parser.add_argument("--size", default="1280x720", help="WxH of the photo")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf
    from skimage import data, transform

    from cartoonize_tf.contract.look import CONTROLS
    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.inference.opening import read_generator
    from cartoonize_tf.whitebox.look import stage_controls

    width, height = (int(side) for side in args.size.lower().split("x"))
    photo = (transform.resize(data.astronaut(), (height, width)) * 255).astype(np.uint8)
    generator = read_generator(args.model)
    tops = {name: control.high for name, control in CONTROLS.items()}
    print(f"{args.size} photo, {args.repeats} repeats after a warm-up; {os.cpu_count()} CPUs")

    looks = {"model's own look": None, **{f"{name} {value:g}": {name: value}
                                          for name, value in tops.items()}}
    cartoonizers = {name: Cartoonizer.load(generator, size_policy="full", backend="tf", look=look)
                    for name, look in looks.items()}
    print_group("Keras model, each control at its top (baked)", {
        name: functools.partial(c.cartoonize, photo) for name, c in cartoonizers.items()},
        args.repeats)

    signatures = tf.saved_model.load(args.saved_model).signatures
    images = tf.constant(photo[None])
    own = stage_controls(generator.cel_shading_layer.get_config())

    def look_call(controls):
        scalars = {name: tf.constant(float(value)) for name, value in controls.items()}
        return lambda: signatures["serving_look"](images=images, **scalars)

    print_group("SavedModel signatures", {
        "serving_default": lambda: signatures["serving_default"](images=images),
        "serving_look, no controls": look_call(own),
        "serving_look, every control at top": look_call(tops),
    }, args.repeats)


if __name__ == "__main__":
    main()
