"""The `prepare-data` command: a training folder from public photos and drawings."""

import argparse
from pathlib import Path

from cartoonize_tf.cli.defaults import DEFAULT_DATA_CACHE, DEFAULT_DATA_DIR, DEFAULT_GAN_DATA_DIR
from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter


def add_prepare_data_parser(subparsers):
    parser = subparsers.add_parser(
        "prepare-data", help="build a training folder from public photos (and drawings: --gan)",
        description="Fetch photographs from Debian's wallpaper packages (apt-get download and "
                    "dpkg -x: no root, nothing installed) and scikit-image's sample data, "
                    "render each with the project's white-box cartoon renderer, and cut photo "
                    "and cartoon into paired 256 px patches: photo_scenery/ and "
                    "cartoon_scenery/ with the same file names, eval_photos/ (held out) and "
                    "manifest.json (every source and its licence). For "
                    "'python train_code/pretrain.py --paired --data-dir <output>'. "
                    "With --gan, build the GAN's unpaired folder instead: photo_scenery/ holds "
                    "the same photos' patches, cartoon_scenery/ patches of drawn art from "
                    "Debian games and clip art (Hedgewars, SuperTux, Tux Paint stamps) and the "
                    "renderer's cartoons of other photos (lomiri-wallpapers-16.04) that are on "
                    "no other side; manifest.json gives every source image's package, version, "
                    "path, licence and side. For 'python train_code/pretrain.py' and "
                    "'python train_code/train.py' with '--data-dir <output>'.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--gan", action="store_true",
                        help="build the GAN's unpaired photo / cartoon folder, not the paired one")
    parser.add_argument("--no-drawings", action="store_true",
                        help="with --gan: leave the drawn art out, so the cartoon side is the "
                             "renderer's cartoons alone (what the model card's later CPU runs "
                             "trained on)")
    parser.add_argument("--output-dir", default=argparse.SUPPRESS,
                        help=f"the training folder to create (must not exist yet); default "
                             f"{DEFAULT_DATA_DIR}, or {DEFAULT_GAN_DATA_DIR} with --gan")
    parser.add_argument("--cache-dir", default=str(DEFAULT_DATA_CACHE),
                        help="where the downloaded packages are kept between runs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=prepare_data_command)


def prepare_data_command(args):
    from cartoonize_tf.data.photo_sources import SourceError

    output = getattr(args, "output_dir", None) or str(DEFAULT_GAN_DATA_DIR if args.gan else DEFAULT_DATA_DIR)
    if args.no_drawings and not args.gan:
        raise CommandError("--no-drawings shapes the GAN's cartoon side; use it with --gan")
    if Path(output).exists():
        raise CommandError(f"{output} already exists; remove it or choose another --output-dir")
    try:
        if args.gan:
            from cartoonize_tf.data.gan_preparation import prepare_gan

            manifest = prepare_gan(output, args.cache_dir, progress=not args.no_progress,
                                   with_drawings=not args.no_drawings)
        else:
            from cartoonize_tf.data.preparation import prepare

            manifest = prepare(output, args.cache_dir, progress=not args.no_progress)
    except SourceError as error:  # a source could not be fetched: worth another try
        raise CommandError(error, status=1) from None
    sources = manifest["sources"]
    held_out = sum("eval_photo" in s for s in sources)
    if args.gan:
        def count(side, kind=None):
            chosen = [s for s in sources if s["side"] == side and kind in (None, s["kind"])]
            return len(chosen), sum(len(s["patches"]) for s in chosen)

        photos, photo_patches = count("photo")
        drawings, drawn_patches = count("cartoon", "drawing")
        rendered, rendered_patches = count("cartoon", "rendered photo")
        print(f"Wrote {output}: {photo_patches} photo patches from {photos} photos; "
              f"{drawn_patches + rendered_patches} cartoon patches ({drawn_patches} from "
              f"{drawings} drawings, {rendered_patches} rendered from {rendered} other "
              f"photos); {held_out} photos held out for evaluation.")
        print(f"Next: python train_code/pretrain.py --data-dir {output}, then "
              f"python train_code/train.py --data-dir {output} --pretrained runs/pretrain")
        return 0
    patches = sum(len(s.get("patches", [])) for s in sources)
    print(f"Wrote {output}: {patches} photo/cartoon patch pairs from "
          f"{len(sources) - held_out} photos, {held_out} held out for evaluation.")
    print(f"Next: python train_code/pretrain.py --paired --data-dir {output}")
    return 0
