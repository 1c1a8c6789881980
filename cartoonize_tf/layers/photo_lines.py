"""The photo's faint dark lines, inked: a line rule of the cel-shading stage.

Where the authors' cartoons draw a line the photo has none of, the photo mostly has a faint
one: at such pixels the photo's grey lies 10 to 30 levels under its 7x7 closing (a black-hat
under the stroke depth), while a smoothing generator and flat tones leave almost nothing (under
10 levels for two thirds of them; measured on the shared pairs, 2026-12-06). This rule finds
those thin dark valleys of the photo (fold creases, a jaw's shadow, hair partings) and draws
them as lines, where they are line-like and not crowded (texture).
"""

from keras import ops

from cartoonize_tf.layers.guided_filter import box_mean
from cartoonize_tf.layers.morphology import black_hat, coherence, ridge

# How sharply a valley deeper than the rule's depth becomes a line (per luminance unit), and
# how sharply coherence past the rule's floor admits it.
DEPTH_SHARPNESS = 1.0
COHERENCE_SHARPNESS = 10.0
COHERENCE_RADIUS = 3
# The window (radius) in which the share of valley centre lines counts as busy, and how sharply.
BUSY_RADIUS = 11
BUSY_SHARPNESS = 20.0


def photo_line_darkening(photo_level, radius, depth, coherence_floor, busy):
    """Factor in [0, 1] for each pixel, below 1 on the photo's thin dark valleys.

    Args:
        photo_level: the photo's luminance, 0..100, `[N, H, W, 1]`.
        radius: valleys narrower than `2 radius + 1` pixels count (the black-hat's window).
        depth: how far (luminance units) a valley must lie under its closing to be a line.
        coherence_floor: the gradients' coherence (`morphology.coherence`, 0..1) a line's
            neighbourhood needs: higher keeps only long, straight valleys.
        busy: the share of valley centre lines in a 23x23 window above which it is texture
            (wood grain, fur, gravel) and gets no line; a lone line across the window is
            about 0.05 of it.
    """
    smooth = box_mean(photo_level, 1)
    hat = black_hat(smooth, radius)
    centre_line = ops.sigmoid(DEPTH_SHARPNESS * (hat - depth)) * ridge(hat)
    calm = ops.sigmoid(BUSY_SHARPNESS * (busy - box_mean(centre_line, BUSY_RADIUS)))
    line_like = ops.sigmoid(COHERENCE_SHARPNESS
                            * (coherence(smooth, COHERENCE_RADIUS) - coherence_floor))
    return 1.0 - centre_line * calm * line_like
