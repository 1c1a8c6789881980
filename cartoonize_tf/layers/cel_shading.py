"""Cel shading as a white-box Keras layer: flat tones and dark lines, differentiable."""

import keras
from keras import ops

from cartoonize_tf.contract.look import CONTROLS
from cartoonize_tf.layers.guided_filter import box_mean, guided_filter
from cartoonize_tf.layers.morphology import ridge, slope, thin_dark, uncrowded, window_max, window_min
from cartoonize_tf.layers.photo_colour import lighten, photo_colour_offset
from cartoonize_tf.layers.photo_lines import photo_line_darkening
from cartoonize_tf.whitebox.look import FLAT_RADIUS

# The widest outline a call's `line_width` setting may ask for: the look control's top.
MAX_LINE_WIDTH = int(CONTROLS["line_width"].high)
# The settings a call may give as scalar tensors (`CelShading.call`).
CALL_SETTINGS = ("levels", "flat_eps", "line_strength", "line_width", "saturation")

# The line rules a stage can draw by (`line_rule`).
LINE_RULES = ("outline", "contour", "ink")
# The "contour" rule's fixed shape: how sharply a slope counts as steep (per luminance unit),
# and the window in which the share of steep pixels counts as busy.
CONTOUR_SHARPNESS = 2.0
CONTOUR_BUSY_RADIUS = 7

# Rec. 601 luma weights, for RGB images.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
# Luminance is handled on a 0..100 scale (like CIE L*); images are in [-1, 1].
LUMINANCE_SCALE = 50.0


def luminance(rgb):
    """Luma of an RGB image in [-1, 1], on a 0..100 scale, shape [N, H, W, 1]."""
    weights = ops.convert_to_tensor(LUMA_WEIGHTS, dtype=rgb.dtype)
    return (ops.sum(rgb * weights, axis=-1, keepdims=True) + 1.0) * LUMINANCE_SCALE


def soft_quantize(level, step, sharpness):
    """A smooth staircase: flat at the middle of each `step`-wide band, a tanh step at its edges.

    `round` picks the nearest band edge (no gradient flows through it); the
    tanh saturates to half a step on either side, so the curve is continuous.
    """
    edge = ops.round(level / step) * step
    return edge + 0.5 * step * ops.tanh(sharpness * (level - edge))


def per_call(setting):
    """Whether `setting` is a call's tensor (decided per call) rather than a Python number
    (decided while the graph is built)."""
    return hasattr(setting, "dtype")


def unless(skip, step, unchanged):
    """`unchanged` where `skip` holds, else `step()`. A Python bool decides while the graph is
    built (a skipped step costs nothing); a boolean tensor decides per call (both computed)."""
    if not per_call(skip):
        return unchanged if skip else step()
    return ops.where(skip, unchanged, step())


def plus_min(level):
    """Minimum over each pixel and its four neighbours (a plus-shaped window)."""
    rows = -ops.max_pool(-level, (1, 3), strides=1, padding="same")
    return ops.minimum(rows, -ops.max_pool(-level, (3, 1), strides=1, padding="same"))


def widen_dark(darkening, width):
    """Dark lines widened by `width - 1` pixels on each side, with rounded ends: minima over
    plus-shaped and square 3x3 windows in turn (together an octagon, not a blocky square). A
    tensor `width` (1..MAX_LINE_WIDTH) selects among the steps, computed up to the widest."""
    fixed = not per_call(width)
    widened = darkened = darkening
    for step in range(int(width) - 1 if fixed else MAX_LINE_WIDTH - 1):
        darkened = plus_min(darkened) if step % 2 == 0 else window_min(darkened, 1)
        if not fixed:
            widened = ops.where(width == step + 2, darkened, widened)
    return darkened if fixed else widened


def sharpen_edges(level, steepness, radius):
    """Pulls each pixel towards the maximum or the minimum of its (2r+1)^2 window, by the
    sign of its difference from the window's mean (a soft shock filter): ramps across edges
    become steps. Values stay inside the window's range, so no halo is drawn, and flat
    areas (range ~0) are left alone."""
    high, low = window_max(level, radius), window_min(level, radius)
    return (0.5 * (high + low)
            + 0.5 * (high - low) * ops.tanh(steepness * (level - box_mean(level, radius))))


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class CelShading(keras.layers.Layer):
    """Cel shading of a cartoon in [-1, 1]: a few flat tones and dark lines.

    White-box steps, all differentiable so a generator can be trained through
    them, built from box means, max pools, slicing and elementwise maths only (no
    image-sized constant: exports to SavedModel, TFLite and ONNX at any size):

    - **Flat colour.** The chroma (each channel minus the channel mean) goes
      through a guided filter of radius `chroma_radius` with the grey image as
      guide: colour noise inside regions goes, colour edges stay.
    - **Flat tones.** With `flat_radius`, luminance (0..100) is first flattened by
      a self-guided filter of that radius: areas whose contrast is under about
      `sqrt(flat_eps)` luminance units (skin shading, skies) become one flat tone,
      stronger edges stay; `edge_sharpening` then turns the ramps left across
      edges into steps (`sharpen_edges`, over windows of `edge_radius`). With
      `thin_radius`, dark bands of the tones narrower than `2 thin_radius + 1`
      pixels are then thinned towards their middle (`morphology.thin_dark`): more a
      line, less a mass. Colour is kept by shifting R, G and B together.
    - **Bands.** With `levels`, luminance goes through a soft staircase of that
      many bands (`soft_quantize`), only where the slope exceeds `gentle_slope`
      (luminance units per pixel), faded in over the same width again, so skies
      and blurred backgrounds keep their gradients. 0 draws no bands.
    - **Lines.** By default (`line_rule="outline"`) a difference of Gaussians,
      `d = G(1.15) - surround_ratio * G(1.63)` (cascaded box means), darkens the dark
      side of edges by
      `1 + tanh(line_sharpness * min(d + line_threshold + texture_weight * t, 0))`,
      where `t` is the local mean of |G(1.15) - G(1.63)|: a lone long edge draws a
      line, busy texture (fur, food, foliage) raises its own threshold and stays
      unlined. With `line_rule="contour"` lines go instead along the boundaries of the
      flat tones (the ridges of their slope), so a soft edge
      the flattening and sharpening turned into a step (a jaw against a neck) is drawn
      too; windows crowded with steep pixels get none. With `line_rule="ink"` lines go
      along the photo's own thin dark valleys, too faint for a stroke (a fold, a jaw's
      shadow), where they are line-like and not crowded (`photo_lines`).
    - **The photo's colour.** With `photo_radius`, the call's `photo` sets the colour at
      scales above that window: the local mean chroma becomes `photo_chroma` times the
      photo's, and the mean grey over windows three times as wide the photo's, lines
      included (`photo_colour_offset`): the generator's own cast and darkening go, its flat
      regions and lines stay.
    - **Lightening.** With `lift` below 1, RGB goes through `v^lift` on [0, 1] (`lighten`):
      darks and middle tones lighter, black and white kept.

    Args:
        levels: number of luminance bands over 0..100 (0: no bands).
        step_sharpness: steepness of each band edge (per luminance unit).
        gentle_slope: slope under which tones are left as they are.
        line_threshold: how negative the difference of Gaussians must be for a line.
        line_sharpness: how quickly a line darkens to black past the threshold.
        surround_ratio: weight of the wider Gaussian (below 1 leaves flat areas unlined).
        texture_weight: how strongly local edge activity raises the line threshold.
        chroma_radius: radius of the chroma guided filter (0: colours untouched).
        chroma_eps: its regularisation (larger flattens colour across fainter edges).
        flat_radius: radius of the luminance flattening (0: none).
        flat_eps: its regularisation, in squared luminance units (larger flattens
            across stronger edges; 0: no flattening).
        edge_sharpening: steepness of `sharpen_edges` on the tones (0: none).
        edge_radius: its window radius: ramps up to about twice as wide become steps.
        thin_radius: dark features of the tones narrower than `2 thin_radius + 1` pixels are
            thinned towards their middle (0: none).
        thin_depth: how far under their closing (luminance units) they must lie to be
            thinned.
        line_strength: how dark the lines are (0: none, 1: as the line rule draws them,
            more: darker, down to black).
        line_width: line width: each line widened by `line_width - 1` pixels on either
            side, with rounded ends (`widen_dark`).
        saturation: colour saturation of the result (0: grey, 1: unchanged).
        photo_radius: radius of the windows over which the photo's colour is kept (0: the
            photo's colour is not used; a call then needs no `photo` unless the line rule is
            "ink").
        photo_chroma: the kept colour's saturation, as a share of the photo's.
        lift: the lightening curve's exponent (1: none; below 1 lightens).
        line_rule: where lines go: "outline" (the difference of Gaussians above), "contour"
            (the boundaries of the flat tones, `contour_darkening`) or "ink" (the photo's
            faint dark lines, `photo_lines`).
        contour_step: how steep (luminance units per pixel) a boundary must be for a
            contour line.
        contour_busy: the share of steep pixels in a 15x15 window above which a region is
            busy texture and gets no contour lines (1: lines everywhere); lines fade as the
            share nears it.
        ink_radius: the "ink" rule's valleys: narrower than `2 ink_radius + 1` pixels
            (`photo_lines.photo_line_darkening`, which details the four).
        ink_depth: how far under its closing (luminance units) a valley of the photo must
            lie to be inked.
        ink_coherence: how coherent (0..1) the photo's gradients around a valley must be.
        ink_busy: the share of valley centre lines in a 23x23 window at which inking fades
            (texture).
        **kwargs: standard `keras.layers.Layer` arguments.

    Each line rule's settings go unused under the others: the outline rule's
    (`line_threshold`, `line_sharpness`, `surround_ratio`, `texture_weight`), `contour_*`
    and `ink_*`.

    A call may override `CALL_SETTINGS` with scalar tensors (`settings`), so one graph
    draws any look: the steps it would skip are then computed and selected per call, the
    flattening with radius `flat_radius` (or `whitebox.look.FLAT_RADIUS` when that is 0).

    Example:
        >>> from skimage import data, transform
        >>> filtered = transform.resize(data.astronaut(), (64, 64))[None] * 2 - 1  # RGB in [-1, 1]
        >>> stage = CelShading()
        >>> shaded = stage(filtered)  # RGB in [-1, 1]: flat tones, dark outlines
        >>> bolder = stage(filtered, settings={"line_strength": ops.convert_to_tensor(2.0)})
        >>> bool(ops.mean(bolder) < ops.mean(shaded))  # darker outlines
        True
    """

    def __init__(self, levels=8, step_sharpness=0.9, gentle_slope=0.2, line_threshold=0.5,
                 line_sharpness=4.0, surround_ratio=0.98, texture_weight=0.5, chroma_radius=3,
                 chroma_eps=1e-2, flat_radius=0, flat_eps=16.0, edge_sharpening=0.0,
                 edge_radius=1, line_strength=1.0, line_width=1, saturation=1.0, photo_radius=0,
                 photo_chroma=1.0, lift=1.0, line_rule="outline", contour_step=6.0,
                 contour_busy=0.2, ink_radius=4, ink_depth=5.5, ink_coherence=0.55, ink_busy=0.1,
                 thin_radius=0, thin_depth=12.0, **kwargs):
        super().__init__(**kwargs)
        if int(levels) != levels or levels < 0 or levels == 1:
            raise ValueError(f"levels must be 0 (no bands) or an integer of at least 2, "
                             f"got {levels!r}")
        for name, value in (("step_sharpness", step_sharpness), ("gentle_slope", gentle_slope),
                            ("line_sharpness", line_sharpness)):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if texture_weight < 0:
            raise ValueError(f"texture_weight must not be negative, got {texture_weight!r}")
        if int(chroma_radius) != chroma_radius or chroma_radius < 0:
            raise ValueError(f"chroma_radius must be a whole number >= 0, got {chroma_radius!r}")
        for name, value in (("flat_radius", flat_radius), ("photo_radius", photo_radius),
                            ("thin_radius", thin_radius)):
            if int(value) != value or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        for name, value in (("edge_radius", edge_radius), ("line_width", line_width),
                            ("ink_radius", ink_radius)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if line_rule not in LINE_RULES:
            raise ValueError(f"line_rule must be one of {', '.join(LINE_RULES)}, got "
                             f"{line_rule!r}")
        for name, value in (("contour_busy", contour_busy), ("ink_busy", ink_busy)):
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be a share in (0, 1], got {value!r}")
        if not 0 <= ink_coherence < 1:
            raise ValueError(f"ink_coherence must be in [0, 1), got {ink_coherence!r}")
        for name, value in (("chroma_eps", chroma_eps), ("lift", lift),
                            ("contour_step", contour_step), ("ink_depth", ink_depth),
                            ("thin_depth", thin_depth)):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        for name, value in (("flat_eps", flat_eps), ("edge_sharpening", edge_sharpening),
                            ("line_strength", line_strength), ("saturation", saturation),
                            ("photo_chroma", photo_chroma)):
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value!r}")
        self.levels = int(levels)
        self.step_sharpness = float(step_sharpness)
        self.gentle_slope = float(gentle_slope)
        self.line_threshold = float(line_threshold)
        self.line_sharpness = float(line_sharpness)
        self.surround_ratio = float(surround_ratio)
        self.texture_weight = float(texture_weight)
        self.chroma_radius = int(chroma_radius)
        self.chroma_eps = float(chroma_eps)
        self.flat_radius = int(flat_radius)
        self.flat_eps = float(flat_eps)
        self.edge_sharpening = float(edge_sharpening)
        self.edge_radius = int(edge_radius)
        self.line_strength = float(line_strength)
        self.line_width = int(line_width)
        self.saturation = float(saturation)
        self.photo_radius = int(photo_radius)
        self.photo_chroma = float(photo_chroma)
        self.lift = float(lift)
        self.line_rule = line_rule
        self.contour_step = float(contour_step)
        self.contour_busy = float(contour_busy)
        self.ink_radius = int(ink_radius)
        self.ink_depth = float(ink_depth)
        self.ink_coherence = float(ink_coherence)
        self.ink_busy = float(ink_busy)
        self.thin_radius = int(thin_radius)
        self.thin_depth = float(thin_depth)

    def tone_weight(self, level):
        """0 on gentle gradients, 1 where the slope is at least twice `gentle_slope`."""
        return ops.clip(slope(level) / self.gentle_slope - 1.0, 0.0, 1.0)

    def outline_darkening(self, level):
        """Factor in [0, 1] for each pixel: below 1 on the dark side of long edges of the
        luminance `level` (the "outline" rule)."""
        narrow = box_mean(box_mean(level, 1), 1)
        wide = box_mean(box_mean(level, 2), 1)
        difference = narrow - self.surround_ratio * wide
        texture = box_mean(ops.abs(narrow - wide), 3)
        depth = difference + self.line_threshold + self.texture_weight * texture
        return 1.0 + ops.tanh(self.line_sharpness * ops.minimum(depth, 0.0))

    def contour_darkening(self, toned):
        """Factor in [0, 1] for each pixel: below 1 along the boundaries of the flat tones
        `toned` (the "contour" rule). A boundary is a ridge (the 3x3 maximum) of their slope,
        steeper than `contour_step` (luminance units a pixel). Its line is darkest where the steep
        pixels are few in a 15x15 window: a narrow step alone (a soft edge the tones made a
        step: a jaw against a neck) gets a mid-dark line, a wide one (a long ramp) a faint
        one, and where more than `contour_busy` of the window is steep (fur, foliage, food),
        none."""
        steepness = slope(toned)
        steep = ops.sigmoid(CONTOUR_SHARPNESS * (steepness - self.contour_step))
        return 1.0 - steep * uncrowded(steep, self.contour_busy, CONTOUR_BUSY_RADIUS) * ridge(steepness)

    @staticmethod
    def line_darkening(darkening, strength, width):
        """A line rule's factor made darker with `strength` (1: as the rule draws it) and
        widened to lines `width` pixels wide."""
        darkening = unless(strength == 1.0, lambda: ops.maximum(
            1.0 - strength * (1.0 - darkening), 0.0), darkening)
        return widen_dark(darkening, width)

    @staticmethod
    def saturate(rgb, saturation):
        """`rgb` with its chroma scaled by `saturation` around the grey."""
        def scaled():
            grey = ops.mean(rgb, axis=-1, keepdims=True)
            return grey + saturation * (rgb - grey)
        return unless(saturation == 1.0, scaled, rgb)

    def flatten_colour(self, rgb):
        """The image with its chroma smoothed inside regions (edge-aware, grey-guided)."""
        if self.chroma_radius == 0:
            return rgb
        grey = ops.mean(rgb, axis=-1, keepdims=True)
        return grey + guided_filter(grey, rgb - grey, self.chroma_radius, self.chroma_eps)

    def tones(self, level, levels, flat_eps):
        """Luminance made cartoon tones: flattened (with `flat_eps`), banded in `levels` bands,
        sharpened, its dark bands thinned (each as configured; 0 skips a step)."""
        radius = (self.flat_radius or FLAT_RADIUS) if per_call(flat_eps) else self.flat_radius
        toned = unless(radius == 0 or flat_eps == 0,
                       lambda: guided_filter(level, level, radius, flat_eps), level)
        step = 100.0 / (ops.maximum(levels, 1) if per_call(levels) else max(levels, 1))
        toned = unless(levels == 0, lambda: toned + self.tone_weight(toned) * (
            soft_quantize(toned, step, self.step_sharpness) - toned), toned)
        if self.edge_sharpening:
            toned = sharpen_edges(toned, self.edge_sharpening, self.edge_radius)
        if self.thin_radius:
            toned = thin_dark(toned, self.thin_radius, self.thin_depth)
        return toned

    def call(self, inputs, settings=None, photo=None):
        """`settings`: scalar tensors for some of `CALL_SETTINGS`, this call's in place of the
        layer's (flat_eps 0: no flattening; line_width at most MAX_LINE_WIDTH). `photo`: the
        photo in [-1, 1] the cartoon was made from, needed when `photo_radius` is set or the
        line rule is "ink"."""
        unknown = set(settings or {}) - set(CALL_SETTINGS)
        if unknown:
            raise ValueError(f"settings a call can give: {', '.join(CALL_SETTINGS)}; got "
                             f"{', '.join(sorted(unknown))}")
        if (self.photo_radius or self.line_rule == "ink") and photo is None:
            raise ValueError("this stage keeps the photo's colour or inks its lines "
                             f"(photo_radius {self.photo_radius}, line_rule "
                             f"{self.line_rule!r}): pass the photo as `photo=`")
        if photo is not None:
            photo = ops.cast(photo, inputs.dtype)
        value = {name: getattr(self, name) for name in CALL_SETTINGS}
        value.update({name: ops.cast(setting, "float32")
                      for name, setting in (settings or {}).items()})
        inputs = self.flatten_colour(inputs)
        level = luminance(inputs)
        toned = self.tones(level, value["levels"], value["flat_eps"])
        shaded = inputs + (toned - level) / LUMINANCE_SCALE
        # The shaded picture's luminance is `toned`; taken from it, OpenVINO runs the whole
        # graph about 170 ms faster at 720p than with `toned` itself (measured 2026-12-06).
        if self.line_rule == "ink":
            rule = photo_line_darkening(luminance(photo), self.ink_radius, self.ink_depth,
                                        self.ink_coherence, self.ink_busy)
        elif self.line_rule == "contour":
            rule = self.contour_darkening(luminance(shaded))
        else:
            rule = self.outline_darkening(level)
        lined = (shaded + 1.0) * self.line_darkening(rule, value["line_strength"],
                                                     value["line_width"]) - 1.0
        if self.photo_radius:
            lined = lined + photo_colour_offset(lined, photo, self.photo_radius,
                                                self.photo_chroma)
        coloured = self.saturate(lined, value["saturation"])
        return lighten(coloured, self.lift) if self.lift != 1.0 else coloured

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"levels": self.levels, "step_sharpness": self.step_sharpness,
                       "gentle_slope": self.gentle_slope, "line_threshold": self.line_threshold,
                       "line_sharpness": self.line_sharpness,
                       "surround_ratio": self.surround_ratio,
                       "texture_weight": self.texture_weight,
                       "chroma_radius": self.chroma_radius, "chroma_eps": self.chroma_eps,
                       "flat_radius": self.flat_radius, "flat_eps": self.flat_eps,
                       "edge_sharpening": self.edge_sharpening,
                       "edge_radius": self.edge_radius, "line_strength": self.line_strength,
                       "line_width": self.line_width, "saturation": self.saturation,
                       "photo_radius": self.photo_radius, "photo_chroma": self.photo_chroma,
                       "lift": self.lift, "line_rule": self.line_rule,
                       "contour_step": self.contour_step, "contour_busy": self.contour_busy,
                       "ink_radius": self.ink_radius, "ink_depth": self.ink_depth,
                       "ink_coherence": self.ink_coherence, "ink_busy": self.ink_busy,
                       "thin_radius": self.thin_radius, "thin_depth": self.thin_depth})
        return config
