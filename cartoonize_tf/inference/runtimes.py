"""Running exported cartoonizers without TensorFlow: LiteRT (TFLite) and ONNX Runtime.

These import only their runtime, as a phone app or a small server would, so
their memory figures (benchmarks/inference.py) are the runtime's own.
"""

import os

import numpy as np

from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.utils.extras import require_extra
from cartoonize_tf.utils.quiet_stderr import stderr_silenced


class TFLiteCartoonizer:
    """Runs a cartoonizer `.tflite` model with LiteRT (`ai-edge-litert`) on all cores.

    Example:
        >>> cartoon = TFLiteCartoonizer("cartoonizer.tflite").cartoonize(photo)  # uint8 RGB
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
        >>> cartoon = ONNXCartoonizer("cartoonizer.onnx").cartoonize(photo)  # uint8 RGB
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


def open_converted(backend, model) -> ImageCartoonizer:
    """The runner of a converted model for backend "onnx" or "tflite..." (bytes or a path)."""
    if backend == "onnx":
        return ONNXCartoonizer(model)
    return TFLiteCartoonizer(model, num_threads=os.cpu_count())
