"""Exporting a generator as a SavedModel in TF Serving's layout, with warm-up requests."""

import io
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cartoonize_tf.contract.limits import DEFAULT_MAX_PIXELS, write_max_pixels
from cartoonize_tf.contract.signatures import (
    BYTES_INPUT,
    BYTES_SIGNATURE,
    IMAGES_INPUT,
    IMAGES_SIGNATURE,
    LOOK_BYTES_SIGNATURE,
    LOOK_IMAGES_SIGNATURE,
)
from cartoonize_tf.export.look_signatures import (
    CONTROL_SPECS,
    look_bytes_function,
    look_images_function,
    model_controls,
    write_control_defaults,
)
from cartoonize_tf.export.quiet import quiet_converters
from cartoonize_tf.export.signatures import BYTES_SPEC, IMAGES_SPEC, bytes_function, images_function

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
WARMUP_SIZE = (64, 64)


def next_version(base_path):
    """One more than the highest numeric version folder under `base_path` (1 if none)."""
    base_path = Path(base_path)
    versions = [int(p.name) for p in base_path.iterdir() if p.is_dir() and p.name.isdigit()] \
        if base_path.is_dir() else []
    return max(versions, default=0) + 1


def warmup_requests(model_name, controls=None):
    """PredictionLog records, one per signature, on a small image (TF Serving replays them);
    with `controls` (the model's own values) the look signatures' too, each control given."""
    from PIL import Image
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    image = np.random.default_rng(0).integers(0, 256, (*WARMUP_SIZE, 3), dtype=np.uint8)
    encoded = io.BytesIO()
    Image.fromarray(image).save(encoded, format="PNG")
    requests = [(IMAGES_SIGNATURE, {IMAGES_INPUT: image[None]}),
                (BYTES_SIGNATURE, {BYTES_INPUT: [encoded.getvalue()]})]
    if controls is not None:
        scalars = {name: np.float32(value) for name, value in controls.items()}
        requests += [(LOOK_IMAGES_SIGNATURE, {IMAGES_INPUT: image[None], **scalars}),
                     (LOOK_BYTES_SIGNATURE, {BYTES_INPUT: [encoded.getvalue()], **scalars})]
    records = []
    for signature, inputs in requests:
        request = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature))
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        log = prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request))
        records.append(log.SerializeToString())
    return records


def export_archive(endpoints):
    """A `keras.export.ExportArchive` with `{name: (function, input_specs)}` endpoints.

    The archive keeps every variable the endpoints capture, so the SavedModel
    holds all the weights even though Keras 3 keeps layers held in lists out of
    TensorFlow's object graph. `archive.track(generator)` is left out on
    purpose: it stores each weight a second time (keras-team/keras#23553).
    """
    archive = keras.export.ExportArchive()
    for name, (function, specs) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=specs)
    return archive


def export_saved_model(generator, base_path, version=None, max_pixels=DEFAULT_MAX_PIXELS,
                       output_format="png", model_name="cartoonizer"):
    """Writes `<base_path>/<version>/` (saved_model.pb, variables/, assets.extra/); returns it.

    A generator with a cel stage also gets the look signatures
    (`look_signatures`: the look controls as optional inputs). The version
    folder is written under a temporary name and renamed when complete, so a
    server watching `base_path` never loads half a model. Existing versions
    are never overwritten.
    """
    base_path = Path(base_path)
    version = next_version(base_path) if version is None else int(version)
    target = base_path / str(version)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose another --version or leave it out")
    staging = base_path / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    endpoints = {
        IMAGES_SIGNATURE: (images_function(generator, max_pixels), [IMAGES_SPEC]),
        BYTES_SIGNATURE: (bytes_function(generator, max_pixels, output_format), [BYTES_SPEC]),
    }
    has_look = generator.cel_shading_layer is not None
    if has_look:
        endpoints[LOOK_IMAGES_SIGNATURE] = (look_images_function(generator, max_pixels),
                                            [IMAGES_SPEC, *CONTROL_SPECS])
        endpoints[LOOK_BYTES_SIGNATURE] = (
            look_bytes_function(generator, max_pixels, output_format),
            [BYTES_SPEC, *CONTROL_SPECS])
    archive = export_archive(endpoints)
    try:
        with quiet_converters():
            archive.write_out(str(staging), verbose=False)
            if has_look:
                write_control_defaults(staging, generator)
        warmup = staging / WARMUP_FILE
        warmup.parent.mkdir(parents=True, exist_ok=True)
        with tf.io.TFRecordWriter(str(warmup)) as writer:
            for record in warmup_requests(model_name,
                                          model_controls(generator) if has_look else None):
                writer.write(record)
        write_max_pixels(staging, max_pixels)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
