"""The look signatures: an exported cartoonizer whose look is chosen per request.

`serving_look` and `serving_look_bytes` are `serving_default` and `serving_bytes` with
one more input per look control (`contract.look.CONTROLS`), each a float32 scalar, in the
order `contract.signatures.SIGNATURE_INPUTS` gives. A control a request leaves out takes the
model's own value from the SignatureDef's `defaults` (TF Serving and `cartoonize serve` fill
them in), so a request with none draws exactly what `serving_default` draws. A value out of
its range fails the request with INVALID_ARGUMENT naming the range.
"""

import tensorflow as tf

from cartoonize_tf.contract.look import CONTROLS
from cartoonize_tf.contract.saved_model_file import write_signature_defaults
from cartoonize_tf.contract.signatures import (
    BYTES_OUTPUT,
    IMAGES_OUTPUT,
    LOOK_IMAGES_SIGNATURE,
    LOOK_SIGNATURES,
    SIGNATURE_INPUTS,
)
from cartoonize_tf.export.signatures import check_encoding, encoded_cartoons, sized_cartoons
from cartoonize_tf.whitebox.look import setting_values, stage_controls

# The controls' inputs, after the images, in the order the serving functions take them.
CONTROL_SPECS = [tf.TensorSpec([], tf.float32, name=name)
                 for name in SIGNATURE_INPUTS[LOOK_IMAGES_SIGNATURE][1:]]
CONTROL_NAMES = [spec.name for spec in CONTROL_SPECS]


def model_controls(generator):
    """The controls' values that draw `generator`'s own look (it must have a cel stage)."""
    return stage_controls(generator.cel_shading_layer.get_config())


def checked_settings(controls, own):
    """The cel stage's call settings for the control tensors `controls`, each asserted to be
    in its range (or the model's own value, `own`) before the stage runs."""
    checks = []
    for name, value in controls.items():
        control = CONTROLS[name]
        allowed = (value >= control.low) & (value <= control.high)
        if control.integer:
            allowed &= tf.equal(value, tf.round(value))
        for excluded in control.excluded:
            allowed &= tf.not_equal(value, float(excluded))
        allowed |= tf.equal(value, float(own[name]))
        checks.append(tf.debugging.Assert(
            allowed, [tf.strings.format(control.requirement() + ", got {}", value)]))
    with tf.control_dependencies(checks):
        return setting_values({name: tf.identity(value) for name, value in controls.items()})


def look_images_function(generator, max_pixels):
    """`serving_look`: `{"cartoons": uint8 [N, H, W, 3]}` from `images` and the controls."""
    own = model_controls(generator)

    def serve(images, *controls):
        settings = checked_settings(dict(zip(CONTROL_NAMES, controls, strict=True)), own)
        return {IMAGES_OUTPUT: sized_cartoons(generator, images, max_pixels, settings)}

    return serve


def look_bytes_function(generator, max_pixels, output_format="png"):
    """`serving_look_bytes`: `{"cartoon_bytes": string [N]}` from `image_bytes` and the
    controls (encodings as `signatures.bytes_function`)."""
    check_encoding(output_format)
    own = model_controls(generator)

    def serve(image_bytes, *controls):
        settings = checked_settings(dict(zip(CONTROL_NAMES, controls, strict=True)), own)
        return {BYTES_OUTPUT: encoded_cartoons(generator, image_bytes, max_pixels,
                                               output_format, settings)}

    return serve


def write_control_defaults(folder, generator):
    """Writes the model's own control values as the look signatures' `defaults` in the
    SavedModel in `folder`."""
    own = {name: float(value) for name, value in model_controls(generator).items()}
    write_signature_defaults(folder, {signature: own for signature in LOOK_SIGNATURES})
