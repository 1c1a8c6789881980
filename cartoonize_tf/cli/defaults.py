"""Default paths of the command line, relative to the project folder, and where the shipped
model is found from any folder."""

import sys
from pathlib import Path

DEFAULT_MODEL = Path("saved_models") / "cartoonizer.keras"
DEFAULT_SAVED_MODEL_BASE = Path("saved_models") / "cartoonizer"
DEFAULT_INPUT = Path("test_code") / "test_images"
DEFAULT_OUTPUT = Path("test_code") / "cartoonized_images"
DEFAULT_DATA_DIR = Path("data") / "default"
DEFAULT_GAN_DATA_DIR = Path("data") / "gan"
DEFAULT_DATA_CACHE = Path("data") / "sources"
DEFAULT_PRETRAIN_DIR = Path("runs") / "pretrain"
DEFAULT_TRAIN_DIR = Path("runs") / "train"


def shipped(relative):
    """Where the project's own file `relative` (under saved_models/) is, whatever the current
    folder: in the checkout that an editable install points at, else in the copy that a
    wheel installs under <prefix>/share/cartoonize_tf (setup.cfg's data_files)."""
    checkout = Path(__file__).resolve().parents[2] / relative
    installed = Path(sys.prefix) / "share" / "cartoonize_tf" / relative
    return checkout if checkout.exists() or not installed.exists() else installed


def default_path(root, relative):
    """`root / relative` when it exists (inside the project folder), else the shipped copy."""
    local = Path(root) / relative
    return local if local.exists() else shipped(relative)
