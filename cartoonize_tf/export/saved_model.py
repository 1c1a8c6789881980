"""Exporting a generator as a SavedModel in TF Serving's layout, with warm-up requests."""

import io
import json
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cartoonize_tf.export.options import DEFAULT_MAX_PIXELS, LIMITS_FILE
from cartoonize_tf.export.quiet import quiet_converters
from cartoonize_tf.export.signatures import (
    BYTES_SIGNATURE,
    BYTES_SPEC,
    IMAGES_SIGNATURE,
    IMAGES_SPEC,
    bytes_function,
    images_function,
)

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
WARMUP_SIZE = (64, 64)


def next_version(base_path):
    """One more than the highest numeric version folder under `base_path` (1 if none)."""
    base_path = Path(base_path)
    versions = [int(p.name) for p in base_path.iterdir() if p.is_dir() and p.name.isdigit()] \
        if base_path.is_dir() else []
    return max(versions, default=0) + 1


def warmup_requests(model_name):
    """PredictionLog records, one per signature, on a small image (TF Serving replays them)."""
    from PIL import Image
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    image = np.random.default_rng(0).integers(0, 256, (*WARMUP_SIZE, 3), dtype=np.uint8)
    encoded = io.BytesIO()
    Image.fromarray(image).save(encoded, format="PNG")
    records = []
    for signature, key, value in ((IMAGES_SIGNATURE, "images", image[None]),
                                  (BYTES_SIGNATURE, "image_bytes", [encoded.getvalue()])):
        request = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature))
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        log = prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request))
        records.append(log.SerializeToString())
    return records


def export_archive(endpoints):
    """A `keras.export.ExportArchive` with `{name: (function, input_spec)}` endpoints.

    The archive keeps every variable the endpoints capture, so the SavedModel
    holds all the weights even though Keras 3 keeps layers held in lists out of
    TensorFlow's object graph. `archive.track(generator)` is left out on
    purpose: it stores each weight a second time (keras-team/keras#23553).
    """
    archive = keras.export.ExportArchive()
    for name, (function, spec) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=[spec])
    return archive


def export_saved_model(generator, base_path, version=None, max_pixels=DEFAULT_MAX_PIXELS,
                       output_format="png", model_name="cartoonizer"):
    """Writes `<base_path>/<version>/` (saved_model.pb, variables/, assets.extra/); returns it.

    The version folder is written under a temporary name and renamed when
    complete, so a server watching `base_path` never loads half a model.
    Existing versions are never overwritten.
    """
    base_path = Path(base_path)
    version = next_version(base_path) if version is None else int(version)
    target = base_path / str(version)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose another --version or leave it out")
    staging = base_path / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    archive = export_archive({
        IMAGES_SIGNATURE: (images_function(generator, max_pixels), IMAGES_SPEC),
        BYTES_SIGNATURE: (bytes_function(generator, max_pixels, output_format), BYTES_SPEC),
    })
    try:
        with quiet_converters():
            archive.write_out(str(staging), verbose=False)
        warmup = staging / WARMUP_FILE
        warmup.parent.mkdir(parents=True, exist_ok=True)
        with tf.io.TFRecordWriter(str(warmup)) as writer:
            for record in warmup_requests(model_name):
                writer.write(record)
        (staging / LIMITS_FILE).write_text(json.dumps({"max_pixels": int(max_pixels)}))
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
