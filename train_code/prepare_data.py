"""Build a training folder from public sources (paired, or the GAN's with --gan); see `--help`."""

import sys

from cartoonize_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["prepare-data", *sys.argv[1:]]))
