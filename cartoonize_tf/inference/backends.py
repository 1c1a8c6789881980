"""Inference backends: one generator, several runtimes, the same uint8-in, uint8-out contract.

Each backend turns a uint8 RGB `[H, W, 3]` image of any size into its cartoon
(mirror padding to multiples of 8, the generator, the output guided filter):

- `tf`: TensorFlow graph (`tf.function`, oneDNN); the reference path;
- `tf-bfloat16`: the same graph with the generator's layers computing in bfloat16
  (float32 weights; the output guided filter and the cel stage stay float32): native
  on CPUs with AVX512_BF16 or AMX, emulated elsewhere (no faster than float32 there:
  6.5 s against 6.0 s at 720p on an AVX2 CPU);
- `keras-eager`: the same ops run one by one (slow; for debugging);
- `xla`: the `tf.function` compiled with XLA for each new image size;
- `openvino`: OpenVINO reading the float32 LiteRT file (float32); `auto` on a CPU;
- `openvino-bfloat16`: the same computing in bfloat16 where the CPU has AVX512_BF16 or AMX
  (float32 elsewhere); `auto` on such a CPU;
- `tflite`: LiteRT with XNNPACK on all cores (float32);
- `tflite-float16`: the same with float16 weights (half the file; computed in float32 on CPU);
- `tflite-int8`: LiteRT, int8 convolutions (43.4 dB against `tf` with the shipped,
  cel-shaded model: below `auto`'s 45 dB);
- `onnx`: ONNX Runtime on all cores.

`auto` is the fastest backend that keeps the pictures (at least 45 dB against
`tf` on every photo), as benchmarks/inference.py measures (`choice.auto_backend`).
Converted models (TFLite, ONNX) are cached on disk, keyed by the generator's
weights, so only the first run pays the conversion; the shipped model's
conversion ships with it (`saved_models/conversions/`), so nobody pays it.
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from cartoonize_tf.inference.conversion_files import (
    SHIPPED_CONVERSIONS,
    TFLITE_BACKEND_QUANTIZATION,
    conversion_kind,
    record_shipped_conversion,
)
from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.inference.options import BACKENDS
from cartoonize_tf.models.loading import generator_copy
from cartoonize_tf.models.pipeline import cartoonize_any_size
from cartoonize_tf.utils.extras import require_extra
from cartoonize_tf.utils.files import atomic_output
from cartoonize_tf.utils.shipped_files import shipped

# Bump when the exported graphs change (2: rounded line widening; 3, 4: ink lines; 5: dark bands
# thinned).
CACHE_VERSION = "5"
GRAPH_BACKENDS = ("tf", "tf-bfloat16", "xla", "keras-eager")


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
    """`convert()`'s bytes, from the cache or the shipped conversions when this generator was
    converted before."""
    name = f"{generator_digest(generator)}-{kind}"
    for folder in (cache_folder(), shipped(SHIPPED_CONVERSIONS)):
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    path = cache_folder() / name
    model = convert()
    try:
        with atomic_output(path) as temporary:
            temporary.write_bytes(model)
    except OSError:
        pass  # a read-only home: convert again next time
    return model


def converted_model(name, generator):
    """The TFLite or ONNX model of backend `name` (one of `CONVERTED_BACKENDS`) as bytes, from
    the cache or the shipped conversions when this generator was converted before."""
    return cached_conversion(generator, conversion_kind(name),
                             lambda: fresh_conversion(name, generator))


def fresh_conversion(name, generator):
    """`converted_model`'s bytes, converted now (no cache read)."""
    if name == "onnx":  # tf2onnx converts, ONNX Runtime runs: both the [export] extra's
        require_extra("export", "the onnx backend")
        from cartoonize_tf.export.onnx import convert_to_onnx

        return convert_to_onnx(generator)
    from cartoonize_tf.export.tflite import convert_to_tflite

    return convert_to_tflite(generator, TFLITE_BACKEND_QUANTIZATION[name],
                             calibration_images=calibration_photos())


class GraphCartoonizer:
    """TensorFlow runs the padding, the generator and the filter: `tf`, `tf-bfloat16`, `xla` or
    `keras-eager`."""

    def __init__(self, generator, mode="tf", **filter_options):
        self.generator = generator  # the model it runs (as given: float32 weights)
        if mode == "tf-bfloat16":
            # A copy: the caller's generator keeps its own policy. Its cel stage is float32.
            generator = generator_copy(generator, dtype="mixed_bfloat16")

        def run(images):
            return cartoonize_any_size(generator, images, **filter_options)

        if mode == "keras-eager":
            self._run = run
        else:
            self._run = tf.function(run, jit_compile=mode == "xla", reduce_retracing=True,
                                    input_signature=None if mode == "xla" else
                                    [tf.TensorSpec([None, None, None, 3], tf.uint8)])

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        return self._run(tf.constant(image[None])).numpy()[0]


def calibration_photos():
    """Photos for int8 calibration: scikit-image samples that are not the test photos."""
    from skimage import data

    grey = [np.stack([data.camera()] * 3, axis=-1), np.stack([data.grass()] * 3, axis=-1)]
    return [data.stereo_motorcycle()[0], data.immunohistochemistry(), *grey]


def ship_conversion(model_path, name="tflite", folder=SHIPPED_CONVERSIONS):
    """Writes backend `name`'s conversion of the generator at `model_path` into `folder` (the
    checkout's saved_models/conversions/), under the name the cache uses, and names it in the
    folder's index by the model file's digest (`conversion_files`); returns its path.

        python -c "from cartoonize_tf.inference.backends import ship_conversion; \\
                   ship_conversion('saved_models/cartoonizer.keras')"
    """
    from cartoonize_tf.models.loading import load_generator

    generator = load_generator(model_path)
    path = Path(folder) / f"{generator_digest(generator)}-{conversion_kind(name)}"
    with atomic_output(path) as temporary:  # converted anew: a cached file may be stale
        temporary.write_bytes(fresh_conversion(name, generator))
    record_shipped_conversion(model_path, conversion_kind(name), path)
    (cache_folder() / path.name).unlink(missing_ok=True)  # the cache is read first
    return path


def make_backend(name, generator, **filter_options) -> ImageCartoonizer:
    """The backend called `name` (see `BACKENDS`) for a built `UNetGenerator`.

    `filter_options` (`filter_radius`, `filter_eps` of the output guided
    filter) need a TensorFlow backend: converted models have the authors'
    filter built in.
    """
    if name == "auto" or name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS[1:]} (`opening.open_runtime` "
                         f"decides auto), got {name!r}")
    if name in GRAPH_BACKENDS:
        return GraphCartoonizer(generator, name, **filter_options)
    if filter_options:
        raise ValueError(f"the {name} backend has the output filter built in; a different "
                         f"filter radius or eps needs one of {GRAPH_BACKENDS}")
    from cartoonize_tf.inference.runtimes import open_converted

    return open_converted(name, converted_model(name, generator))
