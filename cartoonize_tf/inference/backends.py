"""Inference backends: one generator, several runtimes, the same uint8-in, uint8-out contract.

Each backend turns a uint8 RGB `[H, W, 3]` image of any size into its cartoon
(mirror padding to multiples of 8, the generator, the output guided filter):

- `tf`: TensorFlow graph (`tf.function`, oneDNN); the reference path;
- `keras-eager`: the same ops run one by one (slow; for debugging);
- `xla`: the `tf.function` compiled with XLA for each new image size;
- `tflite`: LiteRT with XNNPACK on all cores (float32);
- `tflite-float16`: the same with float16 weights (half the file; computed in float32 on CPU);
- `tflite-int8`: LiteRT, int8 convolutions (about 50 dB against `tf`);
- `onnx`: ONNX Runtime on all cores.

`auto` is the fastest backend that keeps the pictures (at least 50 dB against
`tf`), as benchmarks/inference.py measured on CPU: `tf` (see AUTO_BACKEND).
Converted models (TFLite, ONNX) are cached on disk, keyed by the generator's
weights, so only the first run pays the conversion.
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from cartoonize_tf.inference.options import BACKENDS
from cartoonize_tf.models.pipeline import cartoonize_any_size
from cartoonize_tf.utils.files import atomic_output

CACHE_VERSION = "1"  # bump when the exported graphs change
# Measured on a 2-core AVX-512 CPU at 1280x720 (benchmarks/inference.py): tf 1.28 s,
# onnx 1.34 s, tflite 1.46 s, xla 1.82 s per image.
AUTO_BACKEND = "tf"
TFLITE_BACKEND_QUANTIZATION = {"tflite": "float32", "tflite-float16": "float16", "tflite-int8": "int8"}
CONVERTED_BACKENDS = (*TFLITE_BACKEND_QUANTIZATION, "onnx")
GRAPH_BACKENDS = ("tf", "xla", "keras-eager")


def cache_folder():
    """Where converted models are kept: $CARTOONIZE_TF_CACHE, else ~/.cache/cartoonize_tf."""
    return Path(os.environ.get("CARTOONIZE_TF_CACHE",
                               Path.home() / ".cache" / "cartoonize_tf"))


def generator_digest(generator):
    """A hash of the generator's configuration and weights."""
    digest = hashlib.sha256(f"{CACHE_VERSION}{generator.get_config()}".encode())
    for weight in generator.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:20]


def cached_conversion(generator, kind, convert):
    """`convert()`'s bytes, from the cache when this generator was converted before."""
    path = cache_folder() / f"{generator_digest(generator)}-{kind}"
    if path.is_file():
        return path.read_bytes()
    model = convert()
    try:
        with atomic_output(path) as temporary:
            temporary.write_bytes(model)
    except OSError:
        pass  # a read-only home: convert again next time
    return model


def converted_model(name, generator):
    """The TFLite or ONNX model of backend `name` (one of `CONVERTED_BACKENDS`) as bytes."""
    if name == "onnx":
        from cartoonize_tf.export.onnx import convert_to_onnx

        return cached_conversion(generator, "any.onnx", lambda: convert_to_onnx(generator))
    from cartoonize_tf.export.tflite import convert_to_tflite

    quantization = TFLITE_BACKEND_QUANTIZATION[name]
    return cached_conversion(generator, f"any-{quantization}.tflite", lambda: convert_to_tflite(
        generator, quantization, calibration_images=calibration_photos()))


class GraphBackend:
    """TensorFlow runs the padding, the generator and the filter: `tf`, `xla` or `keras-eager`."""

    def __init__(self, generator, mode="tf", **filter_options):
        def run(images):
            return cartoonize_any_size(generator, images, **filter_options)

        if mode == "keras-eager":
            self._run = run
        else:
            self._run = tf.function(run, jit_compile=mode == "xla", reduce_retracing=True,
                                    input_signature=None if mode == "xla" else
                                    [tf.TensorSpec([None, None, None, 3], tf.uint8)])

    def cartoonize(self, image):
        return self._run(tf.constant(image[None])).numpy()[0]


def calibration_photos():
    """Photos for int8 calibration: scikit-image samples that are not the test photos."""
    from skimage import data

    grey = [np.stack([data.camera()] * 3, axis=-1), np.stack([data.grass()] * 3, axis=-1)]
    return [data.stereo_motorcycle()[0], data.immunohistochemistry(), *grey]


def make_backend(name, generator, **filter_options):
    """The backend called `name` (see `BACKENDS`) for a built `UNetGenerator`.

    `filter_options` (`filter_radius`, `filter_eps` of the output guided
    filter) need a TensorFlow backend: converted models have the authors'
    filter built in.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if name == "auto":
        name = AUTO_BACKEND
    if name in GRAPH_BACKENDS:
        return GraphBackend(generator, name, **filter_options)
    if filter_options:
        raise ValueError(f"the {name} backend has the output filter built in; a different "
                         f"filter radius or eps needs one of {GRAPH_BACKENDS}")
    from cartoonize_tf.inference.runtimes import open_converted

    return open_converted(name, converted_model(name, generator))
