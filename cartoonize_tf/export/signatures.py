"""The serving functions: what an exported cartoonizer computes, as `tf.function`s.

Everything a client needs happens in the graph: size checks, mirror padding to
multiples of 8, the generator, the output guided filter and the uint8
conversion; the bytes signature also decodes and encodes images. No
`tf.py_function` anywhere, so TF Serving and other processes can run it.
"""

import tensorflow as tf

from cartoonize_tf.contract.signatures import BYTES_INPUT, BYTES_OUTPUT, IMAGES_INPUT, IMAGES_OUTPUT
from cartoonize_tf.export.options import BYTES_ENCODINGS
from cartoonize_tf.models.pipeline import cartoonize_any_size


def check_size(images, max_pixels):
    """Fails with InvalidArgument when height * width exceeds `max_pixels` or is zero."""
    shape = tf.shape(images, out_type=tf.int64)
    pixels = shape[-3] * shape[-2]
    return [
        tf.debugging.assert_less_equal(
            pixels, tf.constant(max_pixels, tf.int64),
            message=f"image too large: height * width must be at most {max_pixels} pixels"),
        tf.debugging.assert_positive(pixels, message="image has no pixels"),
    ]


def sized_cartoons(generator, images, max_pixels, stage_settings=None):
    """uint8 cartoons of uint8 RGB `images` `[N, H, W, 3]` whose size `check_size` passed."""
    with tf.control_dependencies(check_size(images, max_pixels)):
        return cartoonize_any_size(generator, tf.identity(images), stage_settings=stage_settings)


def images_function(generator, max_pixels):
    """`{"cartoons": uint8 [N, H, W, 3]}` from `images`: uint8 RGB `[N, H, W, 3]`."""

    def serve(images):
        return {IMAGES_OUTPUT: sized_cartoons(generator, images, max_pixels)}

    return serve


def decode_rgb(encoded):
    """An encoded image as uint8 RGB `[H, W, 3]`, JPEGs exactly as the command line reads them.

    `tf.io.decode_image` decodes JPEGs with libjpeg's fast integer DCT (up to 11 levels
    from Pillow's decoding); the accurate one gives Pillow's pixels, so a photo has the
    same cartoon from the server and the web page as from `cartoonize run`.
    """
    image = tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(encoded, channels=3, dtype=tf.uint8, expand_animations=False))
    image.set_shape([None, None, 3])
    return image


def check_encoding(output_format):
    """ValueError unless `output_format` is one of `BYTES_ENCODINGS`."""
    if output_format not in BYTES_ENCODINGS:
        raise ValueError(f"output_format must be one of {BYTES_ENCODINGS}, got {output_format!r}")


def encoded_cartoons(generator, image_bytes, max_pixels, output_format, stage_settings=None):
    """string `[N]`: each encoded image's cartoon, encoded as `output_format`."""

    def one(encoded):
        image = decode_rgb(encoded)
        cartoon = sized_cartoons(generator, image[None], max_pixels, stage_settings)[0]
        if output_format == "png":
            return tf.io.encode_png(cartoon)
        return tf.io.encode_jpeg(cartoon, quality=95)

    return tf.map_fn(one, image_bytes, fn_output_signature=tf.string)


def bytes_function(generator, max_pixels, output_format="png"):
    """`{"cartoon_bytes": string [N]}` from `image_bytes`: encoded images, each its own size.

    JPEG, PNG, BMP, GIF (first frame) and WebP are decoded to RGB (`decode_rgb`);
    results are encoded as PNG (lossless) or JPEG (quality 95). The `_bytes`
    suffixes make TF Serving's REST API carry both as `{"b64": ...}`.
    """
    check_encoding(output_format)

    def serve(image_bytes):
        return {BYTES_OUTPUT: encoded_cartoons(generator, image_bytes, max_pixels,
                                               output_format)}

    return serve


IMAGES_SPEC = tf.TensorSpec([None, None, None, 3], tf.uint8, name=IMAGES_INPUT)
BYTES_SPEC = tf.TensorSpec([None], tf.string, name=BYTES_INPUT)
