"""Where the project's own files (the shipped model and its conversions) are, from any folder."""

import sys
from pathlib import Path


def shipped(relative):
    """Where the project's own file `relative` (under saved_models/) is, whatever the current
    folder: in the checkout that an editable install points at, else in the copy that a
    wheel installs under <prefix>/share/cartoonize_tf (setup.cfg's data_files)."""
    checkout = Path(__file__).resolve().parents[2] / relative
    installed = Path(sys.prefix) / "share" / "cartoonize_tf" / relative
    return checkout if checkout.exists() or not installed.exists() else installed
