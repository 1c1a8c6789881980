"""The photo's faint dark lines, inked: a line rule of the cel-shading stage.

Where the authors' cartoons draw a line the photo has no stroke of, the photo mostly has a
faint one: at 87% of such pixels (the shared pairs, 2026-12-06) the photo's grey lies 10 to 30
levels (of 255) under its closing by a 7x7 ellipse, less than a stroke's 30, while a smoothing
generator and flat tones leave under 10 at two thirds of them. This rule finds those thin dark
valleys of the photo (fold creases, a jaw's shadow, hair partings), with its own window (a 9x9
square closing of the 3x3-averaged luminance, at the cartoon's working size), and draws them
as lines where they are line-like and not crowded (texture).
"""

import math

from keras import ops

from cartoonize_tf.layers.guided_filter import box_mean
from cartoonize_tf.layers.morphology import black_hat, coherence, ridge, uncrowded

# How sharply a valley deeper than the rule's depth becomes a line (per luminance unit), and
# how sharply coherence past the rule's floor admits it.
DEPTH_SHARPNESS = 1.0
COHERENCE_SHARPNESS = 10.0
COHERENCE_RADIUS = 3
# The window (radius) in which the share of valley centre lines counts as busy.
BUSY_RADIUS = 11


def photo_line_darkening(photo_level, radius, depth, coherence_floor, busy):
    """Factor in [0, 1] for each pixel, below 1 on the centre lines of the photo's thin dark
    valleys; exactly 1 where the photo is flat.

    The photo's luminance is first averaged over 3x3 windows, so a valley one pixel wide needs
    about three times `depth`, and a valley looks two pixels wider than it is.

    Args:
        photo_level: the photo's luminance, 0..100, `[N, H, W, 1]`.
        radius: valleys narrower than `2 radius + 1` pixels count: the closing's square
            window.
        depth: how far (luminance units) a valley must lie under its closing to be a line:
            half dark there, darker below.
        coherence_floor: how coherent (`morphology.coherence`: about 0.5 in noise, 1 along a
            line) the gradients over the 7x7 window must be: higher keeps only long, straight
            valleys.
        busy: the share of valley centre lines in a 23x23 window at which a region counts as
            texture (wood grain, fur, gravel) and its lines fade (`morphology.uncrowded`); a
            lone line across the window is about 0.05 of it, and is inked at about 0.7 of full
            darkness under the shipped 0.1.
    """
    smooth = box_mean(photo_level, 1)
    hat = black_hat(smooth, radius)
    tail = math.exp(-DEPTH_SHARPNESS * depth)
    floor = tail / (1.0 + tail)  # the sigmoid below at depth 0 (depth > 0: no overflow)
    deep = ops.maximum(ops.sigmoid(DEPTH_SHARPNESS * (hat - depth)) - floor, 0.0) / (1.0 - floor)
    centre_line = deep * ridge(hat)
    line_like = ops.sigmoid(COHERENCE_SHARPNESS
                            * (coherence(smooth, COHERENCE_RADIUS) - coherence_floor))
    return 1.0 - centre_line * uncrowded(centre_line, busy, BUSY_RADIUS) * line_like
