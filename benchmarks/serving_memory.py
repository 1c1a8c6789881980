"""Peak memory of one served request, per pixel: the figure the server's memory budget uses.

    python benchmarks/serving_memory.py [--model-dir saved_models/cartoonizer/1]
                                        [--megapixels 0.25 1 2 4]

Each size runs in a fresh process: load the SavedModel, note the resident set,
run `serving_default` once on a uint8 image of that size, and note the peak
resident set (ru_maxrss). The slope of the peak increase over pixels is the
model's working memory per pixel; `cartoonize_tf.serving.core.memory_budget`
keeps `ACTIVATION_BYTES_PER_PIXEL` at or above it. Prints one row per size
and the fitted slope.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, resource, sys
import numpy as np, tensorflow as tf
model_dir, pixels = sys.argv[1], int(sys.argv[2])
model = tf.saved_model.load(model_dir)
function = model.signatures["serving_default"]
function(images=tf.zeros([1, 64, 64, 3], tf.uint8))  # trace and warm up at a small size
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
width = int((pixels * 16 / 9) ** 0.5) // 8 * 8
height = pixels // width // 8 * 8
image = np.random.default_rng(0).integers(0, 256, (1, height, width, 3), dtype=np.uint8)
function(images=tf.constant(image))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"pixels": height * width, "before": before, "after": after}))
"""


def measure(model_dir, pixels):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", CHILD, model_dir, str(pixels)], env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="saved_models/cartoonizer/1")
    parser.add_argument("--megapixels", type=float, nargs="+", default=[0.25, 1, 2, 4])
    args = parser.parse_args(argv)
    from cartoonize_tf.serving.core.memory_budget import ACTIVATION_BYTES_PER_PIXEL

    rows = [measure(args.model_dir, int(mp * 1e6)) for mp in args.megapixels]
    print("| pixels | peak increase (MB) | bytes per pixel |")
    print("| --- | --- | --- |")
    for row in rows:
        increase = row["after"] - row["before"]
        print(f"| {row['pixels']:,} | {increase / 1e6:.0f} | {increase / row['pixels']:.0f} |")
    pixels = np.array([r["pixels"] for r in rows], float)
    increases = np.array([r["after"] - r["before"] for r in rows], float)
    slope = np.polyfit(pixels, increases, 1)[0] if len(rows) > 1 else increases[0] / pixels[0]
    print(f"fitted working memory: {slope:.0f} bytes per pixel "
          f"(the budget assumes {ACTIVATION_BYTES_PER_PIXEL})")


if __name__ == "__main__":
    main()
