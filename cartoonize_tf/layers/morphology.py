"""Grey-level morphology and slopes of images `[N, H, W, C]`, from max pools and slicing only
(differentiable, and every exporter takes them at any size)."""

from keras import ops

from cartoonize_tf.layers.guided_filter import box_mean

# How sharply a pixel must be its 3x3 window's maximum to count as on a ridge (`ridge`).
RIDGE_SHARPNESS = 10.0
RIDGE_OFFSET = 3.0


def window_max(level, radius):
    """Maximum over each (2r+1)x(2r+1) window: a row pass, then a column pass."""
    size = 2 * radius + 1
    rows = ops.max_pool(level, (1, size), strides=1, padding="same")
    return ops.max_pool(rows, (size, 1), strides=1, padding="same")


def window_min(level, radius):
    """Minimum over each (2r+1)x(2r+1) window."""
    return -window_max(-level, radius)


def black_hat(level, radius):
    """How far each pixel lies below the closing (a maximum, then a minimum, over
    (2r+1)x(2r+1) windows): positive on dark features narrower than the window, 0 elsewhere."""
    return window_min(window_max(level, radius), radius) - level


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
    """How much the gradients of `level` in each (2r+1)^2 window share one axis: near 1 along
    a line or an edge, near 0 in speckle (the structure tensor's `(l1 - l2) / (l1 + l2)`)."""
    dx, dy = differences(level)
    xx, yy, xy = box_mean(dx * dx, radius), box_mean(dy * dy, radius), box_mean(dx * dy, radius)
    return ops.sqrt((xx - yy) ** 2 + 4.0 * xy * xy + 1e-6) / (xx + yy + 1e-3)


def ridge(strength):
    """About 1 where `strength` (>= 0) is near its 3x3 window's maximum (a line's centre),
    falling to 0 away from it: keeps lines one or two pixels wide."""
    return ops.sigmoid(RIDGE_SHARPNESS * (strength - window_max(strength, 1))
                       / (strength + 1e-3) + RIDGE_OFFSET)
