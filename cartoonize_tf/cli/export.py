"""The `export`, `export-tflite` and `export-onnx` commands."""

from pathlib import Path

from cartoonize_tf.cli.defaults import (
    DEFAULT_EXPORT_DIR,
    DEFAULT_INPUT,
    DEFAULT_MODEL,
    default_path,
)
from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter
from cartoonize_tf.cli.model_option import load_generator
from cartoonize_tf.cli.style_options import add_look_options, look_from_args
from cartoonize_tf.contract.limits import DEFAULT_MAX_PIXELS
from cartoonize_tf.export.options import BYTES_ENCODINGS, DEFAULT_ONNX_OPSET, TFLITE_QUANTIZATIONS
from cartoonize_tf.utils.extras import require_extra

# The default --model: the shipped one (found from any folder).
SHIPPED_MODEL = str(default_path(".", DEFAULT_MODEL))


def add_export_parser(subparsers):
    parser = subparsers.add_parser(
        "export", help="write a SavedModel for TF Serving",
        description="Write the generator as a SavedModel in TF Serving's layout "
                    "(<output>/<version>/saved_model.pb, variables/, assets.extra/ warm-up "
                    "requests) with the signatures serving_default (uint8 images in, uint8 "
                    "cartoons out, any size) and serving_bytes (encoded images in and out); "
                    "a model with a cel stage also gets serving_look and serving_look_bytes, "
                    "the same with the look controls as optional float inputs (tones, "
                    "flatness, lines, line_width, colour; each left out is the model's own, "
                    "or the look the options below bake in).",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--model", default=SHIPPED_MODEL, help="a .keras generator or the "
                        "authors' TF1 checkpoint")
    parser.add_argument("--output", default=str(DEFAULT_EXPORT_DIR / "cartoonizer"),
                        help="the model's base path (TF Serving's --model_base_path), in the "
                             "current folder unless a path is given")
    parser.add_argument("--version", type=int, default=None,
                        help="version folder to write; default: one more than the highest")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="largest height * width a request may have (default: %d); "
                             "larger ones are answered INVALID_ARGUMENT" % DEFAULT_MAX_PIXELS)
    parser.add_argument("--output-format", choices=BYTES_ENCODINGS, default="png",
                        help="encoding of serving_bytes results")
    parser.add_argument("--model-name", default="cartoonizer",
                        help="model name written into the warm-up requests")
    add_look_options(parser)
    parser.set_defaults(handler=export_command)


def add_export_tflite_parser(subparsers):
    parser = subparsers.add_parser(
        "export-tflite", help="write a TFLite model for phones",
        description="Convert the generator (with its output guided filter) to TFLite: uint8 "
                    "RGB [1, H, W, 3] in, uint8 cartoon out.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--model", default=SHIPPED_MODEL, help="a .keras generator or the "
                        "authors' TF1 checkpoint")
    parser.add_argument("--output", default=None,
                        help=f"the .tflite file; default: {DEFAULT_EXPORT_DIR}/cartoonizer_"
                             "<quantization>[_<size>].tflite. float16 is for phones (half the "
                             "download, GPU delegates); on a desktop CPU float32 runs faster "
                             "(docs/speed.md)")
    parser.add_argument("--quantization", choices=TFLITE_QUANTIZATIONS,
                        default="float16",
                        help="float16 halves the size; dynamic stores int8 weights; int8 also "
                             "quantizes activations (calibrated on --calibration-images)")
    parser.add_argument("--input-size", default=None,
                        help="HxW (multiples of 8) for a fixed-size model, as GPU delegates want; "
                             "default: any size")
    parser.add_argument("--calibration-images", default=str(default_path(".", DEFAULT_INPUT)),
                        help="folder of real photos for int8 calibration")
    add_look_options(parser)
    parser.set_defaults(handler=export_tflite_command)


def export_command(args):
    require_extra("export", "cartoonize export (its TF Serving warm-up file)")
    from cartoonize_tf.export.saved_model import export_saved_model

    generator = load_generator(args.model, look_from_args(args))
    try:
        path = export_saved_model(generator, args.output, args.version,
                                  args.max_pixels or DEFAULT_MAX_PIXELS, args.output_format,
                                  args.model_name)
    except (FileExistsError, ValueError) as error:  # the version exists; a bad option
        raise CommandError(error) from None
    looks = ", serving_look, serving_look_bytes" if generator.cel_shading_layer else ""
    print(f"Wrote {path} (signatures serving_default, serving_bytes{looks})")
    return 0


def export_tflite_command(args):  # TensorFlow's converter: the core install has it
    from cartoonize_tf.export.tflite import convert_to_tflite
    from cartoonize_tf.inference.batch import collect_inputs
    from cartoonize_tf.utils.image_io import read_image

    def convert(generator, size):
        calibration = None
        if args.quantization == "int8":
            calibration = [read_image(p) for p in collect_inputs(args.calibration_images)]
        return convert_to_tflite(generator, args.quantization, size, calibration)

    return convert_and_write(args, convert, f"cartoonizer_{args.quantization}{{size}}.tflite",
                             args.quantization)


def add_export_onnx_parser(subparsers):
    parser = subparsers.add_parser(
        "export-onnx", help="write an ONNX model",
        description="Convert the generator (with its mirror padding and output guided filter) "
                    "to ONNX: uint8 RGB [N, H, W, 3] in, uint8 cartoons out, as the SavedModel's "
                    "serving_default. Runs with ONNX Runtime: "
                    "cartoonize_tf.inference.runtimes.ONNXCartoonizer, or "
                    "'cartoonize run --model FILE.onnx'.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--model", default=SHIPPED_MODEL, help="a .keras generator or the "
                        "authors' TF1 checkpoint")
    parser.add_argument("--output", default=None,
                        help=f"the .onnx file; default: {DEFAULT_EXPORT_DIR}/cartoonizer"
                             "[_<size>].onnx")
    parser.add_argument("--input-size", default=None,
                        help="HxW (multiples of 8) for a fixed-size model with batch 1; "
                             "default: any batch and size")
    parser.add_argument("--opset", type=int, default=DEFAULT_ONNX_OPSET, help="ONNX opset version")
    add_look_options(parser)
    parser.set_defaults(handler=export_onnx_command)


def export_onnx_command(args):
    require_extra("export", "cartoonize export-onnx")
    from cartoonize_tf.export.onnx import convert_to_onnx

    def convert(generator, size):
        return convert_to_onnx(generator, size, args.opset)

    return convert_and_write(args, convert, "cartoonizer{size}.onnx", f"opset {args.opset}")


def convert_and_write(args, convert, default_name, description):
    """Loads `--model`, converts it with `convert(generator, size)` and writes the bytes atomically.

    `default_name` (in `DEFAULT_EXPORT_DIR`) has a `{size}` field for "_HxW" or "". Returns the
    exit code; CommandError where nothing could be written.
    """
    from cartoonize_tf.inference.sizing import parse_size
    from cartoonize_tf.utils.files import atomic_output

    try:
        size = parse_size(args.input_size) if args.input_size else None
        model = convert(load_generator(args.model, look_from_args(args)), size)
    except (FileNotFoundError, ValueError) as error:  # a bad size, missing calibration photos
        raise CommandError(error) from None
    suffix = f"_{size[0]}x{size[1]}" if size else ""
    output = Path(args.output or DEFAULT_EXPORT_DIR / default_name.format(size=suffix))
    with atomic_output(output) as temporary:
        temporary.write_bytes(model)
    print(f"Wrote {output} ({len(model) / 1e6:.2f} MB, {description}, "
          f"{'fixed ' + args.input_size if size else 'any size'})")
    return 0
