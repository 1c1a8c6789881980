"""The --model option of the cartoonizing commands (run, video, bulk): its default and checks."""

import os
from pathlib import Path

from cartoonize_tf.cli.defaults import DEFAULT_MODEL, default_path

MISSING_MODEL_HELP = """\
No model at {path}.
The project ships its default model as saved_models/cartoonizer.keras (in a checkout, restore
it with 'git checkout saved_models'; otherwise reinstall cartoonize_tf). Other ways:
  - convert the authors' published checkpoint (White-box Cartoonization,
    test_code/saved_models/model-33999.*; non-commercial licence, CC BY-NC-SA 4.0):
        cartoonize convert-checkpoint path/to/their/saved_models {path}
  - train your own: python train_code/prepare_data.py, then train_code/pretrain.py
    --paired (how the default model was made) or train_code/train.py (the GAN)
  - or cartoonize without a network: --method filter (slower)
Then run again, or point --model at the file."""


class ModelOptionError(ValueError):
    """--model names nothing, or something that is not a generator; the message is one line
    (or the missing-model help)."""


def add_model_option(parser, root, help):
    """--model, defaulting to $CARTOONIZE_TF_MODEL, else the shipped model (under `root` when
    the command runs in the project folder, else wherever cartoonize_tf is installed from)."""
    parser.add_argument("--model", default=os.environ.get("CARTOONIZE_TF_MODEL",
                                                          str(default_path(root, DEFAULT_MODEL))),
                        help=help + "; the environment variable CARTOONIZE_TF_MODEL sets the "
                                    "default")


def check_model_exists(path):
    """Raises ModelOptionError with the missing-model help when `path` names no model."""
    path = Path(path)
    if not path.exists() and not Path(f"{path}.index").exists():
        raise ModelOptionError(MISSING_MODEL_HELP.format(path=path))


def first_line(error):
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0]


def load_model(path):
    """The generator at `path` (checked as `check_model_exists` does); ModelOptionError if not."""
    from cartoonize_tf.models.loading import load_generator

    check_model_exists(path)
    try:
        return load_generator(path)
    except Exception as error:  # noqa: BLE001 - any unreadable model is one clear line
        raise ModelOptionError(f"cannot load --model {path} ({type(error).__name__}: "
                               f"{first_line(error)}); it must be a .keras generator or the "
                               "authors' TF1 checkpoint") from None


def load_cartoonizer(path, **options):
    """A `Cartoonizer` for --model `path`: a generator (as `load_model` loads it), a SavedModel
    folder from `export`, or an exported `.tflite` / `.onnx` file; `options` are the
    Cartoonizer's. ModelOptionError or ValueError with one line when it cannot be made."""
    from cartoonize_tf.inference.cartoonizer import EXPORTED_RUNTIMES, Cartoonizer
    from cartoonize_tf.inference.saved_model_runner import saved_model_folder

    exported = Path(path).suffix.lower() in EXPORTED_RUNTIMES or saved_model_folder(path)
    if not exported:
        shipped = Cartoonizer.from_shipped_conversion(path, **options)  # without TensorFlow
        return shipped if shipped is not None else Cartoonizer(load_model(path), **options)
    check_model_exists(path)
    if not options.get("cel_shading", True):
        raise ModelOptionError("--no-cel-shading needs the .keras model: an exported file has "
                               "its stage built in")
    options.pop("cel_shading", None)
    if options.get("backend", "auto") != "auto":
        raise ModelOptionError(f"{Path(path).name} is an exported model with its own runtime; "
                               "leave --backend out")
    try:
        return Cartoonizer.load(path, **options)
    except Exception as error:  # noqa: BLE001 - any unreadable model is one clear line
        raise ModelOptionError(f"cannot load --model {path} ({type(error).__name__}: "
                               f"{first_line(error)}); it must be a model that export, "
                               "export-tflite or export-onnx wrote") from None
