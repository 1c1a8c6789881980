"""Pretrain the generator on photo reconstruction: `python train_code/pretrain.py --help`."""

import sys

from cartoonize_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["pretrain", *sys.argv[1:]]))
