"""Cold start of the command line: a new process per run, as a user meets it.

    python benchmarks/cold_start.py [--repeats 3] [--size 1280x720] [--backends auto tf ...]

Times, as medians of `--repeats` fresh processes: `cartoonize --help`,
`cartoonize run --help`, and `cartoonize run` on one photo (the astronaut,
resized to `--size`, written as PNG) with each of `--backends` (default: `auto`,
which on a CPU is OpenVINO reading the shipped LiteRT file without importing
TensorFlow, and each backend `auto` can take on a CPU or did before: openvino,
openvino-bfloat16, tflite, tf, tf-bfloat16), with each run's peak memory and its
cartoon's PSNR to the `--backend tf` one (TensorFlow float32). The first line says
which backend `auto` picks here and why; `CARTOONIZE_TF_CPU_FLAGS` fakes the CPU.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# Runs argv[1:] and prints its wall time and peak memory: a fresh watcher per run, so the
# peak (RUSAGE_CHILDREN covers every child so far) is that run's alone.
WATCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def timed(command, cwd):
    """(seconds, peak RSS in MB) of one fresh process running `command`."""
    result = subprocess.run([sys.executable, "-c", WATCHER, *command], cwd=cwd, check=True,
                            capture_output=True, text=True)
    seconds, peak = result.stdout.split()
    return float(seconds), float(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT of the photo")
    parser.add_argument("--backends", nargs="+", default=[
        "auto", "openvino", "openvino-bfloat16", "tflite", "tf", "tf-bfloat16"])
    args = parser.parse_args()

    import cv2

    from cartoonize_tf.inference.choice import auto_backend
    from cartoonize_tf.utils.image_io import read_image, write_image
    from cartoonize_tf.utils.quality import psnr

    name, reason = auto_backend()
    print(f"auto picks {name} here: {reason}; {os.cpu_count()} cores")
    cartoonize = [sys.executable, "-m", "cartoonize_tf.cli.main"]
    width, height = (int(side) for side in args.size.split("x"))
    backends = ["tf", *(backend for backend in args.backends if backend != "tf")]
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.png"
        write_image(cv2.resize(read_image(ROOT / "test_code" / "test_images" / "astronaut.jpg"),
                               (width, height), interpolation=cv2.INTER_AREA), photo)

        def run(backend):
            return [*cartoonize, "run", "--input", str(photo), "--output-dir", backend,
                    "--no-progress", "--backend", backend]

        print(f"| command | median s of {args.repeats} | peak RSS | PSNR to tf |")
        print("| --- | --- | --- | --- |")
        for label, command in {"cartoonize --help": [*cartoonize, "--help"],
                               "cartoonize run --help": [*cartoonize, "run", "--help"]}.items():
            results = [timed(command, folder) for _ in range(args.repeats)]
            print(f"| {label} | {statistics.median(s for s, _ in results):.2f} | "
                  f"{max(peak for _, peak in results):.0f} MB | |", flush=True)
        for backend in backends:
            results = [timed(run(backend), folder) for _ in range(args.repeats)]
            cartoon = read_image(Path(folder) / backend / "photo.png")
            fidelity = ("reference" if backend == "tf" else
                        f"{psnr(cartoon, read_image(Path(folder) / 'tf' / 'photo.png')):.1f} dB")
            print(f"| run, one {args.size} photo (--backend {backend}) | "
                  f"{statistics.median(s for s, _ in results):.2f} | "
                  f"{max(peak for _, peak in results):.0f} MB | {fidelity} |", flush=True)


if __name__ == "__main__":
    main()
