"""Cartoonize the photos in test_code/test_images (or any others): `python test_code/cartoonize.py --help`.

The same as `cartoonize run`, with defaults anchored at this project's folder:
reads test_code/test_images, writes test_code/cartoonized_images, and uses
saved_models/cartoonizer.keras.
"""

import sys
from pathlib import Path

from cartoonize_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]], root=Path(__file__).resolve().parents[1]))
