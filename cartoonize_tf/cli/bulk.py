"""The `bulk` command: an Apache Beam pipeline that cartoonizes every image a glob matches."""

import argparse
import logging
import os

from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.model_option import add_model_option, model_errors
from cartoonize_tf.cli.style_options import (
    add_backend_option,
    add_cel_shading_option,
    add_look_options,
    add_strength_option,
    look_from_args,
)
from cartoonize_tf.inference.options import (
    FILE_FORMATS,
    RUN_MAX_PIXELS,
    SIZE_POLICIES,
)
from cartoonize_tf.utils.extras import require_extra

EPILOG = """\
Any other option is Beam's own and goes to the pipeline unchanged, e.g. on Dataflow:
  cartoonize bulk --input 'gs://BUCKET/photos/*.jpg' --output gs://BUCKET/cartoons \\
      --model gs://BUCKET/cartoonizer.keras --runner DataflowRunner --project PROJECT \\
      --region us-central1 --temp_location gs://BUCKET/tmp --requirements_file req.txt"""


def add_bulk_parser(subparsers, root):
    parser = subparsers.add_parser(
        "bulk", help="cartoonize many images as an Apache Beam pipeline",
        description="Cartoonize every image file that --input matches, as an Apache Beam "
                    "pipeline (RunInference over the .keras model): Beam's in-process runner on this "
                    "machine by default, Dataflow, Flink or Spark with Beam's --runner. Outputs "
                    "keep their input's file name; a re-run skips images whose output exists. "
                    "Needs the optional extra: pip install \"cartoonize_tf[bulk]\". Exit code 0 "
                    "when all were written or skipped, 1 when some images failed, 2 when it "
                    "could not run.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True,
                        help="a glob of image files (quote it: 'photos/*.jpg'); gs:// and "
                             "other Beam filesystems work where installed")
    parser.add_argument("--output", required=True, help="folder for the cartoons")
    add_model_option(parser, root, "a .keras generator (local or on a Beam filesystem)")
    parser.add_argument("--resize", choices=SIZE_POLICIES, default="full",
                        help="as in 'cartoonize run'")
    add_strength_option(parser)
    add_cel_shading_option(parser)
    add_look_options(parser)
    add_backend_option(parser)
    parser.add_argument("--format", choices=tuple(FILE_FORMATS), default=None,
                        help="write every output in this format instead of the input's own")
    parser.add_argument("--max-pixels", type=int, default=RUN_MAX_PIXELS["generator"],
                        help="larger images (height * width, from the header) fail alone")
    parser.add_argument("--steady", action="store_true",
                        help="the images are the frames of one sequence: cartoonize them in "
                             "file-name order on one worker, each held to the previous one as "
                             "'cartoonize video' does, so tones and lines do not flicker")
    parser.set_defaults(handler=bulk_command, pipeline_args=[])


def below_error_from_beam_hidden(record):
    """A logging filter: Beam's own start-up and statistics lines (some logged through the root
    logger) are hidden unless they are errors."""
    return record.levelno >= logging.ERROR or f"{os.sep}apache_beam{os.sep}" not in record.pathname


def bulk_command(args):
    """Exit codes: 0 all written or skipped, 1 some images failed, 2 nothing could run."""
    if not 0.0 <= args.strength <= 1.0:
        raise CommandError("--strength must be between 0 and 1")
    require_extra("bulk", "cartoonize bulk")
    if not getattr(args, "verbose", False):
        for handler in logging.getLogger().handlers:
            handler.addFilter(below_error_from_beam_hidden)
    from cartoonize_tf.inference.bulk import run_bulk
    from cartoonize_tf.inference.opening import check_model_exists

    if "://" not in args.model:  # Beam's workers load it; a local one is looked for here
        with model_errors(args.model):
            check_model_exists(args.model)
    from apache_beam.io.filesystems import FileSystems

    if "://" not in args.input:  # a local glob is matched from the current folder
        args.input = os.path.abspath(args.input)
    if not FileSystems.match([args.input])[0].metadata_list:
        raise CommandError(f"no file matches {args.input!r}")
    counts = run_bulk(args.input, args.output, args.model, args.pipeline_args,
                      size_policy=args.resize, strength=args.strength, backend=args.backend,
                      cel_shading=not args.no_cel_shading, look=look_from_args(args),
                      output_format=args.format, max_pixels=args.max_pixels, steady=args.steady)
    images = "image" if counts["written"] == 1 else "images"
    print(f"Cartoonized {counts['written']} {images}, skipped {counts['skipped']} already done, "
          f"{counts['failed']} failed; outputs in {args.output}")
    return 1 if counts["failed"] else 0
