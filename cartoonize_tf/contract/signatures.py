"""The exported model's signatures: their names, inputs and outputs.

A look signature is its plain twin with one more input per look control (a float32 scalar,
in `CONTROLS` order), each optional: its SignatureDef's `defaults` hold the model's own value.
"""

from cartoonize_tf.contract.look import CONTROLS

IMAGES_SIGNATURE = "serving_default"
BYTES_SIGNATURE = "serving_bytes"
LOOK_IMAGES_SIGNATURE = "serving_look"
LOOK_BYTES_SIGNATURE = "serving_look_bytes"
LOOK_SIGNATURES = (LOOK_IMAGES_SIGNATURE, LOOK_BYTES_SIGNATURE)

# uint8 RGB [N, H, W, 3] in and out; or encoded images (string [N]) in and out.
IMAGES_INPUT, IMAGES_OUTPUT = "images", "cartoons"
BYTES_INPUT, BYTES_OUTPUT = "image_bytes", "cartoon_bytes"

# Each signature's inputs, in the order its function takes them.
SIGNATURE_INPUTS = {
    IMAGES_SIGNATURE: (IMAGES_INPUT,),
    BYTES_SIGNATURE: (BYTES_INPUT,),
    LOOK_IMAGES_SIGNATURE: (IMAGES_INPUT, *CONTROLS),
    LOOK_BYTES_SIGNATURE: (BYTES_INPUT, *CONTROLS),
}
