"""The --model option of the cartoonizing commands (run, video, bulk): its default, and the
library's errors about it said once."""

import contextlib
import os

from cartoonize_tf.cli.defaults import DEFAULT_MODEL, default_path
from cartoonize_tf.cli.errors import CommandError

MISSING_MODEL_HELP = """\
No model at {path}.
The project ships its default model as saved_models/cartoonizer.keras (in a checkout, restore
it with 'git checkout saved_models'; otherwise reinstall cartoonize_tf). Other ways:
  - convert the authors' published checkpoint (White-box Cartoonization,
    test_code/saved_models/model-33999.*; non-commercial licence, CC BY-NC-SA 4.0):
        cartoonize convert-checkpoint path/to/their/saved_models {path}
  - train your own: python train_code/prepare_data.py, then train_code/pretrain.py
    --paired (how the default model was made) or train_code/train.py (the GAN)
  - or, with 'cartoonize run', cartoonize without a network: --method filter (slower)
Then run again, or point --model at the file."""


def add_model_option(parser, root, help):
    """--model, defaulting to $CARTOONIZE_TF_MODEL, else the shipped model (under `root` when
    the command runs in the project folder, else wherever cartoonize_tf is installed from)."""
    parser.add_argument("--model", default=os.environ.get("CARTOONIZE_TF_MODEL",
                                                          str(default_path(root, DEFAULT_MODEL))),
                        help=help + "; the environment variable CARTOONIZE_TF_MODEL sets the "
                                    "default")


@contextlib.contextmanager
def model_errors(path):
    """The library's errors about --model `path` as one CommandError: nothing there gets the
    missing-model help; a model it cannot read, or options it refuses, their one line."""
    from cartoonize_tf.inference.opening import ModelNotFoundError

    try:
        yield
    except ModelNotFoundError:
        raise CommandError(MISSING_MODEL_HELP.format(path=path)) from None
    except ValueError as error:  # ModelLoadError included
        raise CommandError(error) from None


def load_generator(path, look=None):
    """The generator at --model `path` (for the exporters), its cel stage drawing `look` where
    one is given (baked in), its errors said as `model_errors` says them."""
    from cartoonize_tf.inference.opening import generator_with_look, read_generator

    with model_errors(path):
        generator = read_generator(path)
        return generator if look is None else generator_with_look(generator, look)


def load_cartoonizer(path, **options):
    """`Cartoonizer.load(path, **options)`, its errors said as `model_errors` says them."""
    from cartoonize_tf.inference.cartoonizer import Cartoonizer

    with model_errors(path):
        return Cartoonizer.load(path, **options)
