"""The look signatures: an exported cartoonizer whose look is chosen per request.

`serving_look` and `serving_look_bytes` are `serving_default` and `serving_bytes` with
one more input per look control (`whitebox.look.CONTROLS`: tones, flatness, lines,
line_width, colour), each a float32 scalar. A control a request leaves out takes the
model's own value from the SignatureDef's `defaults` (TF Serving and `cartoonize serve` fill
them in), so a request with none draws exactly what `serving_default` draws. A value out of
its range fails the request with INVALID_ARGUMENT naming the range.
"""

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.saved_model import fingerprinting_utils

from cartoonize_tf.export.options import LOOK_BYTES_SIGNATURE, LOOK_IMAGES_SIGNATURE
from cartoonize_tf.export.signatures import check_encoding, encoded_cartoons, sized_cartoons
from cartoonize_tf.utils.saved_model_versions import SAVED_MODEL_FILE
from cartoonize_tf.whitebox.look import CONTROLS, setting_values, stage_controls

CONTROL_SPECS = [tf.TensorSpec([], tf.float32, name=name) for name in CONTROLS]


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

    def serve(images, tones, flatness, lines, line_width, colour):
        settings = checked_settings({"tones": tones, "flatness": flatness, "lines": lines,
                                     "line_width": line_width, "colour": colour}, own)
        return {"cartoons": sized_cartoons(generator, images, max_pixels, settings)}

    return serve


def look_bytes_function(generator, max_pixels, output_format="png"):
    """`serving_look_bytes`: `{"cartoon_bytes": string [N]}` from `image_bytes` and the
    controls (encodings as `signatures.bytes_function`)."""
    check_encoding(output_format)
    own = model_controls(generator)

    def serve(image_bytes, tones, flatness, lines, line_width, colour):
        settings = checked_settings({"tones": tones, "flatness": flatness, "lines": lines,
                                     "line_width": line_width, "colour": colour}, own)
        return {"cartoon_bytes": encoded_cartoons(generator, image_bytes, max_pixels,
                                                  output_format, settings)}

    return serve


def write_control_defaults(folder, generator):
    """Writes the model's own control values into the look signatures' `defaults` of the
    SavedModel in `folder` (`keras.export` has no way to declare them), and its fingerprint
    anew."""
    path = folder / SAVED_MODEL_FILE
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(path.read_bytes())
    own = model_controls(generator)
    for signature in (LOOK_IMAGES_SIGNATURE, LOOK_BYTES_SIGNATURE):
        defaults = proto.meta_graphs[0].signature_def[signature].defaults
        for name, value in own.items():
            defaults[name].CopyFrom(tf.make_tensor_proto(float(value), tf.float32))
    path.write_bytes(proto.SerializeToString())
    fingerprinting_utils.write_fingerprint(str(folder))
