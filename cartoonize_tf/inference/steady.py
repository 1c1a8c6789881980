"""Steady video: each frame's cartoon held to the previous one where the scene only moved.

A per-frame cartoonizer decides each frame's tones and lines afresh, and a decision that flips
on the sensor's noise is a visible flash. `SteadyFrames` follows the scene instead: the
previous steady cartoon is moved onto the new frame along the optical flow (OpenCV's DIS flow
between the grey photos), and where the moved previous photo matches the new photo (the same
surface, only moved) the new cartoon may change the moved old one by at most `step_limit` grey
levels a frame, at `rate` of the way; elsewhere (new content, a moving object's edges, flow
that does not fit) the new cartoon is taken as it is. While the camera zooms (the flow scales
the picture), the model redraws its lines at their own width rather than the zoom's, so there
a pixel whose new cartoon differs from the moved old one by more than `zoom_redraw_levels`
takes the new one. A scene cut (the grey photo changing by more than `cut_threshold` on
average) starts afresh. It is a loop around any cartoonizer,
frame by frame: no model changes, nothing exported.

Measured on known-motion clips (benchmarks/video.py, docs/cartoonizing.md#steady-video).
"""

import cv2
import numpy as np

# Frames whose flow image would have a side shorter than this are taken as they are: too small
# for DIS's 8-pixel patches (a video may be 2 pixels wide, or 1280 x 16).
MIN_FLOW_SIDE = 16


class SteadyFrames:
    """Makes consecutive cartoons steady: `steady = SteadyFrames(); out = steady(photo, cartoon)`
    for each frame in order (uint8 RGB `[H, W, 3]` both); `reset()` before an unrelated frame.

    Args:
        rate: share of the way from the moved previous cartoon to the new one, each frame.
        step_limit: the most a pixel may change in a frame (whole grey levels) where the scene
            only moved; under the 12 levels a viewer sees as a flash.
        photo_tolerance: how far (grey levels, largest channel, 5x5 mean) the moved previous
            photo may be from the new one for a pixel to count as the same surface.
        cut_threshold: mean grey change between photos that counts as a scene cut.
        flow_side: the optical flow runs on the grey photos scaled so that their longer side
            is at most this (it is the costly step; the flow is scaled back up).
        zoom_threshold: the change of scale a frame (a similarity fitted to the flow) past
            which the camera counts as zooming.
        zoom_redraw_levels: while it zooms, a pixel whose new cartoon differs from the moved
            previous one by more than this (grey levels, any channel) takes the new one.
    """

    def __init__(self, rate=0.5, step_limit=10.0, photo_tolerance=8.0, cut_threshold=30.0,
                 flow_side=640, zoom_threshold=0.002, zoom_redraw_levels=64):
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"rate must be in (0, 1], got {rate}")
        self.rate = rate
        self.step_limit = step_limit
        self.photo_tolerance = photo_tolerance
        self.cut_threshold = cut_threshold
        self.flow_side = flow_side
        self.zoom_threshold = zoom_threshold
        self.zoom_redraw_levels = zoom_redraw_levels
        self.flow_finder = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.grid = None  # pixel coordinates, kept for the frame size
        self.reset()

    def reset(self):
        """Forgets the previous frame: the next cartoon is taken as it is."""
        self.previous_grey = self.previous_photo = self.previous_output = None

    def __call__(self, photo, cartoon):
        grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
        output = self.steadied(photo, cartoon, grey) if self.continues(grey) else cartoon
        self.previous_grey, self.previous_photo, self.previous_output = grey, photo, output
        return output

    def continues(self, grey):
        """Whether `grey` continues the previous frame's scene (same size, no cut)."""
        return (min(self.flow_size(grey.shape)) >= MIN_FLOW_SIDE and self.previous_grey is not None
                and self.previous_grey.shape == grey.shape
                and cv2.absdiff(grey, self.previous_grey).mean() <= self.cut_threshold)

    def steadied(self, photo, cartoon, grey):
        """The new cartoon held to the previous output, moved, where the surface is the same.
        All in uint8 with OpenCV's saturating operations: 70 ms at 1280 x 720 on 2 cores."""
        map_x, map_y, scale = self.source_coordinates(grey)
        moved_photo, moved_output = (
            cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for image in (self.previous_photo, self.previous_output))
        mismatch = cv2.blur(cv2.absdiff(photo, moved_photo).max(axis=-1), (5, 5))
        height, width = grey.shape
        same_surface = ((mismatch < self.photo_tolerance) & (map_x >= 0) & (map_x <= width - 1)
                        & (map_y >= 0) & (map_y <= height - 1))
        # moved + rate * (new - moved), kept within step_limit of moved
        limit = np.full_like(moved_output, round(self.step_limit))
        held = cv2.min(cv2.max(cv2.addWeighted(moved_output, 1.0 - self.rate, cartoon, self.rate, 0),
                               cv2.subtract(moved_output, limit)), cv2.add(moved_output, limit))
        if abs(scale - 1.0) > self.zoom_threshold:
            same_surface &= (cv2.absdiff(cartoon, moved_output).max(axis=-1)
                             <= self.zoom_redraw_levels)
        output = cartoon.copy()
        np.copyto(output, held, where=same_surface[..., None])
        return output

    def flow_size(self, shape):
        """(width, height) of the grey images the flow runs on, for frames of `shape`."""
        height, width = shape[:2]
        scale = min(1.0, self.flow_side / max(height, width))
        return max(round(width * scale), 1), max(round(height * scale), 1)

    def source_coordinates(self, grey):
        """For each pixel of `grey`, where it was in the previous frame (x map, y map), and the
        change of scale since then (`flow_scale`)."""
        height, width = grey.shape
        small = self.flow_size(grey.shape)
        current, previous = (
            image if small == (width, height) else
            cv2.resize(image, small, interpolation=cv2.INTER_AREA)
            for image in (grey, self.previous_grey))
        flow = self.flow_finder.calc(current, previous, None)
        scale = flow_scale(flow)
        if small != (width, height):
            flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
            flow[..., 0] *= width / small[0]
            flow[..., 1] *= height / small[1]
        if self.grid is None or self.grid[0].shape != grey.shape:
            self.grid = np.indices((height, width), dtype=np.float32)[::-1]  # columns, rows
        return self.grid[0] + flow[..., 0], self.grid[1] + flow[..., 1], scale


# The flow is sampled every this many pixels (at least MIN_FLOW_SIDE / 2 from the border) to fit
# the similarity whose scale tells a zoom.
SCALE_SAMPLE_STEP = 16


def flow_scale(flow):
    """The scale of the similarity (rotation, scale, shift) that best fits `flow` (least median
    of squares, so a moving object does not sway it): 1 for a pan or a still camera, about
    1 - z for a zoom in by z a frame (the flow points from the new frame to the previous)."""
    height, width = flow.shape[:2]
    margin = MIN_FLOW_SIDE // 2
    rows, columns = np.mgrid[margin:height - margin:SCALE_SAMPLE_STEP,
                             margin:width - margin:SCALE_SAMPLE_STEP]
    if rows.size < 3:
        return 1.0
    here = np.stack([columns.ravel(), rows.ravel()], axis=1).astype(np.float32)
    there = here + flow[rows.ravel(), columns.ravel()]
    fitted, _ = cv2.estimateAffinePartial2D(here, there, method=cv2.LMEDS)
    return 1.0 if fitted is None else float(np.hypot(fitted[0, 0], fitted[1, 0]))


class SteadyCartoonizer:
    """A cartoonizer for frame sequences: `cartoonize(frame)` for each frame in order gives the
    steady cartoons (`SteadyFrames` around `cartoonizer.cartoonize`, its look and strength
    included); `reset()` before another sequence.

    Example:
        >>> from cartoonize_tf.inference.cartoonizer import Cartoonizer
        >>> frames = [np.full((48, 64, 3), level, np.uint8) for level in (100, 110, 120)]
        >>> steady = SteadyCartoonizer(Cartoonizer.load("saved_models/cartoonizer.keras"))
        >>> cartoons = [steady.cartoonize(frame) for frame in frames]  # uint8 RGB, in order
        >>> len(cartoons), cartoons[0].shape
        (3, (48, 64, 3))
    """

    def __init__(self, cartoonizer, **steady_options):
        self.cartoonizer = cartoonizer
        self.frames = SteadyFrames(**steady_options)

    def reset(self):
        self.frames.reset()

    def cartoonize(self, frame: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> its steady cartoon, given the frames before it."""
        return self.frames(frame, self.cartoonizer.cartoonize(frame))
