"""Large images in overlapping tiles, so memory is bounded by the tile, not the photo.

Each tile is cut with a `margin` of context on every inner side; only its
core is kept, so every output pixel comes from a tile in which it lies at
least `margin` pixels from any cut. The generator sees about 57 pixels
around a pixel (its receptive radius: `tests/test_tiling.py` measures it),
so with the default margin of 64 a tiled picture equals the whole one up
to float round-off: no seam, no blending needed. Tiles start at multiples
of 8, so the generator's stride-2 stages see the same pixel grid as they
would on the whole image.
"""

import logging

import numpy as np

from cartoonize_tf.contract.limits import SIZE_MULTIPLE

logger = logging.getLogger(__name__)
sizes_reported = set()

DEFAULT_MARGIN = 64


def tile_starts(length, core):
    """Start of each tile's core along one axis: 0, core, 2 * core, ... (last may be short)."""
    return list(range(0, length, core))


def runs_in_tiles(height, width, tile):
    """Whether `cartoonize_tiled` cuts an image of this size into tiles of side `tile`."""
    return height > tile or width > tile


def cartoonize_tiled(cartoonize, image, tile, margin=DEFAULT_MARGIN):
    """`cartoonize(image)` computed tile by tile when the image is larger than `tile`.

    Args:
        cartoonize: uint8 RGB `[h, w, 3]` -> uint8 cartoon of the same shape
            (any size, as the inference backends take).
        image: uint8 RGB `[H, W, 3]`.
        tile: largest side of a tile, margins included (a multiple of 8).
        margin: context cut with each tile and thrown away (a multiple of 8).
    """
    height, width = image.shape[:2]
    if not runs_in_tiles(height, width, tile):
        return cartoonize(image)
    core = tile - 2 * margin
    if core <= 0 or core % SIZE_MULTIPLE or margin % SIZE_MULTIPLE:
        raise ValueError(f"tile {tile} and margin {margin}: the tile must exceed twice the "
                         f"margin, and both (and tile - 2 * margin) be multiples of "
                         f"{SIZE_MULTIPLE}")
    if (width, height, tile) not in sizes_reported:  # once per size: not every video frame
        sizes_reported.add((width, height, tile))
        logger.info("%d x %d runs in tiles of at most %d px (--tile)", width, height, tile)
    output = np.empty_like(image)
    for top in tile_starts(height, core):
        for left in tile_starts(width, core):
            bottom, right = min(top + core, height), min(left + core, width)
            outer_top, outer_left = max(top - margin, 0), max(left - margin, 0)
            outer_bottom, outer_right = min(bottom + margin, height), min(right + margin, width)
            cartoon = cartoonize(image[outer_top:outer_bottom, outer_left:outer_right])
            output[top:bottom, left:right] = cartoon[top - outer_top:bottom - outer_top,
                                                     left - outer_left:right - outer_left]
    return output
