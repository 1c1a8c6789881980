"""The `cartoonize` command and its subcommands (`cartoonize --help` lists them)."""

import argparse
import os
import sys
from pathlib import Path

from cartoonize_tf.export_commands import (add_export_onnx_parser, add_export_parser,
                                            add_export_tflite_parser)
from cartoonize_tf.data_commands import add_prepare_data_parser
from cartoonize_tf.server import add_serve_parser
from cartoonize_tf.training_commands import add_pretrain_parser, add_train_parser

from cartoonize_tf.cli_defaults import BACKENDS, DEFAULT_INPUT, DEFAULT_MODEL, DEFAULT_OUTPUT

MISSING_MODEL_HELP = """\
No model at {path}.
The project ships its default model as saved_models/cartoonizer.keras (restore it with
'git checkout saved_models'). Other ways:
  - convert the authors' published checkpoint (White-box Cartoonization,
    test_code/saved_models/model-33999.*; non-commercial licence, CC BY-NC-SA 4.0):
        cartoonize convert-checkpoint path/to/their/saved_models {path}
  - train your own: python train_code/prepare_data.py, then train_code/pretrain.py
    --paired (how the default model was made) or train_code/train.py (the GAN)
  - or cartoonize without a network: --method filter (slower)
Then run again, or point --model at the file."""


def add_run_parser(subparsers, root):
    parser = subparsers.add_parser(
        "run", help="cartoonize image files",
        description="Cartoonize image files with a trained generator. Each output keeps its "
                    "input's file name (so its format) unless --format says otherwise; a file "
                    "that cannot be read fails alone, the rest are still written, and the exit "
                    "code is 1 when anything failed.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--input", default=str(root / DEFAULT_INPUT),
                        help="an image file, a folder of images, or a glob pattern "
                             "(quote it: 'photos/**/*.jpg')")
    parser.add_argument("--output-dir", default=str(root / DEFAULT_OUTPUT),
                        help="folder for the cartoons; created if missing; inputs are never "
                             "overwritten")
    parser.add_argument("--model", default=os.environ.get("CARTOONIZE_TF_MODEL",
                                                          str(root / DEFAULT_MODEL)),
                        help="a .keras generator, or the authors' TF1 checkpoint (its folder or "
                             "prefix); the environment variable CARTOONIZE_TF_MODEL sets the default")
    parser.add_argument("--resize", choices=("authors", "full"), default="authors",
                        help="'authors': short side capped at 720 px and cropped to multiples "
                             "of 8, as the authors' code does; 'full': the input's exact size")
    parser.add_argument("--method", choices=("generator", "filter"), default="generator",
                        help="'generator': the trained network (fast); 'filter': the project's "
                             "white-box renderer, the default model's teacher (slow, no model "
                             "needed, always the input's full size)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="runtime for the generator: auto picks the fastest that keeps the "
                             "pictures (benchmarks/inference.py measures them all); tf is the "
                             "reference; tflite-int8 is faster and close (about 50 dB)")
    parser.add_argument("--format", choices=("png", "jpg"), default=None,
                        help="write every output in this format instead of the input's own")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run_command)


def run_command(args):
    from cartoonize_tf.batch import cartoonize_files, collect_inputs, plan_outputs

    try:
        inputs = collect_inputs(args.input)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.method == "filter":
        from cartoonize_tf.renderer import RendererCartoonizer

        cartoonizer = RendererCartoonizer()
    else:
        model = Path(args.model)
        if not model.exists() and not Path(f"{model}.index").exists():
            print("error: " + MISSING_MODEL_HELP.format(path=model), file=sys.stderr)
            return 2

        from cartoonize_tf.inference import Cartoonizer

        cartoonizer = Cartoonizer.load(model, size_policy=args.resize, backend=args.backend)
    plan = plan_outputs(inputs, args.output_dir, args.format)
    report = cartoonize_files(cartoonizer, plan, progress=not args.no_progress)
    print(report.summary())
    if report.written:
        print(f"Cartoons are in {args.output_dir}")
    return 1 if report.failures else 0


def add_convert_parser(subparsers):
    parser = subparsers.add_parser(
        "convert-checkpoint", help="convert the authors' TF1 checkpoint to a .keras generator",
        description="Read the authors' TF1 generator checkpoint (a folder holding 'checkpoint', "
                    "or a prefix such as .../model-33999), check every variable's name and "
                    "shape, and write a .keras model that 'cartoonize run --model' takes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("source", help="checkpoint folder or prefix")
    parser.add_argument("destination", help="the .keras file to write")
    parser.add_argument("--channels", type=int, default=32, help="generator width it was trained with")
    parser.add_argument("--num-blocks", type=int, default=4, help="residual blocks it was trained with")
    parser.set_defaults(handler=convert_command)


def convert_command(args):
    from cartoonize_tf.authors_checkpoint import CheckpointMismatchError, load_authors_checkpoint
    from cartoonize_tf.files import atomic_output

    destination = Path(args.destination)
    if destination.suffix != ".keras":
        print(f"error: the destination must end in .keras, got {destination}", file=sys.stderr)
        return 2
    try:
        generator = load_authors_checkpoint(args.source, args.channels, args.num_blocks)
    except (FileNotFoundError, CheckpointMismatchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with atomic_output(destination) as temporary:
        generator.save(temporary)
    print(f"Wrote {destination} ({generator.count_params():,} parameters, "
          f"channel order {generator.channel_order})")
    return 0


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
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
