"""Reading images as uint8 RGB and writing them without leaving half-written files."""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cartoonize_tf.utils.files import atomic_output

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")
JPEG_QUALITY = 95


class ImageReadError(ValueError):
    """A file could not be read as an image; the message names the file and why."""


class ImageTooLargeError(ImageReadError):
    """An image's header claims more pixels than allowed; it was not decoded."""


def to_rgb_uint8(array):
    """Converts a greyscale, grey+alpha, RGB or RGBA array of any integer or float depth.

    16-bit data is scaled to 8 bits; floats are taken as [0, 1]; alpha is
    dropped (composited on nothing: the colour channels are kept as stored).
    """
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"expected an HxW, HxWx1, HxWx2, HxWx3 or HxWx4 image, got shape {array.shape}")
    colour = array[..., :3] if array.shape[-1] >= 3 else array[..., :1]
    if colour.dtype == np.uint8:
        pass
    elif colour.dtype == np.uint16:
        colour = (colour >> 8).astype(np.uint8)
    elif np.issubdtype(colour.dtype, np.integer):
        colour = np.clip(colour, 0, 255).astype(np.uint8)
    elif np.issubdtype(colour.dtype, np.floating):
        colour = np.clip(np.round(colour * 255.0), 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"unsupported image dtype {colour.dtype}")
    if colour.shape[-1] == 1:
        colour = np.repeat(colour, 3, axis=-1)
    return np.ascontiguousarray(colour)


def pil_to_array(image):
    """The pixels of a PIL image as an array that keeps 16-bit depth where PIL has it."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.uint16)
    if image.mode == "I":  # 32-bit integer greyscale, which PIL uses for 16-bit PNGs
        return np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info
                              else "RGB")
    return np.asarray(image)


def read_image(path, max_pixels=None):
    """Reads an image file as a uint8 RGB array, applying its EXIF orientation.

    The size in the header is checked against `max_pixels` (height * width)
    before any pixel is decoded, so a small file that claims a huge image
    costs nothing. PIL's own decompression-bomb limit applies as well.

    Raises:
        ImageTooLargeError: the header claims more than `max_pixels` pixels.
        ImageReadError: the file is empty, truncated, not an image, or fails to decode.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageReadError(f"{path}: the file is empty")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if max_pixels is not None and width * height > max_pixels:
                    raise ImageTooLargeError(
                        f"{path}: {width} x {height} is {width * height:,} pixels, over the "
                        f"limit of {max_pixels:,}; not decoded")
                image.load()
                image = ImageOps.exif_transpose(image)
                return to_rgb_uint8(pil_to_array(image))
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image file PIL can read") from None
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"{path}: its header claims over {2 * Image.MAX_IMAGE_PIXELS:,} "
                                 "pixels (PIL's decompression-bomb limit); not decoded") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image file") from None
    except MemoryError:
        raise ImageReadError(f"{path}: not enough memory to decode it") from None
    except Exception as error:  # any decoder failure fails this file alone
        raise ImageReadError(f"{path}: cannot decode ({type(error).__name__}: {error})") from None


def write_image(array, path):
    """Writes a uint8 RGB array; the format follows the file's suffix.

    The file appears whole or not at all (see `files.atomic_output`).
    """
    path = Path(path)
    image = Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))
    image_format = Image.registered_extensions().get(path.suffix.lower())
    if image_format is None:
        raise ValueError(f"{path}: cannot tell the image format from the suffix {path.suffix!r}")
    options = {"quality": JPEG_QUALITY} if image_format in ("JPEG", "WEBP") else {}
    with atomic_output(path) as temporary:
        image.save(temporary, format=image_format, **options)
