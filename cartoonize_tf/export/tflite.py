"""Converting a generator to TFLite for phones: float32, float16, dynamic-range or int8.

The model takes uint8 RGB `[1, H, W, 3]` and returns the uint8 cartoon of the
same shape, with the output guided filter inside. With `input_size` the shape
is fixed (what phone GPU delegates want; H and W must be multiples of 8);
without it H and W are dynamic and any size is mirror-padded in the graph.
"""

import tempfile

import numpy as np
import tensorflow as tf

from cartoonize_tf.contract.limits import SIZE_MULTIPLE
from cartoonize_tf.contract.signatures import IMAGES_INPUT, IMAGES_OUTPUT, IMAGES_SIGNATURE
from cartoonize_tf.export.options import TFLITE_QUANTIZATIONS
from cartoonize_tf.export.quiet import quiet_converters
from cartoonize_tf.export.saved_model import export_archive
from cartoonize_tf.models.pipeline import (
    OUTPUT_FILTER_SCOPE,
    cartoonize_any_size,
    cartoonize_batch,
)
from cartoonize_tf.utils.quiet_stderr import stderr_silenced


def representative_batches(images, input_size=None, limit=32):
    """Calibration inputs for int8: real photos, centre-cropped to `input_size` (or to multiples of 8)."""
    def dataset():
        for image in images[:limit]:
            height, width = input_size or (image.shape[0] // SIZE_MULTIPLE * SIZE_MULTIPLE,
                                               image.shape[1] // SIZE_MULTIPLE * SIZE_MULTIPLE)
            top = (image.shape[0] - height) // 2
            left = (image.shape[1] - width) // 2
            crop = image[top:top + height, left:left + width]
            if crop.shape[:2] != (height, width):
                raise ValueError(f"calibration image of {image.shape[:2]} is smaller than {input_size}")
            yield [crop[None].astype(np.uint8)]
    return dataset


def convert_to_tflite(generator, quantization="float32", input_size=None,
                      calibration_images=None):
    """The `.tflite` flatbuffer as bytes.

    Args:
        generator: a built `UNetGenerator`.
        quantization: "float32"; "float16" (weights in float16); "dynamic"
            (int8 weights, float activations); "int8" (int8 weights and
            activations, calibrated on `calibration_images`).
        input_size: (H, W) for a fixed-shape model, or None for dynamic.
        calibration_images: uint8 RGB arrays, needed for "int8".
    """
    if quantization not in TFLITE_QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {TFLITE_QUANTIZATIONS}, got {quantization!r}")
    height, width = input_size or (None, None)
    spec = tf.TensorSpec([1, height, width, 3], tf.uint8, name=IMAGES_INPUT)
    pipeline = cartoonize_batch if input_size else cartoonize_any_size
    # Through a SavedModel, so the converter finds and freezes every variable.
    archive = export_archive({
        IMAGES_SIGNATURE: (lambda images: {IMAGES_OUTPUT: pipeline(generator, images)}, [spec])})
    with tempfile.TemporaryDirectory() as folder, quiet_converters():
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        return finish_conversion(converter, quantization, input_size, calibration_images)


def finish_conversion(converter, quantization, input_size, calibration_images):
    """Applies the quantization settings and converts."""
    if quantization == "float32":
        return converter.convert()
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantization != "int8":
        return converter.convert()
    if not calibration_images:
        raise ValueError("int8 quantization needs calibration images (real photos)")
    calibration = representative_batches(calibration_images, input_size)
    converter.representative_dataset = calibration
    # Ops without an int8 kernel stay in float rather than failing the conversion.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                           tf.lite.OpsSet.TFLITE_BUILTINS]
    # The quantizer prints its settings from C++ ("fully_quantize: 0, ...") and calibrates
    # through TensorFlow's deprecated interpreter (a warning of six lines): nothing to act on.
    with stderr_silenced():
        return quantize_keeping_output_filter_in_float(converter, calibration)


def quantize_keeping_output_filter_in_float(converter, calibration):
    """int8 everywhere but the output guided filter and the uint8 conversion.

    The guided filter divides a covariance by a variance plus 5e-3; in int8 the
    variance rounds to zero and the picture is lost (13 dB against float, on
    the authors' architecture). The generator itself keeps about 48 dB in int8.
    """
    optimizations = converter.optimizations
    converter.optimizations = []
    float_model = converter.convert()
    converter.optimizations = optimizations
    from ai_edge_litert.interpreter import Interpreter

    names = [tensor["name"] for tensor in
             Interpreter(model_content=float_model).get_tensor_details()
             if OUTPUT_FILTER_SCOPE in tensor["name"]]
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=calibration,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=names))
    return debugger.get_nondebug_quantized_model()
