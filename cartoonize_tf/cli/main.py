"""The `cartoonize` command and its subcommands (`cartoonize --help` lists them)."""

import argparse
import logging
import os
import sys
from pathlib import Path

from cartoonize_tf.cli.bulk import add_bulk_parser
from cartoonize_tf.cli.convert import add_convert_parser
from cartoonize_tf.cli.data import add_prepare_data_parser
from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.export import (
    add_export_onnx_parser,
    add_export_parser,
    add_export_tflite_parser,
)
from cartoonize_tf.cli.run import add_run_parser
from cartoonize_tf.cli.serve import add_serve_parser
from cartoonize_tf.cli.stopped import STOPPED
from cartoonize_tf.cli.training import add_pretrain_parser, add_train_parser
from cartoonize_tf.cli.video import add_video_parser
from cartoonize_tf.data.errors import DataError
from cartoonize_tf.training.options import RunError
from cartoonize_tf.utils.extras import MissingExtra
from cartoonize_tf.utils.quiet_stderr import quiet_tensorflow


def build_parser(root=Path(".")):
    """The full parser; `root` anchors the default input, output and model paths."""
    parser = argparse.ArgumentParser(
        prog="cartoonize",
        description="Photo-to-cartoon with White-box Cartoonization (Wang and Yu, CVPR 2020), "
                    "in Keras 3 / TensorFlow 2. 'cartoonize run' exits 0 when every image is "
                    "written, 1 when some inputs failed, 2 when nothing could run.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show TensorFlow's start-up messages (CUDA probing, CPU features) "
                             "and the library's details (which backend auto took, and why)")
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    add_run_parser(subparsers, root)
    add_video_parser(subparsers, root)
    add_bulk_parser(subparsers, root)
    add_convert_parser(subparsers)
    add_prepare_data_parser(subparsers)
    add_pretrain_parser(subparsers)
    add_train_parser(subparsers)
    add_export_parser(subparsers)
    add_export_tflite_parser(subparsers)
    add_export_onnx_parser(subparsers)
    add_serve_parser(subparsers)
    for command in subparsers.choices.values():  # `cartoonize run --verbose` works too
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="show TensorFlow's start-up messages")
    return parser


def show_library_logs():
    """The library reports through `logging`; the command line shows it as plain lines:
    information on stdout, warnings and errors on stderr."""
    out = logging.StreamHandler(sys.stdout)
    out.addFilter(lambda record: record.levelno < logging.WARNING)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[out, err], force=True)


def main(argv=None, root=Path(".")):
    parser = build_parser(root)
    args, extra = parser.parse_known_args(argv)
    if extra:  # only `bulk` takes options it does not know: Beam's own, for the pipeline
        if not hasattr(args, "pipeline_args"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.pipeline_args = extra
    # Another Keras backend (KERAS_BACKEND=jax for `train`) may run where TensorFlow is not;
    # `run` imports it only where its model needs it (the shipped conversion's OpenVINO path does not).
    if not args.verbose and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        if not getattr(args, "tensorflow_when_needed", False):
            quiet_tensorflow()
    show_library_logs()
    library = logging.getLogger("cartoonize_tf")
    level = library.level
    if args.verbose:  # the library's details too (which backend `auto` took, and why)
        library.setLevel(logging.DEBUG)
    try:
        return args.handler(args)
    except (CommandError, MissingExtra, RunError, DataError) as error:  # one line to act on
        print(f"error: {error}", file=sys.stderr)
        return getattr(error, "status", 2)
    except KeyboardInterrupt:  # training stops at the end of a step and returns STOPPED itself
        print("Interrupted.", file=sys.stderr)
        return STOPPED
    finally:
        library.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
