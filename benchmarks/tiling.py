"""Peak memory and time of large photos, whole against tiled.

    python benchmarks/tiling.py [--megapixels 24] [--tile 2048] [--whole-megapixels 2 4 8]

Each run is a fresh process that cartoonizes one synthetic photo (3:2, smooth
gradients and noise) with the shipped model at `--resize full`, and reports its
peak resident memory (VmHWM) and its time. Tiled runs use `--tile`; whole runs
(`tile=None`) are measured at the smaller sizes of `--whole-megapixels`, and
their per-megapixel slope gives the estimate for the large photo, which is
printed as an estimate, not a measurement.
"""

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, sys, time
import numpy as np
from cartoonize_tf.inference.cartoonizer import Cartoonizer
megapixels, tile, model = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
height = int((megapixels * 1e6 / 1.5) ** 0.5) // 8 * 8
width = int(height * 1.5) // 8 * 8
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
photo = np.stack([xx / width, yy / height, 0.5 + 0.5 * np.sin(xx / 40 + yy / 30)], -1) * 220
photo = np.clip(photo + rng.normal(0, 12, photo.shape), 0, 255).astype(np.uint8)
del yy, xx
cartoonizer = Cartoonizer.load(model, size_policy="full", backend="tf", tile=tile or None)
start = time.perf_counter()
cartoonizer.cartoonize(photo)
seconds = time.perf_counter() - start
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"size": f"{width}x{height}", "megapixels": width * height / 1e6,
                  "seconds": seconds, "peak_mb": int(peak) / 1024}))
"""


def measure(megapixels, tile, model):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", WORKER, str(megapixels), str(tile), model],
                            capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="saved_models/cartoonizer.keras")
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--tile", type=int, default=2048)
    parser.add_argument("--whole-megapixels", type=float, nargs="+", default=[2.0, 4.0, 8.0])
    args = parser.parse_args()

    rows = [("whole", measure(mp, 0, args.model)) for mp in args.whole_megapixels]
    rows.append((f"tiled ({args.tile})", measure(args.megapixels, args.tile, args.model)))
    print("| run | size | megapixels | seconds | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in rows:
        print(f"| {name} | {row['size']} | {row['megapixels']:.1f} | {row['seconds']:.1f} "
              f"| {row['peak_mb']:,.0f} MB |")
    whole = [row for name, row in rows if name == "whole"]
    if len(whole) >= 2:
        slope = ((whole[-1]["peak_mb"] - whole[0]["peak_mb"])
                 / (whole[-1]["megapixels"] - whole[0]["megapixels"]))
        estimate = whole[-1]["peak_mb"] + slope * (args.megapixels - whole[-1]["megapixels"])
        print(f"\nWhole runs grow by {slope:,.0f} MB per megapixel: a whole "
              f"{args.megapixels:g}-megapixel run would peak near {estimate:,.0f} MB "
              "(an estimate from the line through the whole runs, not a measurement).")


if __name__ == "__main__":
    main()
