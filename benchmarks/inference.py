"""Inference speed, fidelity and memory of every backend, against the machine's FP32 peak.

    python benchmarks/inference.py [--model saved_models/cartoonizer.keras]
        [--sizes 256x256 1280x720 1920x1080] [--backends tf onnx ...] [--repeats 5]

Each backend (`cartoonize_tf.inference.backends`, plus the exported SavedModel) runs in
a fresh process per image size, so its peak memory is its own: LiteRT and ONNX
Runtime processes load the converted file without importing TensorFlow. The
input is a real photo (the astronaut) resized to each size. Per row: the
median time of `--repeats` runs after one warm-up, megapixels per second,
achieved GFLOP/s (the generator's convolutions: 249 GFLOP per megapixel) and
their share of the FP32 peak from lscpu (formula printed) and of a measured
SGEMM, the peak resident memory of the process, and the PSNR against the
reference `tf` path. `tf-onednn-bfloat16` is the `tf` path under TensorFlow's oneDNN
bfloat16 graph rewrite (a process-wide grappler option, set in its worker process
alone; TensorFlow applies it only on CPUs with AVX-512), measured beside the
library's `tf-bfloat16` (bfloat16 Keras layers). The first line says which backend
`auto` picks on this machine and why. Without --model, a generator with random weights
(seed 0) is timed: the speed does not depend on the weights, the int8
fidelity does.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
ALL_BACKENDS = ["tf", "tf-bfloat16", "tf-onednn-bfloat16", "keras-eager", "xla", "saved-model",
                "openvino", "openvino-bfloat16", "tflite", "tflite-float16", "tflite-int8", "onnx"]
# The oneDNN rewrite exists only where TensorFlow's oneDNN has bfloat16 kernels.
ONEDNN_BFLOAT16_FLAG = "avx512f"


def peak_rss_mb():
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def load_runner(backend, model, converted, saved_model):
    """An object with `cartoonize(image)` for one backend (in the worker process)."""
    if converted:
        from cartoonize_tf.inference.runtimes import open_converted

        return open_converted(backend, converted)
    import tensorflow as tf

    if backend == "saved-model":
        serve = tf.saved_model.load(saved_model).signatures["serving_default"]

        class SavedModelRunner:
            def cartoonize(self, image):
                return serve(images=tf.constant(image[None]))["cartoons"].numpy()[0]

        return SavedModelRunner()
    from cartoonize_tf.inference.opening import open_runtime
    from cartoonize_tf.models.loading import load_generator

    if backend == "tf-onednn-bfloat16":
        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": True})
        backend = "tf"
    return open_runtime(load_generator(model), backend=backend)


def worker(args):
    """Times one backend on one image; prints a JSON line."""
    import numpy as np

    image = np.load(args.image)
    runner = load_runner(args.worker, args.model, args.converted, args.saved_model)
    start = time.perf_counter()
    output = runner.cartoonize(image)  # warm-up: tracing, compilation, allocation
    warm_up = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        output = runner.cartoonize(image)
        times.append(time.perf_counter() - start)
    if args.save_output:
        np.save(args.save_output, output)
    result = {"median_s": statistics.median(times), "warm_up_s": warm_up,
              "peak_rss_mb": peak_rss_mb()}
    if args.reference:
        from cartoonize_tf.utils.quality import psnr

        result["psnr"] = psnr(output, np.load(args.reference))
    print(json.dumps(result))


def cpu_peak():
    """(GFLOP/s, formula text) from lscpu and /proc/cpuinfo."""
    flags, vendor, family, mhz = set(), "", 0, 0.0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "flags":
            flags = set(value.split())
        elif key == "vendor_id":
            vendor = value
        elif key == "cpu family":
            family = int(value)
        elif key == "cpu MHz":
            mhz = max(mhz, float(value))
    cores = len(os.sched_getaffinity(0))
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    note = ""
    if lanes == 16 and vendor == "AuthenticAMD" and family == 25:
        lanes, note = 8, " (Zen 4 runs 512-bit FMAs as two 256-bit halves)"
    fma_units = 2
    ghz = mhz / 1000
    peak = cores * fma_units * lanes * 2 * ghz
    return peak, (f"{cores} cores x {fma_units} FMA units x {lanes} FP32 lanes{note} x 2 FLOP "
                  f"x {ghz:.2f} GHz (cpu MHz of /proc/cpuinfo) = {peak:.0f} GFLOP/s")


def measured_sgemm():
    """GFLOP/s of a 4096 x 4096 float32 matrix product in TensorFlow (oneDNN), best of 5."""
    code = ("import time, tensorflow as tf\n"
            "a = tf.random.normal([4096, 4096]); b = tf.random.normal([4096, 4096])\n"
            "f = tf.function(lambda: tf.matmul(a, b)); f()\n"
            "best = min((lambda t: (f().numpy(), time.perf_counter() - t)[1])(time.perf_counter())"
            " for _ in range(5))\n"
            "print(2 * 4096 ** 3 / best / 1e9)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return float(result.stdout.split()[-1])


def conv_gflop(generator, height, width):
    """FLOPs of every convolution, found by tracing the generator once at this size."""
    import keras
    import tensorflow as tf

    counted = []
    original = keras.layers.Conv2D.call

    def counting_call(layer, inputs):
        output = original(layer, inputs)
        kh, kw, cin, cout = layer.kernel.shape
        counted.append(2 * kh * kw * cin * cout * output.shape[1] * output.shape[2])
        return output

    keras.layers.Conv2D.call = counting_call
    try:
        generator(tf.zeros([1, height, width, 3]))
    finally:
        keras.layers.Conv2D.call = original
    return sum(counted) / 1e9


def prepare(args, folder):
    """Model file, converted models, SavedModel and input images; returns their paths."""
    import cv2
    import keras
    import numpy as np

    from cartoonize_tf.export.saved_model import export_saved_model
    from cartoonize_tf.inference import backends
    from cartoonize_tf.inference.conversion_files import CONVERTED_BACKENDS, conversion_kind
    from cartoonize_tf.models.generator import UNetGenerator
    from cartoonize_tf.models.loading import load_generator
    from cartoonize_tf.utils.image_io import read_image

    if args.model and Path(args.model).exists():
        generator, model = load_generator(args.model), args.model
    else:
        keras.utils.set_random_seed(0)
        generator = UNetGenerator(channel_order="rgb")
        model = str(folder / "random.keras")
        generator.save(model)
    os.environ["CARTOONIZE_TF_CACHE"] = str(folder / "cache")
    converted = {}
    for backend in CONVERTED_BACKENDS:
        if backend in args.backends:
            converted[backend] = folder / f"{backend}-{conversion_kind(backend)}"  # its suffix
            converted[backend].write_bytes(backends.converted_model(backend, generator))
    saved_model = None
    if "saved-model" in args.backends:
        saved_model = str(export_saved_model(generator, folder / "saved", version=1))
    photo = read_image(ROOT / "test_code" / "test_images" / "astronaut.jpg")
    images, flops = {}, {}
    for size in args.sizes:
        width, height = (int(v) for v in size.split("x"))
        images[size] = str(folder / f"{size}.npy")
        np.save(images[size], cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA))
        flops[size] = conv_gflop(generator, height, width)
    return model, converted, saved_model, images, flops


def run_worker(args, backend, model, converted, saved_model, image, reference, save_output):
    command = [sys.executable, __file__, "--worker", backend, "--model", model,
               "--image", image, "--repeats", str(args.repeats)]
    for flag, value in (("--converted", converted), ("--saved-model", saved_model),
                        ("--reference", reference), ("--save-output", save_output)):
        if value:
            command += [flag, str(value)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1][:120]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "saved_models" / "cartoonizer.keras"))
    parser.add_argument("--sizes", nargs="+", default=["256x256", "1280x720", "1920x1080"],
                        help="WIDTHxHEIGHT")
    parser.add_argument("--backends", nargs="+", default=ALL_BACKENDS, choices=ALL_BACKENDS)
    parser.add_argument("--repeats", type=int, default=5)
    for hidden in ("--worker", "--image", "--converted", "--saved-model", "--reference",
                   "--save-output"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    # The reference for the PSNR and speed-up columns, timed first.
    args.backends = ["tf", *(backend for backend in args.backends if backend != "tf")]

    from cartoonize_tf.inference.choice import auto_backend
    from cartoonize_tf.utils.cpu_flags import BFLOAT16_CPU_FLAGS, cpu_flags

    flags = cpu_flags()
    if "tf-onednn-bfloat16" in args.backends and ONEDNN_BFLOAT16_FLAG not in flags:
        args.backends.remove("tf-onednn-bfloat16")
        print(f"tf-onednn-bfloat16: skipped, this CPU lacks {ONEDNN_BFLOAT16_FLAG}")
    name, reason = auto_backend()
    print(f"auto picks {name} here: {reason} "
          f"(bfloat16 flags: {', '.join(sorted(flags & set(BFLOAT16_CPU_FLAGS))) or 'none'})")
    peak, formula = cpu_peak()
    sgemm = measured_sgemm()
    print(f"FP32 peak: {formula}")
    print(f"Measured SGEMM (4096^3, TensorFlow): {sgemm:.0f} GFLOP/s\n")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        model, converted, saved_model, images, flops = prepare(args, folder)
        print(f"Model: {model if model == args.model else 'random weights (no --model file)'}\n")
        print("| size | backend | ms / image | x tf | MP/s | GFLOP/s | % of peak | % of SGEMM "
              "| peak RSS | PSNR vs tf |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for size in args.sizes:
            reference = str(folder / f"reference-{size}.npy")
            reference_seconds = None
            for backend in args.backends:
                is_reference = backend == "tf"
                result = run_worker(args, backend, model, converted.get(backend), saved_model,
                                    images[size], None if is_reference else reference,
                                    reference if is_reference else None)
                if "error" in result:
                    print(f"| {size} | {backend} | failed: {result['error']} ||||||||")
                    continue
                width, height = (int(v) for v in size.split("x"))
                seconds = result["median_s"]
                reference_seconds = seconds if is_reference else reference_seconds
                speed_up = f"{reference_seconds / seconds:.2f}" if reference_seconds else "-"
                gflops = flops[size] / seconds
                fidelity = "reference" if is_reference else f"{result['psnr']:.1f} dB"
                print(f"| {size} | {backend} | {seconds * 1000:.0f} | {speed_up} | "
                      f"{width * height / 1e6 / seconds:.2f} | {gflops:.0f} | "
                      f"{gflops / peak:.0%} | {gflops / sgemm:.0%} | "
                      f"{result['peak_rss_mb']:.0f} MB | {fidelity} |", flush=True)


if __name__ == "__main__":
    main()
