"""Converting a generator to ONNX (run it with `runtimes.ONNXCartoonizer`).

The ONNX model has the same contract as the SavedModel's `serving_default`:
uint8 RGB `[N, H, W, 3]` in, uint8 cartoons of the same shape out, with mirror
padding to multiples of 8 and the output guided filter inside. With
`input_size` the shape is fixed (H and W multiples of 8); without it N, H and W
are dynamic.
"""

import tensorflow as tf

from cartoonize_tf.contract.signatures import IMAGES_INPUT, IMAGES_OUTPUT
from cartoonize_tf.export.options import DEFAULT_ONNX_OPSET
from cartoonize_tf.export.quiet import quiet_converters
from cartoonize_tf.models.pipeline import cartoonize_any_size, cartoonize_batch


def convert_to_onnx(generator, input_size=None, opset=DEFAULT_ONNX_OPSET):
    """The ONNX model as bytes (tf2onnx, the generator's weights frozen in)."""
    import tf2onnx

    height, width = input_size or (None, None)
    batch = 1 if input_size else None
    spec = tf.TensorSpec([batch, height, width, 3], tf.uint8, name=IMAGES_INPUT)
    pipeline = cartoonize_batch if input_size else cartoonize_any_size
    function = tf.function(lambda images: {IMAGES_OUTPUT: pipeline(generator, images)},
                           input_signature=[spec])
    with quiet_converters():
        model, _ = tf2onnx.convert.from_function(function, input_signature=[spec], opset=opset)
    return model.SerializeToString()
