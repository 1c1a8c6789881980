"""The `run` command: cartoonize image files (also `python test_code/cartoonize.py`)."""

import contextlib
import sys
from pathlib import Path

from cartoonize_tf.cli.defaults import DEFAULT_INPUT, DEFAULT_OUTPUT
from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter
from cartoonize_tf.cli.model_option import add_model_option, load_cartoonizer
from cartoonize_tf.cli.style_options import (
    add_backend_option,
    add_cel_shading_option,
    add_look_options,
    add_strength_option,
    look_from_args,
)
from cartoonize_tf.inference.options import (
    DEFAULT_TILE,
    FILE_FORMATS,
    RUN_MAX_PIXELS,
    SIZE_POLICIES,
)
from cartoonize_tf.utils.quiet_stderr import quiet_tensorflow, stderr_silenced


def add_run_parser(subparsers, root):
    parser = subparsers.add_parser(
        "run", help="cartoonize image files",
        description="Cartoonize image files with a trained generator. Each output keeps its "
                    "input's file name (so its format) unless --format says otherwise; a file "
                    "that cannot be read fails alone, the rest are still written, and the exit "
                    "code is 1 when anything failed.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--input", default=str(root / DEFAULT_INPUT),
                        help="an image file, a folder of images, or a glob pattern "
                             "(quote it: 'photos/**/*.jpg')")
    parser.add_argument("--output-dir", default=str(root / DEFAULT_OUTPUT),
                        help="folder for the cartoons; created if missing; inputs are never "
                             "overwritten")
    add_model_option(parser, root, "a .keras generator, the authors' TF1 checkpoint (its "
                                   "folder or prefix), a SavedModel folder from export (a "
                                   "version, or its base path: the newest version), or a "
                                   ".tflite or .onnx file from export-tflite / export-onnx (run "
                                   "by LiteRT or ONNX Runtime; float16 .tflite files are for "
                                   "phones; the default model runs its shipped .tflite in "
                                   "OpenVINO, the fastest on a desktop)")
    parser.add_argument("--resize", choices=SIZE_POLICIES, default="full",
                        help="'full': the input's exact size (large photos run in tiles, see "
                             "--tile), as the web page and the server do; 'authors': short side "
                             "capped at 720 px and cropped to multiples of 8, as the authors' "
                             "code does. The summary line says how many were resized or tiled")
    parser.add_argument("--method", choices=("generator", "filter"), default="generator",
                        help="'generator': the trained network (fast); 'filter': the project's "
                             "white-box renderer, the default model's teacher (slow, no model "
                             "needed, always the input's full size)")
    add_backend_option(parser)
    parser.add_argument("--format", choices=tuple(FILE_FORMATS), default=None,
                        help="write every output in this format instead of the input's own")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="largest height * width of an input, read from its header before "
                             "decoding; larger files fail alone. Default: "
                             f"{RUN_MAX_PIXELS['generator']:,} (the generator runs large "
                             f"images in tiles), {RUN_MAX_PIXELS['filter']:,} with --method "
                             "filter (about 0.43 GB of memory per megapixel)")
    style = parser.add_argument_group("style and memory")
    add_strength_option(style)
    add_cel_shading_option(style)
    add_look_options(parser)
    style.add_argument("--tile", type=int, default=DEFAULT_TILE,
                       help="images with a side longer than this run in overlapping tiles of "
                            "this size (memory about 0.43 GB per megapixel of tile; a multiple "
                            "of 8 above 128); 0: always whole")
    style.add_argument("--filter-radius", type=int, default=None,
                       help="experts: radius of the output guided filter (the authors' 1); "
                            "larger smooths more. TensorFlow backends only")
    style.add_argument("--filter-eps", type=float, default=None,
                       help="experts: eps of the output guided filter (the authors' 5e-3); "
                            "larger smooths more. TensorFlow backends only")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run_command, tensorflow_when_needed=True)


def default_max_pixels(args):
    return RUN_MAX_PIXELS[args.method]


def run_command(args):
    """Exit codes: 0 all written, 1 some inputs failed, 2 nothing could run."""
    from cartoonize_tf.inference.batch import (
        cartoonize_files,
        check_output_dir,
        collect_inputs,
        plan_outputs,
    )

    if args.max_pixels is not None and args.max_pixels <= 0:
        raise CommandError("--max-pixels must be positive")
    max_pixels = args.max_pixels or default_max_pixels(args)
    try:
        inputs = collect_inputs(args.input)
    except FileNotFoundError as error:
        message = str(error)
        if Path(args.input).parts[-2:] == DEFAULT_INPUT.parts:  # the default, missing here
            message = ("no --input given, and no test_code/test_images here: give --input a "
                       "photo, a folder or a quoted glob ('photos/*.jpg')")
        raise CommandError(message) from None
    try:
        check_output_dir(args.output_dir)
    except OSError as error:
        raise CommandError(error) from None
    if args.method == "filter":
        from cartoonize_tf.whitebox.renderer import RendererCartoonizer

        if look_from_args(args) is not None or args.no_cel_shading:
            raise CommandError("--method filter draws with the white-box renderer, which has no "
                               "cel stage: the look options and --no-cel-shading set a model's; "
                               "leave them out, or use --method generator")
        cartoonizer = RendererCartoonizer()
    else:
        filter_options = {name: value for name, value in (
            ("filter_radius", args.filter_radius), ("filter_eps", args.filter_eps))
            if value is not None}
        quiet = not getattr(args, "verbose", False)
        # TensorFlow, where this model needs it, loads here: its start-up lines are hidden.
        with stderr_silenced() if quiet else contextlib.nullcontext():
            cartoonizer = load_cartoonizer(args.model, size_policy=args.resize,
                                           backend=args.backend, strength=args.strength,
                                           tile=args.tile or None,
                                           cel_shading=not args.no_cel_shading,
                                           look=look_from_args(args), **filter_options)
        if quiet and "tensorflow" in sys.modules:
            quiet_tensorflow()
    plan = plan_outputs(inputs, args.output_dir, args.format)
    report = cartoonize_files(cartoonizer, plan, progress=not args.no_progress,
                              max_pixels=max_pixels)
    print(report.summary())
    if report.too_large:
        hint = ("--method generator runs them in tiles, or raise --max-pixels"
                if args.method == "filter"
                else "raise --max-pixels if this machine has the memory")
        print(f"{len(report.too_large)} image(s) are over --max-pixels {max_pixels:,}: {hint}.",
              file=sys.stderr)
    if report.written:
        print(f"Cartoons are in {args.output_dir}")
    return 1 if report.failures else 0
