"""The options that run, video and bulk share for how the cartoonizer runs: --strength, --backend."""

from cartoonize_tf.inference.options import BACKENDS

BACKEND_HELP = ("runtime for the generator: auto picks the fastest that keeps the pictures "
                "(benchmarks/inference.py measures them all); tf is the reference; tflite-int8 "
                "is faster and close (about 50 dB)")


def add_strength_option(parser, source="the photo"):
    """--strength, blending `source` (0) with the model's own output (1)."""
    parser.add_argument("--strength", type=float, default=1.0,
                        help=f"how cartoony, from 0 ({source}) to 1 (the model's own output); "
                             "no retraining")


def add_backend_option(parser):
    """--backend, one of `BACKENDS` (default auto)."""
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
