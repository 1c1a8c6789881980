"""Build the default model's training folder from public photos; see `prepare_data.py --help`."""

import sys

from cartoonize_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["prepare-data", *sys.argv[1:]]))
