"""The photo's colour kept in a cartoon, then lightened: white-box steps of the cel-shading stage.

A generator may drift in colour (a warm cast, a darker picture); the authors' cartoons keep
the photo's hue, calm its colours a little and lighten it. Both steps are built from box means and
a power, so they export at any size.
"""

from keras import ops

from cartoonize_tf.layers.guided_filter import box_mean

# How much wider the window of the kept grey is than that of the kept chroma.
GREY_WINDOWS = 3


def chroma(rgb):
    """Each channel minus the pixel's grey (the channel mean)."""
    return rgb - ops.mean(rgb, axis=-1, keepdims=True)


def photo_colour_offset(cartoon, photo, radius, chroma_factor):
    """What to add to `cartoon` (RGB in [-1, 1]) so that its colour follows `photo`'s at scales
    above its detail: the mean chroma over (2 radius + 1)^2 windows becomes about `chroma_factor`
    times the photo's (below 1 calms the colours), and the mean grey over windows
    `GREY_WINDOWS` times as wide the photo's (wider, so the shading the cartoon flattened
    does not come back).

    The cartoon's detail inside each window (flat regions, their edges) is left as it is; every
    statistic is local, so a picture cut into tiles with enough margin gets the same offset.
    """
    offset = box_mean(chroma_factor * chroma(photo) - chroma(cartoon), radius)
    grey_difference = ops.mean(photo - cartoon, axis=-1, keepdims=True)
    return offset + box_mean(grey_difference, GREY_WINDOWS * radius)


def lighten(rgb, gamma):
    """RGB in [-1, 1] through the curve v^gamma on [0, 1]: below 1 lifts the darks and the
    middle tones, keeps black and white, and calms colours a little."""
    unit = ops.maximum((rgb + 1.0) * 0.5, 1e-6)
    return 2.0 * ops.power(unit, gamma) - 1.0
