"""The options that run, video and bulk share for how the cartoonizer runs: --strength,
--no-cel-shading, --backend, and the look controls (--preset, --tones, ...)."""

from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.contract.look import CONTROLS, PRESETS, check_look
from cartoonize_tf.inference.options import BACKENDS

BACKEND_HELP = ("runtime for the generator: auto picks the fastest that keeps the picture "
                "(a CPU: openvino, OpenVINO reading the shipped LiteRT file, no TensorFlow "
                "imported; openvino-bfloat16 where the CPU has AVX512_BF16 or AMX; a GPU: tf; "
                "--verbose says which and why; docs/speed.md has the figures; the switch "
                "CARTOONIZE_TF_CPU_FLAGS=avx2|avx512|avx512_bf16|amx makes auto choose as on "
                "that CPU); tf is the float32 reference; tf-bfloat16 computes the generator in "
                "bfloat16 (emulated, no faster, on other CPUs); tflite is LiteRT (as on a "
                "phone); tflite-int8 is smaller but loses detail (about 43 dB with the cel stage)")


def add_strength_option(parser, source="the photo"):
    """--strength, blending `source` (0) with the model's own output (1)."""
    parser.add_argument("--strength", type=float, default=1.0,
                        help=f"how cartoony, from 0 ({source}) to 1 (the model's own output); "
                             "no retraining")


def add_cel_shading_option(parser):
    """--no-cel-shading: leave out a model's cel-shading stage (flat tones, lines)."""
    parser.add_argument("--no-cel-shading", action="store_true",
                        help="leave out the model's cel-shading stage (flat tones and dark "
                             "lines after the generator): a softer, more photographic look. "
                             "Models without the stage (the authors') are unchanged")


def add_backend_option(parser):
    """--backend, one of `BACKENDS` (default auto)."""
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)


def add_look_options(parser):
    """--preset and one option per look control (`contract.look.CONTROLS`), in their own
    group: they set the model's cel stage, no retraining."""
    group = parser.add_argument_group(
        "look", "the cartoon's tones, flatness, lines and colour, without retraining; each "
                "left out keeps the model's own (a preset's values, where --preset is given); "
                "the exporters bake them into the file they write")
    group.add_argument("--preset", choices=PRESETS,
                       help="a named look: " + "; ".join(
                           f"{name} ({', '.join(f'{k} {v:g}' for k, v in values.items())})"
                           if values else f"{name} (the model's own)"
                           for name, values in PRESETS.items()))
    for control in CONTROLS.values():
        group.add_argument(option_name(control.name), dest=control.name,
                           type=int if control.integer else float, default=None,
                           help=f"{control.meaning}; {control.low:g} to {control.high:g}, "
                                f"the default model's {control.default:g}")


def look_from_args(args):
    """The checked look (a dict of controls) the options ask for, or None for the model's own;
    a value out of range is a CommandError naming it."""
    given = {name: getattr(args, name) for name in CONTROLS if getattr(args, name) is not None}
    if args.preset is None and not given:
        return None
    try:
        return check_look(given, preset=args.preset, label=option_name)
    except ValueError as error:
        raise CommandError(str(error)) from None


def option_name(control):
    """The command-line option of a look control: line_width -> --line-width."""
    return "--" + control.replace("_", "-")
