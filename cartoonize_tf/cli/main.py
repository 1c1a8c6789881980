"""The `cartoonize` command and its subcommands (`cartoonize --help` lists them)."""

import argparse
import logging
import sys
from pathlib import Path

from cartoonize_tf.cli.convert import add_convert_parser
from cartoonize_tf.cli.data import add_prepare_data_parser
from cartoonize_tf.cli.export import (
    add_export_onnx_parser,
    add_export_parser,
    add_export_tflite_parser,
)
from cartoonize_tf.cli.run import add_run_parser
from cartoonize_tf.cli.serve import add_serve_parser
from cartoonize_tf.cli.training import add_pretrain_parser, add_train_parser


def build_parser(root=Path(".")):
    """The full parser; `root` anchors the default input, output and model paths."""
    parser = argparse.ArgumentParser(
        prog="cartoonize",
        description="Photo-to-cartoon with White-box Cartoonization (Wang and Yu, CVPR 2020), "
                    "in Keras 3 / TensorFlow 2.")
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    add_run_parser(subparsers, root)
    add_convert_parser(subparsers)
    add_prepare_data_parser(subparsers)
    add_pretrain_parser(subparsers)
    add_train_parser(subparsers)
    add_export_parser(subparsers)
    add_export_tflite_parser(subparsers)
    add_export_onnx_parser(subparsers)
    add_serve_parser(subparsers)
    return parser


def main(argv=None, root=Path(".")):
    args = build_parser(root).parse_args(argv)
    # The library reports through `logging`; the command line shows it as plain lines.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout, force=True)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
