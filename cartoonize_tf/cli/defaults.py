"""Default paths of the command line, relative to the project folder."""

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
