"""The `convert-checkpoint` command: the authors' TF1 checkpoint to a `.keras` generator."""

from pathlib import Path

from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter


def add_convert_parser(subparsers):
    parser = subparsers.add_parser(
        "convert-checkpoint", help="convert the authors' TF1 checkpoint to a .keras generator",
        description="Read the authors' TF1 generator checkpoint (a folder holding 'checkpoint', "
                    "or a prefix such as .../model-33999), check every variable's name and "
                    "shape, and write a .keras model that 'cartoonize run --model' takes.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("source", help="checkpoint folder or prefix")
    parser.add_argument("destination", help="the .keras file to write")
    parser.add_argument("--channels", type=int, default=32, help="generator width it was trained with")
    parser.add_argument("--num-blocks", type=int, default=4, help="residual blocks it was trained with")
    parser.set_defaults(handler=convert_command)


def convert_command(args):
    from cartoonize_tf.models.authors_checkpoint import (
        CheckpointMismatchError,
        load_authors_checkpoint,
    )
    from cartoonize_tf.utils.files import atomic_output

    destination = Path(args.destination)
    if destination.suffix != ".keras":
        raise CommandError(f"the destination must end in .keras, got {destination}")
    try:
        generator = load_authors_checkpoint(args.source, args.channels, args.num_blocks)
    except (FileNotFoundError, CheckpointMismatchError) as error:
        raise CommandError(error) from None
    with atomic_output(destination) as temporary:
        generator.save(temporary)
    print(f"Wrote {destination} ({generator.count_params():,} parameters, "
          f"channel order {generator.channel_order})")
    return 0
