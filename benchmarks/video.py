"""Video flicker, per-frame against steady, on clips whose motion is known exactly; speed.

    python benchmarks/video.py [--model saved_models/cartoonizer.keras] [--frames 24]
        [--size 448x320] [--throughput-frames 24] [--backend auto] [--strip strip.jpg]

Clips are made from the test photos (scikit-image's coffee and chelsea, see
test_code/test_images/SOURCES.md): a `--size` window at 24 frames/s with Gaussian noise of
sigma 2 grey levels, new each frame (a camera's sensor noise), written near-losslessly (H.264
4:4:4, qp 0). No package ships a real clip that can be used here, so every clip is made:

- pan: the window moves 2 px a frame to the right;
- zoom: the window closes in, 0.5% a frame, about its centre;
- still: the window stands still (only the noise changes);
- object: a still window, with a 96 x 96 patch of the cat moving 3 px a frame over it;
- cut: the pan, then a cut to the cat, still (the frame after the cut must be the
  per-frame cartoon: no lag).

Each clip runs through `cartoonize_video` (decode, cartoonize, encode at libx264's crf 18),
per-frame (`--no-steady`) and steady (the default). Each output frame is aligned with the
previous one by the known motion (an affine warp; exact for the pan's whole pixels); over the
overlap (the moving patch and the cut left out):

- mean change: the mean absolute difference (grey levels, all channels);
- flips: the share of pixels that change by more than 12 levels in any channel, a frame
  (the input's own is near 0: anything above it is flicker);
- PSNR to per-frame: the worst frame's PSNR of the steady output to the per-frame output
  (whole frame; for the object clip, the patch's box: where the scene moves), the ghosting
  check.

`--strip` writes a before/after strip of the still clip: four consecutive frames of the crop
where the per-frame cartoon flips most, per-frame above, steady below, with the pixels that
flipped since the previous frame in red.

Speed: at 1280x720, the model's own time per frame (`Cartoonizer.cartoonize`, median of 3
after a warm-up), the steady step's (`SteadyFrames`, median of 5), and `cartoonize_video` end
to end on a `--throughput-frames` clip with sound, as frames per second against the model's.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
RATE = 24
FLIP_LEVELS = 12
PATCH = 96


def translation(dx, dy):
    return np.float64([[1, 0, dx], [0, 1, dy], [0, 0, 1]])


def clip_motion(kind, index, width, height):
    """The affine (3x3) from the photo to frame `index` of clip `kind`."""
    if kind == "pan":
        return translation(-20 - 2 * index, -40)
    if kind == "zoom":
        scale = 1.005 ** index
        centre = translation(width / 2, height / 2)
        return centre @ np.diag([scale, scale, 1]) @ translation(-width / 2 - 40, -height / 2 - 40)
    return translation(-20, -40)


def make_clip(kind, frames, width, height, seed=0):
    """The clip's frames (uint8 RGB); per frame, the affine that makes it from its photo and
    the moving patch's box (x, y) or None; and the index of the frame after a cut, or None."""
    import cv2

    from cartoonize_tf.utils.image_io import read_image

    photos = {name: read_image(ROOT / "test_code" / "test_images" / f"{name}.jpg")
              for name in ("coffee", "chelsea")}
    patch = photos["chelsea"][100:100 + PATCH, 150:150 + PATCH]
    rng = np.random.default_rng(seed)
    pictures, motions, boxes = [], [], []
    for index in range(frames):
        cut = kind == "cut" and index >= frames // 2
        photo = photos["chelsea"] if cut else photos["coffee"]
        motion = clip_motion("still" if cut else "pan" if kind == "cut" else kind, index,
                             width, height)
        frame = cv2.warpAffine(photo, motion[:2], (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT).astype(np.float32)
        box = None
        if kind == "object":
            box = (10 + 3 * index, (height - PATCH) // 2)
            frame[box[1]:box[1] + PATCH, box[0]:box[0] + PATCH] = patch
        noisy = frame + rng.normal(0, 2.0, frame.shape)
        pictures.append(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))
        motions.append(motion)
        boxes.append(box)
    return pictures, motions, boxes, frames // 2 if kind == "cut" else None


def write_lossless(path, frames):
    """H.264 4:4:4 at qp 0, 24 frames/s, no sound."""
    import av

    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=RATE)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt, stream.options = "yuv444p", {"qp": "0"}
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def flicker(frames, motions, boxes, cut_at):
    """(mean change, share of flipping pixels) a frame, after alignment by the known motion."""
    import cv2

    changes, flips = [], []
    for index in range(1, len(frames)):
        if index == cut_at:
            continue
        height, width = frames[index].shape[:2]
        step = (motions[index] @ np.linalg.inv(motions[index - 1]))[:2]
        previous = cv2.warpAffine(frames[index - 1].astype(np.float32), step, (width, height),
                                  flags=cv2.INTER_LINEAR)
        valid = cv2.warpAffine(np.ones((height, width), np.uint8), step, (width, height),
                               flags=cv2.INTER_NEAREST)
        valid = cv2.erode(valid, np.ones((3, 3), np.uint8)).astype(bool)
        for box in (boxes[index], boxes[index - 1]):
            if box is not None:
                valid[max(box[1] - 4, 0):box[1] + PATCH + 4, max(box[0] - 4, 0):box[0] + PATCH + 4] = False
        difference = np.abs(frames[index].astype(np.float32) - previous)[valid]
        changes.append(float(difference.mean()))
        flips.append(float((difference.max(axis=-1) > FLIP_LEVELS).mean()))
    return statistics.mean(changes), statistics.mean(flips)


def worst_psnr(steady, plain, boxes):
    from cartoonize_tf.utils.quality import psnr

    def region(image, box):
        return image if box is None else image[box[1]:box[1] + PATCH, box[0]:box[0] + PATCH]

    return min(psnr(region(a, box), region(b, box))
               for a, b, box in zip(steady, plain, boxes, strict=True))


def write_strip(path, plain, steady, frames=4, crop=160):
    """Rows per-frame and steady: `frames` consecutive crops where the per-frame cartoon flips
    most, the pixels that flipped since the previous frame in red."""
    import cv2

    from cartoonize_tf.utils.image_io import write_image

    def flipped(clip, index):
        return np.abs(clip[index].astype(np.int16) - clip[index - 1]).max(axis=-1) > FLIP_LEVELS

    counts = sum(flipped(plain, index).astype(np.float32) for index in range(1, frames + 1))
    counts = cv2.boxFilter(counts, -1, (crop, crop), anchor=(0, 0), normalize=False,
                           borderType=cv2.BORDER_CONSTANT)
    height, width = counts.shape
    top, left = np.unravel_index(np.argmax(counts[:height - crop + 1, :width - crop + 1]),
                                 (height - crop + 1, width - crop + 1))
    rows = []
    for clip in (plain, steady):
        tiles = []
        for index in range(1, frames + 1):
            tile = clip[index][top:top + crop, left:left + crop].copy()
            tile[flipped(clip, index)[top:top + crop, left:left + crop]] = (255, 0, 0)
            tiles += [tile, np.full((crop, 4, 3), 255, np.uint8)]
        rows += [np.hstack(tiles[:-1]), np.full((4, frames * (crop + 4) - 4, 3), 255, np.uint8)]
    write_image(np.vstack(rows[:-1]), path)


def run_video(cartoonizer, source, destination, steady):
    from cartoonize_tf.inference.steady import SteadyFrames
    from cartoonize_tf.inference.video import cartoonize_video, read_frames

    report = cartoonize_video(cartoonizer.cartoonize, source, destination, progress=False,
                              steady=SteadyFrames() if steady else None)
    return list(read_frames(destination)), report


def measure_clips(cartoonizer, folder, args):
    from cartoonize_tf.inference.video import read_frames

    width, height = map(int, args.size.split("x"))
    print(f"| clip ({args.frames} frames, {width}x{height}) | | mean change | flips > "
          f"{FLIP_LEVELS} levels | PSNR to per-frame (worst frame) |")
    print("| --- | --- | --- | --- | --- |")
    for kind in ("pan", "zoom", "still", "object", "cut"):
        frames, motions, boxes, cut_at = make_clip(kind, args.frames, width, height)
        source = folder / f"{kind}.mp4"
        write_lossless(source, frames)
        decoded = list(read_frames(source))
        plain, _ = run_video(cartoonizer, source, folder / f"{kind}-plain.mp4", steady=False)
        steady, _ = run_video(cartoonizer, source, folder / f"{kind}-steady.mp4", steady=True)
        for label, clip in (("input", decoded), ("per-frame", plain), ("steady", steady)):
            change, flips = flicker(clip, motions, boxes, cut_at)
            fidelity = f"{worst_psnr(steady, plain, boxes):.1f} dB" if label == "steady" else ""
            print(f"| {kind} | {label} | {change:.2f} | {flips:.2%} | {fidelity} |", flush=True)
        if kind == "still" and args.strip:
            write_strip(args.strip, plain, steady)
        if cut_at is not None:
            print(f"| cut | the frame after the cut, steady against per-frame | | | "
                  f"{worst_psnr(steady[cut_at:cut_at + 1], plain[cut_at:cut_at + 1], [None]):.1f}"
                  " dB |")


def measure_speed(cartoonizer, folder, frames):
    import cv2
    from helpers import make_test_video

    from cartoonize_tf.inference.steady import SteadyFrames
    from cartoonize_tf.utils.image_io import read_image

    photo = cv2.resize(read_image(ROOT / "test_code" / "test_images" / "coffee.jpg"), (1400, 900))
    window = [photo[40:760, 20 + 2 * index:1300 + 2 * index] for index in range(max(frames, 6))]
    cartoonizer.cartoonize(window[0])
    model = []
    for frame in window[1:4]:
        started = time.perf_counter()
        cartoon = cartoonizer.cartoonize(frame)
        model.append(time.perf_counter() - started)
    steady, steps = SteadyFrames(), []
    steady(window[0], cartoon)
    for frame in window[1:6]:
        started = time.perf_counter()
        steady(frame, cartoon)
        steps.append(time.perf_counter() - started)
    model_s, steady_s = statistics.median(model), statistics.median(steps)
    print(f"\n1280x720 a frame: model {model_s * 1000:.0f} ms, steady step {steady_s * 1000:.0f} "
          f"ms: steady costs {(model_s + steady_s) / model_s:.2f}x the per-frame time")
    if frames:
        clip = folder / "hd.mp4"
        make_test_video(clip, 1280, 720, RATE, frames / RATE, frames=window[:frames])
        for steady_mode in (False, True):
            _, report = run_video(cartoonizer, clip, folder / f"hd-{steady_mode}.mp4", steady_mode)
            rate = report.frames / report.seconds
            print(f"cartoonize video, {'steady' if steady_mode else 'per-frame'}, end to end: "
                  f"{report.summary()}: {rate * model_s:.2f}x the model's own frames/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "saved_models" / "cartoonizer.keras"))
    parser.add_argument("--size", default="448x320", help="WxH of the flicker clips")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--throughput-frames", type=int, default=24,
                        help="frames of the 1280x720 clip timed end to end; 0 skips it")
    parser.add_argument("--backend", default="auto", help="the Cartoonizer's backend")
    parser.add_argument("--strip", default=None, help="write the still clip's before/after strip")
    args = parser.parse_args()

    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.inference.choice import auto_backend

    cartoonizer = Cartoonizer.load(args.model, size_policy="full", backend=args.backend)
    print(f"backend {args.backend}" + (f" ({auto_backend()[0]})" if args.backend == "auto" else "")
          + f", {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory() as folder:
        measure_clips(cartoonizer, Path(folder), args)
        measure_speed(cartoonizer, Path(folder), args.throughput_frames)


if __name__ == "__main__":
    main()
