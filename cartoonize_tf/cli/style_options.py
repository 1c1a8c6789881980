"""The options that run, video and bulk share for how the cartoonizer runs: --strength,
--no-cel-shading, --backend."""

from cartoonize_tf.inference.options import BACKENDS

BACKEND_HELP = ("runtime for the generator: auto picks the fastest that keeps the picture "
                "(AVX2 CPU: tflite, LiteRT's XNNPACK in float32; CPU with AVX512_BF16 or AMX: "
                "tf-bfloat16; AVX-512 without them, or a GPU: tf; --verbose says which and why; "
                "docs/speed.md has the figures); tf is the float32 reference; tf-bfloat16 "
                "computes the generator in bfloat16 (emulated, no faster, on other CPUs); "
                "tflite-int8 is smaller but loses detail (about 43 dB with the cel stage)")


def add_strength_option(parser, source="the photo"):
    """--strength, blending `source` (0) with the model's own output (1)."""
    parser.add_argument("--strength", type=float, default=1.0,
                        help=f"how cartoony, from 0 ({source}) to 1 (the model's own output); "
                             "no retraining")


def add_cel_shading_option(parser):
    """--no-cel-shading: leave out a model's cel-shading stage (flat tones, outlines)."""
    parser.add_argument("--no-cel-shading", action="store_true",
                        help="leave out the model's cel-shading stage (flat tones and dark "
                             "outlines after the generator): a softer, more photographic look. "
                             "Models without the stage (the authors') are unchanged")


def add_backend_option(parser):
    """--backend, one of `BACKENDS` (default auto)."""
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
