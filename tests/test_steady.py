"""Steady video (`inference.steady`): flips held where the scene only moved, never elsewhere."""

import cv2
import numpy as np
import pytest

from cartoonize_tf.inference.steady import SteadyCartoonizer, SteadyFrames
from cartoonize_tf.utils.quality import psnr

HEIGHT, WIDTH, FRAMES, SHIFT = 96, 128, 10, 2


@pytest.fixture(scope="module")
def scene():
    """A textured scene wider than a frame (blurred noise, strong enough for optical flow)."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (HEIGHT, WIDTH + SHIFT * FRAMES, 3)), (0, 0), 2)
    return cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX).astype(np.float32)


def camera(scene, index, rng, pan=True):
    """Frame `index` of a camera panning `SHIFT` px a frame (or standing still), with noise."""
    left = SHIFT * index if pan else 0
    noisy = scene[:, left:left + WIDTH] + rng.normal(0, 2, (HEIGHT, WIDTH, 3))
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def flickering_cartoon(photo, rng):
    """A stand-in for a per-frame cartoon: flat tones, and 2% of pixels flipped by 80 levels
    on each frame's noise, as a tone or line decision flips."""
    tones = (photo // 64 * 64 + 32).astype(np.int16)
    flipped = rng.random(photo.shape[:2]) < 0.02
    tones[flipped] -= 80
    return np.clip(tones, 0, 255).astype(np.uint8)


def flips(frames, shift):
    """Share of pixels changing by more than 12 levels between frames aligned by `shift`."""
    shares = []
    for current, previous in zip(frames[1:], frames[:-1], strict=True):
        current, previous = current.astype(np.int16), previous.astype(np.int16)
        if shift:
            current, previous = current[:, :-shift], previous[:, shift:]
        shares.append((np.abs(current - previous).max(axis=-1) > 12).mean())
    return float(np.mean(shares))


@pytest.mark.parametrize("flow_side", [640, 80], ids=["flow at full size", "flow scaled down"])
@pytest.mark.parametrize("pan", [True, False], ids=["pan", "still"])
def test_flips_are_held_where_the_scene_only_moved(scene, pan, flow_side):
    rng = np.random.default_rng(1)
    photos = [camera(scene, index, rng, pan) for index in range(FRAMES)]
    cartoons = [flickering_cartoon(photo, rng) for photo in photos]
    steady = SteadyFrames(flow_side=flow_side)
    outputs = [steady(photo, cartoon) for photo, cartoon in zip(photos, cartoons, strict=True)]
    shift = SHIFT if pan else 0
    assert flips(cartoons, shift) > 0.03
    # Follows the pan and holds the flips (a scaled-down flow is a little less exact).
    assert flips(outputs, shift) < flips(cartoons, shift) / (4 if flow_side > WIDTH else 3)
    assert min(psnr(output, cartoon) for output, cartoon in zip(outputs, cartoons, strict=True)) > 20


def test_a_cut_and_a_new_size_start_afresh(scene):
    rng = np.random.default_rng(2)
    steady = SteadyFrames()
    first = camera(scene, 0, rng)
    steady(first, flickering_cartoon(first, rng))
    cut = 255 - first  # another scene
    cartoon = flickering_cartoon(cut, rng)
    assert np.array_equal(steady(cut, cartoon), cartoon)
    smaller = cut[:64, :64]
    assert np.array_equal(steady(smaller, cartoon[:64, :64]), cartoon[:64, :64])


def test_new_content_is_taken_as_it_is(scene):
    """Where the photo changed (an object moved in), the new cartoon is kept: no ghost."""
    rng = np.random.default_rng(3)
    steady = SteadyFrames()
    before = camera(scene, 0, rng, pan=False)
    steady(before, flickering_cartoon(before, rng))
    after = before.copy()
    after[30:60, 40:80] = 255 - after[30:60, 40:80]
    cartoon = flickering_cartoon(after, rng)
    output = steady(after, cartoon)
    assert np.array_equal(output[36:54, 46:74], cartoon[36:54, 46:74])


@pytest.mark.parametrize("shape", [(2, 8, 3), (16, 1280, 3), (32, 1920, 3)])
def test_frames_too_small_for_optical_flow_pass_through(shape):
    """A side under 16 pixels once the flow image is scaled down: no flow, no error."""
    steady = SteadyFrames()
    tiny = np.full(shape, 100, np.uint8)
    for value in (10, 200):
        cartoon = np.full_like(tiny, value)
        assert np.array_equal(steady(tiny, cartoon), cartoon)


def test_a_rate_out_of_range_is_refused():
    with pytest.raises(ValueError, match="rate must be in"):
        SteadyFrames(rate=0)


def test_the_steady_cartoonizer_wraps_any_cartoonizer(scene):
    class Flickering:
        def __init__(self):
            self.rng = np.random.default_rng(4)

        def cartoonize(self, frame):
            self.last = flickering_cartoon(frame, self.rng)
            return self.last

    frames = [camera(scene, index, np.random.default_rng(index), pan=False) for index in range(5)]
    plain, steady = Flickering(), SteadyCartoonizer(Flickering())
    per_frame = [plain.cartoonize(frame) for frame in frames]
    outputs = [steady.cartoonize(frame) for frame in frames]
    assert np.array_equal(outputs[0], per_frame[0])
    assert flips(outputs, 0) < flips(per_frame, 0) / 4
    steady.reset()
    assert steady.frames.previous_output is None
    assert np.array_equal(steady.cartoonize(frames[1]), steady.cartoonizer.last)  # taken as is


def zoom_flow(scale, height=64, width=96):
    """The flow from a frame to the previous one when the camera zooms in by `scale` about the
    centre: each pixel came from nearer the centre."""
    rows, columns = np.indices((height, width), dtype=np.float32)
    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    return np.stack([(columns - centre_x) * (1 / scale - 1),
                     (rows - centre_y) * (1 / scale - 1)], axis=-1)


def test_the_flows_scale_tells_a_zoom_from_a_pan():
    from cartoonize_tf.inference.steady import flow_scale

    pan = np.zeros((64, 96, 2), np.float32)
    pan[..., 0] = 2.0
    assert flow_scale(pan) == pytest.approx(1.0, abs=1e-4)
    assert flow_scale(zoom_flow(1.005)) == pytest.approx(1 / 1.005, abs=1e-4)
    moving_object = zoom_flow(1.0)
    moving_object[20:40, 30:60] = 5.0  # a third of the samples: the fit ignores them
    assert flow_scale(moving_object) == pytest.approx(1.0, abs=1e-4)


def test_while_zooming_the_model_redraws_what_changed_much(scene, monkeypatch):
    """Under a zoom the new cartoon's large changes (lines redrawn at their own width) are
    taken; small ones are still held. Without a zoom both are held."""
    from cartoonize_tf.inference import steady as steady_module

    photo = camera(scene, 0, np.random.default_rng(2), pan=False)
    previous = np.full_like(photo, 100)
    cartoon = previous.copy()
    cartoon[:, :40] = 200  # redrawn: 100 levels away
    cartoon[:, 40:80] = 108  # a small change: held at the rate
    for scale, redrawn in ((1.0, 100 + 10), (1.01, 200)):  # held: within step_limit
        monkeypatch.setattr(steady_module, "flow_scale", lambda flow, scale=scale: scale)
        steady = SteadyFrames()
        steady(photo, previous)
        output = steady(photo, cartoon)
        assert output[10, 10, 0] == redrawn
        assert output[10, 60, 0] == 104  # moved + rate * (new - moved)
