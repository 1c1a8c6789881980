"""Default paths of the command line, relative to the project folder, and where the shipped
model is found from any folder."""

from pathlib import Path

from cartoonize_tf.utils.shipped_files import shipped

DEFAULT_MODEL = Path("saved_models") / "cartoonizer.keras"
DEFAULT_SAVED_MODEL_BASE = Path("saved_models") / "cartoonizer"
# Where the export commands write by default: the current folder's exports/, never the
# package's saved_models/ (which `serve` serves by default).
DEFAULT_EXPORT_DIR = Path("exports")
DEFAULT_INPUT = Path("test_code") / "test_images"
DEFAULT_OUTPUT = Path("test_code") / "cartoonized_images"
DEFAULT_DATA_DIR = Path("data") / "default"
DEFAULT_GAN_DATA_DIR = Path("data") / "gan"
DEFAULT_DATA_CACHE = Path("data") / "sources"
DEFAULT_PRETRAIN_DIR = Path("runs") / "pretrain"
DEFAULT_TRAIN_DIR = Path("runs") / "train"


def default_path(root, relative):
    """`root / relative` when it exists (inside the project folder), else the shipped copy."""
    local = Path(root) / relative
    return local if local.exists() else shipped(relative)
