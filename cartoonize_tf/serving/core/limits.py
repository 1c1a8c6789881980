"""Size checks made before anything is allocated: claimed tensor shapes and image headers.

A request names sizes it does not carry: a TensorProto of shape
[1, 30000, 30000, 3] holding one `int_val` is 54 bytes but expands to 2.7 GB
(and a string tensor of shape [100000] with one `string_val` to 100,000
copies), and a 746 KB PNG can claim 16000 x 16000 pixels. All are refused
here, from the claim alone, before `tf.make_ndarray` or a decoder runs: a
tensor must carry exactly the values its shape claims, and the pixel cap is
on the whole request (every image of a batch counts).

Pixels are counted as the model runs them: each side padded to a multiple of 8
(`padded_pixels`), so an image one pixel wide counts 8 times its header's
pixels, and a request holds at most `MAX_BATCH_IMAGES` images (each runs as a
call of its own).
"""

import io
import math
import warnings

from PIL import Image

from cartoonize_tf.contract.limits import SIZE_MULTIPLE, padded_pixels
from cartoonize_tf.serving.core.encoded_images import EncodedImageError, decoded_pixels
from cartoonize_tf.serving.core.errors import ServingError

# Images in one request: a batch of many tiny images is a call each (about 15 ms), however
# few pixels they hold.
MAX_BATCH_IMAGES = 64
# A gRPC request message holds at most this many bytes per pixel the cap admits (uint8 RGB is
# 3; an encoded image is rarely more), plus this much besides (names, shapes, image metadata).
MESSAGE_BYTES_PER_PIXEL = 4
MESSAGE_OVERHEAD_BYTES = 4 << 20


def largest_message_bytes(max_pixels):
    """The largest request message a pixel cap of `max_pixels` can admit."""
    return MESSAGE_BYTES_PER_PIXEL * max_pixels + MESSAGE_OVERHEAD_BYTES


def check_batch(name, count):
    """INVALID_ARGUMENT for more than `MAX_BATCH_IMAGES` images in input `name`."""
    if count > MAX_BATCH_IMAGES:
        raise ServingError("INVALID_ARGUMENT", f"input {name} holds {count} images; a request "
                                               f"takes at most {MAX_BATCH_IMAGES}")


def too_large(pixels, max_pixels, what):
    return ServingError("INVALID_ARGUMENT", f"image too large: {what} has {pixels} pixels "
                                            f"(height * width, each side padded to a multiple "
                                            f"of {SIZE_MULTIPLE}, all images of the request, "
                                            f"every frame of a GIF); the limit is {max_pixels}")


# The TensorProto field that lists the values of each dtype (by DataType name).
VALUE_FIELDS = {"DT_FLOAT": "float_val", "DT_DOUBLE": "double_val", "DT_INT32": "int_val",
                "DT_INT16": "int_val", "DT_INT8": "int_val", "DT_UINT8": "int_val",
                "DT_UINT16": "int_val", "DT_INT64": "int64_val", "DT_UINT32": "uint32_val",
                "DT_UINT64": "uint64_val", "DT_BOOL": "bool_val", "DT_HALF": "half_val",
                "DT_BFLOAT16": "half_val", "DT_STRING": "string_val"}


def carried_values(proto):
    """How many values a TensorProto carries: its `tensor_content` elements or its typed list
    (-1 for a dtype no input of ours takes)."""
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2

    if proto.tensor_content:
        return len(proto.tensor_content) // tf.dtypes.as_dtype(proto.dtype).size
    field = VALUE_FIELDS.get(types_pb2.DataType.Name(proto.dtype))
    return len(getattr(proto, field)) if field else -1


def check_claimed_shape(name, dims, numeric, max_pixels, max_elements):
    """INVALID_ARGUMENT when a shape (a list of ints) is negative, too many elements, or too large;
    returns the pixels of each image it holds (none for other tensors).

    For a numeric tensor of rank 3 or more the last three axes are [H, W, C]: it holds at
    most `MAX_BATCH_IMAGES` images, and the pixels of all of them, N * H * W with H and W
    padded (`padded_pixels`), must stay within `max_pixels`.
    """
    if any(d < 0 for d in dims):
        raise ServingError("INVALID_ARGUMENT", f"input {name}: negative dimension in {dims}")
    elements = math.prod(dims)
    if elements > max_elements:
        raise ServingError("INVALID_ARGUMENT", f"input {name}: shape {dims} has {elements} "
                                               f"elements; the limit is {max_elements}")
    if numeric and len(dims) >= 3:
        images = math.prod(dims[:-3])
        check_batch(name, images)
        each = padded_pixels(dims[-3], dims[-2])
        if images * each > max_pixels:
            raise too_large(images * each, max_pixels, f"input {name} of shape {dims}")
        return [each] * images
    return []


def check_tensor_proto(name, proto, max_pixels, max_elements):
    """The claimed shape of a TensorProto, checked before `tf.make_ndarray` expands it.

    Besides the caps, the tensor must carry one value per element it claims:
    TensorFlow would repeat a lone value (or the last one) to fill the shape,
    so a few bytes could ask for gigabytes of work.
    """
    from tensorflow.core.framework import types_pb2

    if proto.tensor_shape.unknown_rank:
        raise ServingError("INVALID_ARGUMENT", f"input {name}: the tensor has no shape")
    dims = [d.size for d in proto.tensor_shape.dim]
    check_claimed_shape(name, dims, proto.dtype != types_pb2.DT_STRING, max_pixels,
                        max_elements)
    claimed, carried = math.prod(dims), carried_values(proto)
    if carried != claimed:
        raise ServingError("INVALID_ARGUMENT", f"input {name}: shape {dims} claims {claimed} "
                                               f"values but the tensor carries {carried}; send "
                                               "every value (tf.make_tensor_proto does)")


def decoded_size(data):
    """The pixels that decoding an encoded image will produce and the model run, read without
    decoding them: its header's width x height padded (`padded_pixels`), every frame of a GIF
    on its canvas (`encoded_images`).

    Raises ServingError INVALID_ARGUMENT when no supported image header is found, or for
    a file the server will not decode (thousands of JPEG scans, an animated WebP).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ("JPEG", "PNG", "BMP", "GIF", "WEBP"):
                    raise ServingError("INVALID_ARGUMENT", f"unsupported image format "
                                                           f"{image.format}; send JPEG, PNG, BMP, "
                                                           "GIF or WebP")
                image_format, (width, height) = image.format, image.size
        return decoded_pixels(image_format, data, width, height)
    except EncodedImageError as error:
        raise ServingError("INVALID_ARGUMENT", f"refused {error}") from None
    except Image.DecompressionBombError as error:
        raise ServingError("INVALID_ARGUMENT", f"image too large: {error}") from None
    except ServingError:
        raise
    except Exception:  # any unreadable header is the client's error
        raise ServingError("INVALID_ARGUMENT", "not a JPEG, PNG, BMP, GIF or WebP image (its header "
                                               "cannot be read)") from None


def check_encoded_images(name, values, max_pixels):
    """Every encoded image's header size within `max_pixels` (all images of the request
    together), before any is decoded; returns each image's pixel count (padded)."""
    check_batch(name, len(values))
    pixels = []
    for index, data in enumerate(values):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if not isinstance(data, bytes):
            raise ServingError("INVALID_ARGUMENT", f"input {name}[{index}] must be bytes, got "
                                                   f"{type(data).__name__}")
        pixels.append(decoded_size(data))
        if sum(pixels) > max_pixels:
            raise too_large(sum(pixels), max_pixels, f"input {name} up to [{index}]")
    return pixels
