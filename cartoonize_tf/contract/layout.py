"""The numbered versions under a SavedModel base path, as TF Serving lays them out."""

import re
from pathlib import Path

SAVED_MODEL_FILE = "saved_model.pb"
# A version folder: ASCII digits that fit TF Serving's int64 version ("²" passes str.isdigit).
VERSION_FOLDER = re.compile(r"[0-9]{1,18}")


def newest_version(base_path):
    """The highest numbered version folder under `base_path` that holds a saved model, or
    None (also where `base_path` is no folder)."""
    base_path = Path(base_path)
    versions = [p for p in base_path.iterdir()
                if VERSION_FOLDER.fullmatch(p.name) and (p / SAVED_MODEL_FILE).is_file()] \
        if base_path.is_dir() else []
    return max(versions, key=lambda p: int(p.name), default=None)


def saved_model_folder(path):
    """The SavedModel folder that `path` names: itself, or the highest numbered version below it
    (TF Serving's base path, as `cartoonize export` writes it); None when it names neither."""
    path = Path(path)
    return path if (path / SAVED_MODEL_FILE).is_file() else newest_version(path)
