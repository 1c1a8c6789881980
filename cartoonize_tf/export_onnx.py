"""Converting a generator to ONNX, and running it with ONNX Runtime.

The ONNX model has the same contract as the SavedModel's `serving_default`:
uint8 RGB `[N, H, W, 3]` in, uint8 cartoons of the same shape out, with mirror
padding to multiples of 8 and the output guided filter inside. With
`input_size` the shape is fixed (H and W multiples of 8); without it N, H and W
are dynamic.
"""

import numpy as np
import tensorflow as tf

from cartoonize_tf.cli_defaults import DEFAULT_ONNX_OPSET
from cartoonize_tf.inference import cartoonize_any_size, cartoonize_batch


def convert_to_onnx(generator, input_size=None, opset=DEFAULT_ONNX_OPSET):
    """The ONNX model as bytes (tf2onnx, the generator's weights frozen in)."""
    import tf2onnx

    height, width = input_size or (None, None)
    batch = 1 if input_size else None
    spec = tf.TensorSpec([batch, height, width, 3], tf.uint8, name="images")
    pipeline = cartoonize_batch if input_size else cartoonize_any_size
    function = tf.function(lambda images: {"cartoons": pipeline(generator, images)},
                           input_signature=[spec])
    model, _ = tf2onnx.convert.from_function(function, input_signature=[spec], opset=opset)
    return model.SerializeToString()


class ONNXCartoonizer:
    """Runs a cartoonizer `.onnx` model with ONNX Runtime on the CPU.

    Example:
        >>> cartoon = ONNXCartoonizer("cartoonizer.onnx").cartoonize(photo)  # uint8 RGB
    """

    def __init__(self, model, num_threads=None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        self.session = onnxruntime.InferenceSession(
            model if isinstance(model, bytes) else str(model), options,
            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0]

    def cartoonize(self, image):
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon (H, W must match a fixed-size model)."""
        fixed = self.input.shape[1:3]
        if all(isinstance(side, int) for side in fixed) and list(image.shape[:2]) != fixed:
            raise ValueError(f"this model takes {tuple(fixed)} images, got {image.shape[:2]}")
        batch = np.ascontiguousarray(image[None], dtype=np.uint8)
        return self.session.run(None, {self.input.name: batch})[0][0]
