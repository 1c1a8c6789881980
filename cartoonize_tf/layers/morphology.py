"""Grey-level morphology, slopes and texture measures of images `[N, H, W, C]`: max pools, box
means, slicing and elementwise maths only (differentiable, and every exporter takes them at any
size)."""

from keras import ops

from cartoonize_tf.layers.guided_filter import box_mean

# How sharply a pixel must be its 3x3 window's maximum to count as on a ridge (`ridge`).
RIDGE_SHARPNESS = 10.0
RIDGE_OFFSET = 3.0
# How sharply a window's share of candidates past its limit makes it crowded (`uncrowded`).
CROWD_SHARPNESS = 20.0
# How sharply a dark feature deeper than `thin_dark`'s depth is thinned (per luminance unit),
# and the radius of the box mean that gives a flat-bottomed feature a peak in its middle.
THIN_SHARPNESS = 0.5
THIN_MIDDLE_RADIUS = 3


def window_max(level, radius):
    """Maximum over each (2r+1)x(2r+1) window: a row pass, then a column pass."""
    size = 2 * radius + 1
    rows = ops.max_pool(level, (1, size), strides=1, padding="same")
    return ops.max_pool(rows, (size, 1), strides=1, padding="same")


def window_min(level, radius):
    """Minimum over each (2r+1)x(2r+1) window."""
    return -window_max(-level, radius)


def extend_border(level, width):
    """`level` with its border rows and columns repeated `width` times on every side
    (concatenation only)."""
    level = ops.concatenate([level[:, :1]] * width + [level] + [level[:, -1:]] * width, axis=1)
    return ops.concatenate([level[:, :, :1]] * width + [level] + [level[:, :, -1:]] * width,
                           axis=2)


def black_hat(level, radius):
    """How far each pixel lies below the closing (a maximum, then a minimum, over
    (2r+1)x(2r+1) windows): positive on dark features narrower than the window (and in
    concave dark corners), 0 on flat areas and straight edges. The image is taken to go on
    as its border pixels do, so a dark strip along the border, or brightness falling towards
    it, is no feature."""
    width = 2 * radius
    extended = extend_border(level, width)
    closing = window_min(window_max(extended, radius), radius)
    return closing[:, width:-width, width:-width] - level


def differences(level):
    """Horizontal and vertical differences of neighbouring pixels, the same shape as `level`
    (the last column and row repeat their neighbours')."""
    dx = level[:, :, 1:, :] - level[:, :, :-1, :]
    dy = level[:, 1:, :, :] - level[:, :-1, :, :]
    return (ops.concatenate([dx, dx[:, :, -1:, :]], axis=2),
            ops.concatenate([dy, dy[:, -1:, :, :]], axis=1))


def slope(level):
    """Gradient magnitude of the 3x3 mean of `level`, per pixel."""
    dx, dy = differences(box_mean(level, 1))
    return ops.sqrt(dx * dx + dy * dy + 1e-6)


def coherence(level, radius):
    """How much the gradients of `level` in each (2r+1)^2 window share one axis (the structure
    tensor's `(l1 - l2) / (l1 + l2)`): 1 along a line or an edge, about 0.5 in noise over 7x7
    windows, near 0 around a round dot; 1 on flat areas too (no gradient to disagree)."""
    dx, dy = differences(level)
    xx, yy, xy = box_mean(dx * dx, radius), box_mean(dy * dy, radius), box_mean(dx * dy, radius)
    return ops.sqrt((xx - yy) * (xx - yy) + 4.0 * xy * xy + 1e-6) / (xx + yy + 1e-3)


def ridge(strength):
    """About 1 (0.95) where `strength` (>= 0) is its 3x3 window's maximum (a line's centre,
    or any plateau, zero included), 0.5 at 0.7 of that maximum, near 0 below half of it: keeps
    a line one to three pixels wide, as its profile is sharp or smooth."""
    return ops.sigmoid(RIDGE_SHARPNESS * (strength - window_max(strength, 1))
                       / (strength + 1e-3) + RIDGE_OFFSET)


def uncrowded(candidates, limit, radius):
    """About 1 where `candidates` (0..1) fill little of each (2r+1)^2 window, 0.5 where they
    fill `limit` of it, near 0 above (busy texture): `sigmoid(20 (limit - share))`, so at most
    `sigmoid(20 limit)` on an empty window."""
    return ops.sigmoid(CROWD_SHARPNESS * (limit - box_mean(candidates, radius)))


def thin_dark(level, radius, depth):
    """Dark features narrower than `2 radius + 1` pixels and deeper than `depth` under their
    closing (`black_hat`), thinned towards their middle: each pixel is lifted towards the
    closing as far as it lies off the middle ridge (`ridge`) of the feature's depth smoothed
    over 7x7 windows. A line along a row or column up to four pixels wide keeps its width
    (smoothed, its depth is a plateau; a diagonal one loses a little at a flank); a band six
    pixels wide keeps its middle two, its outer pixels lifted by about a third of its depth,
    the next by a quarter; flat areas and regions wider than the window are left as they
    are."""
    hat = black_hat(level, radius)
    deep = ops.sigmoid(THIN_SHARPNESS * (hat - depth))
    middle = ridge(box_mean(hat, THIN_MIDDLE_RADIUS))
    return level + deep * (1.0 - middle) * hat
