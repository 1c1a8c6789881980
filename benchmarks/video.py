"""Video: flicker of the cartoon against the source's, with and without smoothing; throughput.

    python benchmarks/video.py [--model saved_models/cartoonizer.keras] [--size 640x360]
        [--frames 48] [--throughput-frames 6]

The clip is made from a real photo (scikit-image's astronaut): a slow pan and zoom at 24
frames/s with light sensor-like noise (Gaussian, sigma 2 grey levels, new each frame), encoded
with libx264 and a sine tone. Flicker is the mean absolute difference of consecutive frames
(`inference.video.mean_consecutive_difference`), of the decoded source frames and of their
cartoons, plain and through `TemporalSmoother`; for the smoothed cartoons the PSNR against
the plain ones says how much they moved away. Throughput: `cartoonize_video` end to end
(decode, cartoonize, encode, sound) on a 1280x720 clip, frames per second.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def pan_zoom_clip(path, width, height, frames, rate=24, seed=0, still=False):
    """Writes the test clip; a slow pan and zoom over the astronaut (or, `still`, no motion at
    all: only the noise changes), with noise and a tone."""
    import cv2
    from helpers import make_test_video
    from skimage import data

    photo = data.astronaut()  # 512 x 512
    rng = np.random.default_rng(seed)
    pictures = []
    for index in range(frames):
        t = 0.0 if still else index / max(frames - 1, 1)
        zoom = 1.0 + 0.15 * t  # 15 % closer over the clip
        crop_w = 512 / zoom
        crop_h = crop_w * height / width
        left, top = (512 - crop_w) * (0.2 + 0.3 * t), (512 - crop_h) * 0.4
        matrix = np.float32([[width / crop_w, 0, -left * width / crop_w],
                             [0, height / crop_h, -top * height / crop_h]])
        frame = cv2.warpAffine(photo, matrix, (width, height), flags=cv2.INTER_AREA)
        noisy = frame + rng.normal(0, 2.0, frame.shape)
        pictures.append(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))
    make_test_video(path, width, height, rate, frames / rate, frames=pictures)


def psnr(first, second):
    """PSNR over two lists of frames taken together."""
    mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(first, second)])
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "saved_models" / "cartoonizer.keras"))
    parser.add_argument("--size", default="640x360", help="WxH of the flicker clip")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--throughput-frames", type=int, default=6,
                        help="frames of the 1280x720 clip timed end to end; 0 skips it")
    parser.add_argument("--smooth", type=float, nargs="*", default=[0.3, 0.5, 0.7])
    parser.add_argument("--backend", default="auto", help="the Cartoonizer's backend")
    args = parser.parse_args()

    from cartoonize_tf.inference.cartoonizer import Cartoonizer
    from cartoonize_tf.inference.video import cartoonize_video

    cartoonizer = Cartoonizer.load(args.model, size_policy="full", backend=args.backend)
    width, height = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        measure_flicker(cartoonizer, Path(folder), width, height, args.frames, False, args.smooth)
        measure_flicker(cartoonizer, Path(folder), width, height, args.frames // 2, True,
                        args.smooth)
        if args.throughput_frames:
            hd = Path(folder) / "hd.mp4"
            pan_zoom_clip(hd, 1280, 720, args.throughput_frames)
            report = cartoonize_video(cartoonizer.cartoonize, hd, Path(folder) / "out.mp4",
                                      progress=False)
            print(f"throughput 1280x720, end to end: {report.summary()}")


def measure_flicker(cartoonizer, folder, width, height, frames, still, amounts):
    from cartoonize_tf.inference.video import (
        TemporalSmoother,
        mean_consecutive_difference,
        read_frames,
    )

    clip = folder / "clip.mp4"
    pan_zoom_clip(clip, width, height, frames, still=still)
    photos = list(read_frames(clip))
    started = time.perf_counter()
    cartoons = [cartoonizer.cartoonize(photo) for photo in photos]
    seconds = time.perf_counter() - started
    source = mean_consecutive_difference(photos)
    plain = mean_consecutive_difference(cartoons)
    print(f"clip: {len(photos)} frames at {width}x{height}, {'still' if still else 'pan and zoom'}"
          f", noise sigma 2 ({len(photos) / seconds:.2f} frames/s cartoonized)")
    print(f"  flicker (mean |frame t - frame t-1|, grey levels): source {source:.3f}, "
          f"cartoon {plain:.3f}, ratio {plain / source:.3f}")
    for amount in amounts:
        smoother = TemporalSmoother(amount)
        smoothed = [smoother(photo, cartoon) for photo, cartoon in zip(photos, cartoons)]
        value = mean_consecutive_difference(smoothed)
        print(f"  --smooth {amount}: cartoon {value:.3f}, ratio {value / source:.3f}, "
              f"PSNR against the plain cartoons {psnr(smoothed, cartoons):.1f} dB")


if __name__ == "__main__":
    main()
