"""Train the White-box Cartoonization GAN: `python train_code/train.py --help`."""

import sys

from cartoonize_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
