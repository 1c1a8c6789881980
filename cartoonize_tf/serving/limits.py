"""Size checks made before anything is allocated: claimed tensor shapes and image headers.

A request names sizes it does not carry: a TensorProto of shape
[1, 30000, 30000, 3] holding one `int_val` is 54 bytes but expands to 2.7 GB,
and a 746 KB PNG can claim 16000 x 16000 pixels. Both are refused here, from
the claim alone, before `tf.make_ndarray` or a decoder runs.
"""

import io
import math
import warnings

from PIL import Image

from cartoonize_tf.serving.errors import ServingError

# The same as export.options (serving imports no other subpackage; a test keeps them equal):
# the file an export writes with the cap its signatures enforce, and the cap when none is known.
LIMITS_FILE = "assets.extra/cartoonize_tf.json"
DEFAULT_MAX_PIXELS = 3840 * 2160


def too_large(pixels, max_pixels, what):
    return ServingError("INVALID_ARGUMENT", f"image too large: {what} has {pixels} pixels "
                                            f"(height * width); the limit is {max_pixels}")


def check_claimed_shape(name, dims, numeric, max_pixels, max_elements):
    """INVALID_ARGUMENT when a shape (a list of ints) is negative, too many elements, or too large.

    For a numeric tensor of rank 3 or more the last three axes are [H, W, C] and
    H * W must stay within `max_pixels`.
    """
    if any(d < 0 for d in dims):
        raise ServingError("INVALID_ARGUMENT", f"input {name}: negative dimension in {dims}")
    elements = math.prod(dims)
    if elements > max_elements:
        raise ServingError("INVALID_ARGUMENT", f"input {name}: shape {dims} has {elements} "
                                               f"elements; the limit is {max_elements}")
    if numeric and len(dims) >= 3 and dims[-3] * dims[-2] > max_pixels:
        raise too_large(dims[-3] * dims[-2], max_pixels, f"input {name} of shape {dims}")


def check_tensor_proto(name, proto, max_pixels, max_elements):
    """The claimed shape of a TensorProto, checked before `tf.make_ndarray` expands it."""
    from tensorflow.core.framework import types_pb2

    if proto.tensor_shape.unknown_rank:
        raise ServingError("INVALID_ARGUMENT", f"input {name}: the tensor has no shape")
    dims = [d.size for d in proto.tensor_shape.dim]
    check_claimed_shape(name, dims, proto.dtype != types_pb2.DT_STRING, max_pixels,
                        max_elements)


def header_size(data):
    """(width, height) from an encoded image's header, without decoding its pixels.

    Raises ServingError INVALID_ARGUMENT when no supported image header is found.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ("JPEG", "PNG", "BMP", "GIF", "WEBP"):
                    raise ServingError("INVALID_ARGUMENT", f"unsupported image format "
                                                           f"{image.format}; send JPEG, PNG, BMP "
                                                           "or GIF")
                return image.size
    except Image.DecompressionBombError as error:
        raise ServingError("INVALID_ARGUMENT", f"image too large: {error}") from None
    except ServingError:
        raise
    except Exception:  # noqa: BLE001 - any unreadable header is the client's error
        raise ServingError("INVALID_ARGUMENT", "not a JPEG, PNG, BMP or GIF image (its header "
                                               "cannot be read)") from None


def check_encoded_images(name, values, max_pixels):
    """Every encoded image's header size within `max_pixels`, before any is decoded."""
    for index, data in enumerate(values):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if not isinstance(data, bytes):
            raise ServingError("INVALID_ARGUMENT", f"input {name}[{index}] must be bytes, got "
                                                   f"{type(data).__name__}")
        width, height = header_size(data)
        if width * height > max_pixels:
            raise too_large(width * height, max_pixels, f"input {name}[{index}] "
                                                        f"({width} x {height})")
