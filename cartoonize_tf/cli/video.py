"""The `video` command: cartoonize a video file, steady, its sound copied unchanged."""

import argparse
import logging
from pathlib import Path

from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter
from cartoonize_tf.cli.model_option import add_model_option, load_cartoonizer
from cartoonize_tf.cli.style_options import (
    add_backend_option,
    add_cel_shading_option,
    add_look_options,
    add_strength_option,
    look_from_args,
)
from cartoonize_tf.inference.options import (
    DEFAULT_TILE,
    VIDEO_CODECS,
    VIDEO_INPUT_SUFFIXES,
    VIDEO_MAX_PIXELS,
    VIDEO_OUTPUT_FORMATS,
)
from cartoonize_tf.utils.extras import require_extra

logger = logging.getLogger(__name__)


def add_video_parser(subparsers, root):
    parser = subparsers.add_parser(
        "video", help="cartoonize a video (sound copied)",
        description="Cartoonize a video (" + ", ".join(s[1:].upper() for s in VIDEO_INPUT_SUFFIXES)
                    + " and whatever else FFmpeg reads) at the source's frame rate and size, "
                    "steady (see --no-steady); the first audio stream is copied unchanged. The output's "
                    "suffix picks its container (" + ", ".join(VIDEO_OUTPUT_FORMATS) + "); video "
                    "is H.264, or MPEG-4 where PyAV's FFmpeg lacks libx264. The file is written "
                    "under a temporary name and renamed when complete. Exit code 0 when "
                    "written, 2 when it could not run.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("input", help="the video to cartoonize")
    parser.add_argument("output", help="the cartoon video (.mp4, .mov or .mkv), or a folder: "
                                       "then INPUT's name with _cartoon.mp4")
    add_model_option(parser, root, "a .keras generator, the authors' TF1 checkpoint, or a "
                                   ".tflite or .onnx file from export-tflite / export-onnx")
    add_strength_option(parser, source="the video")
    add_cel_shading_option(parser)
    add_look_options(parser)
    parser.add_argument("--max-side", type=int, default=None,
                        help="scale frames down so that their longer side is at most this many "
                             "pixels before cartoonizing (the output has that size); default: "
                             "the source's size")
    parser.add_argument("--max-pixels", type=int, default=VIDEO_MAX_PIXELS,
                        help="refuse source frames of more pixels (width * height) than this, "
                             "read from the stream's header before any frame is decoded")
    parser.add_argument("--no-steady", action="store_true",
                        help="cartoonize each frame on its own; by default the video is steady: "
                             "each cartoon is held to the previous one, moved along the optical "
                             "flow, where the scene only moved, so tones and lines do not flicker "
                             "on the camera's noise (a scene cut starts afresh)")
    parser.add_argument("--smooth", type=float, default=None, help=argparse.SUPPRESS)
    add_backend_option(parser)
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE,
                        help="frames with a side longer than this run in tiles; 0: always whole")
    parser.add_argument("--codec", choices=VIDEO_CODECS, default=None,
                        help="video encoder; default the first that PyAV's FFmpeg has")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUTPUT if it exists (never the input)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=video_command)


def video_command(args):
    """Exit codes: 0 written, 2 nothing written."""
    source, destination = Path(args.input), Path(args.output)
    if not source.is_file():
        raise CommandError(f"no video file at {source}")
    if destination.is_dir():
        destination = destination / f"{source.stem}_cartoon.mp4"
    if destination.exists() and not args.overwrite and not destination.samefile(source):
        raise CommandError(f"{destination} exists; pass --overwrite to replace it")
    if args.max_side is not None and args.max_side < 8:
        raise CommandError("--max-side must be at least 8")
    if args.max_pixels <= 0:
        raise CommandError("--max-pixels must be positive")
    if args.smooth is not None:
        logger.warning("--smooth is replaced by the steady mode, on by default (--no-steady "
                       "turns it off); ignoring --smooth %s", args.smooth)
    require_extra("video", "cartoonize video")
    from cartoonize_tf.inference.steady import SteadyFrames
    from cartoonize_tf.inference.video import VideoReadError, cartoonize_video, check_paths

    try:
        check_paths(source, destination)
    except ValueError as error:
        raise CommandError(error) from None
    cartoonizer = load_cartoonizer(args.model, size_policy="full", backend=args.backend,
                                   strength=args.strength, tile=args.tile or None,
                                   cel_shading=not args.no_cel_shading,
                                   look=look_from_args(args))
    try:
        report = cartoonize_video(
            cartoonizer.cartoonize, source, destination, max_side=args.max_side,
            codec=args.codec, progress=not args.no_progress, max_pixels=args.max_pixels,
            steady=None if args.no_steady else SteadyFrames())
    except (VideoReadError, ValueError) as error:
        raise CommandError(error) from None
    print(report.summary())
    print(f"Written {destination}")
    return 0
