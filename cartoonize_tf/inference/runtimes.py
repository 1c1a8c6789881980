"""Running exported cartoonizers without TensorFlow: OpenVINO, LiteRT (TFLite) and ONNX Runtime.

These import only their runtime, as a phone app or a small server would, so
their memory figures (benchmarks/inference.py) are the runtime's own.
"""

import logging
import os
import tempfile

import numpy as np

from cartoonize_tf.inference.conversion_files import OPENVINO_BACKEND_PRECISIONS
from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.utils.extras import require_extra
from cartoonize_tf.utils.quiet_stderr import stderr_silenced

logger = logging.getLogger(__name__)

# OpenVINO's names of the precisions `OpenVINOCartoonizer` computes in.
OPENVINO_PRECISIONS = {"float32": "f32", "bfloat16": "bf16"}


class TFLiteCartoonizer:
    """Runs a cartoonizer `.tflite` model with LiteRT (`ai-edge-litert`) on all cores.

    Example:
        >>> from cartoonize_tf.inference.conversion_files import shipped_conversion
        >>> model = shipped_conversion("saved_models/cartoonizer.keras", "any-float32.tflite")
        >>> photo = np.full((48, 64, 3), 128, np.uint8)
        >>> TFLiteCartoonizer(model).cartoonize(photo).shape  # uint8 RGB
        (48, 64, 3)
    """

    def __init__(self, model, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
        with stderr_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            self.interpreter = Interpreter(**source, num_threads=num_threads)
        self.input = self.interpreter.get_input_details()[0]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self.shape = None

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon (H, W must match a fixed-size model)."""
        batch = np.ascontiguousarray(image[None], dtype=np.uint8)
        if tuple(batch.shape) != self.shape:
            if -1 not in self.input["shape_signature"] and \
                    tuple(batch.shape) != tuple(self.input["shape"]):
                raise ValueError(f"this model takes {tuple(map(int, self.input['shape'][1:3]))} images, "
                                 f"got {image.shape[:2]}")
            self.interpreter.resize_tensor_input(self.input["index"], batch.shape)
            with stderr_silenced():
                self.interpreter.allocate_tensors()
            self.shape = tuple(batch.shape)
        self.interpreter.set_tensor(self.input["index"], batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)[0]


class ONNXCartoonizer:
    """Runs a cartoonizer `.onnx` model with ONNX Runtime on the CPU.

    Example:
        >>> from cartoonize_tf.export.onnx import convert_to_onnx
        >>> from cartoonize_tf.models.generator import UNetGenerator
        >>> model = convert_to_onnx(UNetGenerator(channels=8))  # bytes, or an .onnx file's path
        >>> photo = np.full((48, 64, 3), 128, np.uint8)
        >>> ONNXCartoonizer(model).cartoonize(photo).shape  # uint8 RGB
        (48, 64, 3)
    """

    def __init__(self, model, num_threads=None):
        require_extra("export", "running an .onnx model")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        self.session = onnxruntime.InferenceSession(
            model if isinstance(model, bytes) else str(model), options,
            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0]

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon (H, W must match a fixed-size model)."""
        fixed = self.input.shape[1:3]
        if all(isinstance(side, int) for side in fixed) and list(image.shape[:2]) != fixed:
            raise ValueError(f"this model takes {tuple(map(int, fixed))} images, got "
                             f"{image.shape[:2]}")
        batch = np.ascontiguousarray(image[None], dtype=np.uint8)
        return self.session.run(None, {self.input.name: batch})[0][0]


class OpenVINOCartoonizer:
    """Runs a cartoonizer's any-size `.tflite` (the float32 conversion the project ships or
    converts) with OpenVINO on the CPU, in float32 or bfloat16 (bfloat16 only where the CPU
    computes it natively: elsewhere float32, logged). Compiled once for any image size: import,
    read and compile take about 0.6 s, no TensorFlow imported.

    Example:
        >>> from cartoonize_tf.inference.conversion_files import shipped_conversion
        >>> model = shipped_conversion("saved_models/cartoonizer.keras", "any-float32.tflite")
        >>> photo = np.full((48, 64, 3), 128, np.uint8)
        >>> OpenVINOCartoonizer(model, "bfloat16").cartoonize(photo).shape  # uint8 RGB
        (48, 64, 3)
    """

    def __init__(self, model, precision="float32"):
        import openvino

        if precision not in OPENVINO_PRECISIONS:
            raise ValueError(f"precision must be one of {tuple(OPENVINO_PRECISIONS)}, got "
                             f"{precision!r}")
        core = openvino.Core()
        if precision == "bfloat16" and "BF16" not in core.get_property(
                "CPU", "OPTIMIZATION_CAPABILITIES"):
            logger.info("OpenVINO: this CPU has no native bfloat16; computing in float32")
            precision = "float32"
        self.precision = precision
        compiled = core.compile_model(read_openvino_model(core, model), "CPU", {
            "INFERENCE_PRECISION_HINT": OPENVINO_PRECISIONS[precision],
            "PERFORMANCE_HINT": "LATENCY"})
        self.request = compiled.create_infer_request()

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon of the same size."""
        return self.request.infer({0: np.ascontiguousarray(image[None], dtype=np.uint8)})[0][0]


def read_openvino_model(core, model):
    """OpenVINO's model of a `.tflite` file, or of a LiteRT model's bytes (OpenVINO reads
    files only: the bytes go through a temporary file)."""
    if not isinstance(model, bytes):
        return core.read_model(str(model))
    with tempfile.TemporaryDirectory(prefix="cartoonize_tf-") as folder:
        path = os.path.join(folder, "model.tflite")
        with open(path, "wb") as file:
            file.write(model)
        return core.read_model(path)


def open_converted(backend, model) -> ImageCartoonizer:
    """The runner of a converted model (bytes or a path) for backend "onnx", "openvino...",
    or "tflite..." (`conversion_files.CONVERTED_BACKENDS`)."""
    if backend == "onnx":
        return ONNXCartoonizer(model)
    if backend in OPENVINO_BACKEND_PRECISIONS:
        return OpenVINOCartoonizer(model, OPENVINO_BACKEND_PRECISIONS[backend])
    return TFLiteCartoonizer(model, num_threads=os.cpu_count())
