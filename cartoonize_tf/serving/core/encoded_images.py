"""What decoding an encoded image will cost, read from its bytes without decoding pixels.

An image's header can understate the decoder's work: a GIF's screen may say 1 x 1
while a later frame is 4K (TensorFlow's decoder keeps every frame, on a canvas as
large as the largest), and a progressive JPEG may repeat a scan thousands of times
(one uncancellable decode of minutes), and a PNG's compressed stream may go on
long after its pixels (50 MB of deflated zeros inflate to 48 GiB, all of it
inflated). These walk the files' block structure, so the server can size or
refuse a request before any decoder runs.
"""

import struct
import zlib

from cartoonize_tf.contract.limits import padded_pixels

# A progressive JPEG from libjpeg has 10 scans, an optimised one about 20; thousands are an attack.
MAX_JPEG_SCANS = 64
GIF_TRAILER, GIF_IMAGE, GIF_EXTENSION = 0x3B, 0x2C, 0x21
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Samples per pixel of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA).
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class EncodedImageError(ValueError):
    """The bytes are not a well-formed image of the kind their header claims, or one this
    server refuses to decode; the message says which."""


def gif_decoded_pixels(data):
    """`(frames, canvas width, canvas height)` of a GIF: every frame's descriptor is read, the
    canvas spans the logical screen and every frame's extent."""
    if len(data) < 13 or data[:6] not in (b"GIF87a", b"GIF89a"):
        raise EncodedImageError("not a GIF")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    position = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    frames = 0
    while position < len(data):
        block = data[position]
        if block == GIF_TRAILER:
            break
        if block == GIF_IMAGE:
            if position + 10 > len(data):
                raise EncodedImageError("a GIF frame descriptor is cut short")
            left, top, frame_w, frame_h, local = struct.unpack_from("<HHHHB", data, position + 1)
            frames += 1
            width, height = max(width, left + frame_w), max(height, top + frame_h)
            position += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            position += 1  # the LZW minimum code size
        elif block == GIF_EXTENSION:
            position += 2  # the extension's label
        else:
            raise EncodedImageError(f"a GIF block of unknown kind 0x{block:02x}")
        position = skip_sub_blocks(data, position)
    return max(frames, 1), width, height


def skip_sub_blocks(data, position):
    """The position after a chain of GIF data sub-blocks (each a length byte, 0 ends it)."""
    while position < len(data):
        length = data[position]
        position += 1 + length
        if length == 0:
            return position
    return position


def jpeg_scan_count(data):
    """How many scans (SOS segments) a JPEG holds: each one is a pass of the decoder over the
    whole image."""
    scans, position = 0, 2
    while 0 <= position and position + 4 <= len(data):
        if data[position] != 0xFF:
            position = data.find(b"\xff", position)  # through the last scan's coded data
            continue
        marker = data[position + 1]
        if marker == 0xD9:  # end of image
            break
        if marker == 0xFF:  # a fill byte
            position += 1
            continue
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length follows
            position += 2
            continue
        if marker == 0xDA:
            scans += 1
        length = struct.unpack_from(">H", data, position + 2)[0]
        position += 2 + length
    return scans


def png_data_bound(width, height, bit_depth, colour_type):
    """The bytes a PNG of this size inflates to, at most: every row with its filter byte (a byte
    more per row for each of Adam7's seven passes)."""
    row = -(-width * PNG_CHANNELS.get(colour_type, 4) * bit_depth // 8)
    return height * (row + 7)


def png_chunks(data):
    """`(IHDR fields: width, height, bit depth, colour type; the IDAT chunks' payloads)` of a
    PNG, from its chunk headers."""
    if len(data) < 33 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise EncodedImageError("not a PNG")
    header = struct.unpack_from(">IIBB", data, 16)
    position, idat = 8, []
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        if kind == b"IDAT":
            idat.append(memoryview(data)[position + 8:position + 8 + length])
        elif kind == b"IEND":
            break
        position += 12 + length
    return header, idat


def check_png_data(data, step=1 << 20):
    """Refuses (EncodedImageError) a PNG whose compressed data inflates to more than its pixels
    need: a decoder would inflate what follows them to the end (50 MB of deflated zeros are
    48 GiB). Inflated here `step` bytes at a time and thrown away, stopping one byte past the
    bound: at most the image's own raw size of work, and `step` of memory."""
    header, idat = png_chunks(data)
    bound = png_data_bound(*header)
    inflater, inflated = zlib.decompressobj(), 0
    try:
        for chunk in idat:
            while chunk and inflated <= bound:
                inflated += len(inflater.decompress(chunk, step))
                chunk = inflater.unconsumed_tail
            if inflated > bound:
                raise EncodedImageError(f"a PNG whose compressed data inflates past what its "
                                        f"{header[0]}x{header[1]} pixels need ({bound:,} bytes)")
    except zlib.error:
        raise EncodedImageError("a PNG whose compressed data is not a deflate stream") from None


def webp_is_animated(data):
    """Whether a WebP holds an animation (its VP8X header's animation flag)."""
    return len(data) >= 21 and data[12:16] == b"VP8X" and bool(data[20] & 0x02)


def decoded_pixels(image_format, data, width, height):
    """The pixels a decoder will produce for `data` whose header says `width` x `height`, as
    the model runs them (each side padded, `contract.limits.padded_pixels`): every GIF frame on its
    canvas; refuses (EncodedImageError) JPEGs with more than
    `MAX_JPEG_SCANS` scans, PNGs with more compressed data than their pixels can need, and
    animated WebPs."""
    if image_format == "GIF":
        frames, canvas_w, canvas_h = gif_decoded_pixels(data)
        return frames * padded_pixels(canvas_h, canvas_w)
    if image_format == "JPEG":
        scans = jpeg_scan_count(data)
        if scans > MAX_JPEG_SCANS:
            raise EncodedImageError(f"a JPEG with {scans} scans (at most {MAX_JPEG_SCANS}; "
                                    "re-save it as a baseline JPEG)")
    if image_format == "PNG":
        check_png_data(data)
    if image_format == "WEBP" and webp_is_animated(data):
        raise EncodedImageError("an animated WebP; send one frame (as PNG, say)")
    return padded_pixels(height, width)
