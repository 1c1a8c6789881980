"""The `pretrain` and `train` commands: options, then the run."""

import argparse

from cartoonize_tf.cli.defaults import DEFAULT_PRETRAIN_DIR, DEFAULT_TRAIN_DIR
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter
from cartoonize_tf.cli.stopped import report_stop
from cartoonize_tf.training.options import (
    ADAM,
    DEFAULT_LOSS_WEIGHTS,
    DISTRIBUTE_CHOICES,
    PRECISION_CHOICES,
    XLA_CHOICES,
)
from cartoonize_tf.training.settings import RunSettings
from cartoonize_tf.whitebox.options import SUPERPIXEL_MODES


def add_common_options(parser, default_steps, default_output):
    data = parser.add_argument_group("data")
    data.add_argument("--data-dir", required=True,
                      help="folder with photo_scenery/ and cartoon_scenery/ (train.py), and "
                           "optionally photo_face/ and cartoon_face/: then one batch in five "
                           "comes from faces")
    data.add_argument("--patch-size", type=int, default=256, help="side of the random square crops")
    data.add_argument("--batch-size", type=int, default=16,
                      help="global batch size (split across GPUs and workers)")
    data.add_argument("--flip", action="store_true",
                      help="flip patches left-right at random (the authors' training does not)")
    run = parser.add_argument_group("run")
    run.add_argument("--steps", type=int, default=default_steps, help="train up to this step")
    run.add_argument("--output-dir", default=str(default_output),
                     help="run folder: checkpoints/, logs/ (TensorBoard), settings.json, and "
                          "generator.keras when done")
    run.add_argument("--resume", action="store_true",
                     help="continue the run in --output-dir from its latest checkpoint "
                          "(Ctrl-C or SIGTERM stops a run at the end of a step and saves it)")
    run.add_argument("--learning-rate", type=float, default=ADAM["learning_rate"],
                     help="Adam learning rate (beta1 0.5, beta2 0.99, epsilon 1e-8)")
    run.add_argument("--seed", type=int, default=None, help="seed for weights, crops and draws")
    run.add_argument("--save-every", type=int, default=1000, help="steps between checkpoints")
    run.add_argument("--log-every", type=int, default=100,
                     help="steps between TensorBoard scalars (losses averaged over them)")
    run.add_argument("--sample-every", type=int, default=1000,
                     help="steps between TensorBoard photo | output images (0: never)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    device = parser.add_argument_group("devices")
    device.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                        help="compute type; weights and the saved generator stay float32. "
                             "bfloat16: about twice float32's speed on GPUs and on CPUs with "
                             "AVX512_BF16 or AMX, no loss scaling; float16: with loss scaling "
                             "(GPUs with tensor cores); auto: bfloat16 where the hardware has "
                             "it, else float32")
    device.add_argument("--mixed-precision", dest="precision", action="store_const",
                        const="float16", help="the same as --precision float16")
    device.add_argument("--distribute", choices=DISTRIBUTE_CHOICES, default="none",
                        help="mirrored: all local GPUs; multiworker: several machines from "
                             "TF_CONFIG")


def add_pretrain_parser(subparsers):
    parser = subparsers.add_parser(
        "pretrain", help="pretrain the generator on photo reconstruction (or paired cartoons)",
        description="Stage 1 of the recipe: train the generator alone to reproduce photos "
                    "(L1), which gives the GAN a generator that already keeps content. Reads "
                    "photo_scenery/ (and photo_face/) under --data-dir; writes generator.keras "
                    "in --output-dir for train.py --pretrained. With --paired it learns "
                    "photo -> cartoon pairs instead (cartoon_scenery/ files of the same names, "
                    "as prepare_data.py writes): how the default model was trained.",
        formatter_class=DefaultsHelpFormatter)
    add_common_options(parser, default_steps=50_000, default_output=DEFAULT_PRETRAIN_DIR)
    parser.add_argument("--paired", action="store_true",
                        help="L1 to the cartoon of the same file name, not to the photo itself")
    parser.add_argument("--edge-weight", type=float, default=0.0,
                        help="add this times the L1 distance of the pixel differences (flat "
                             "areas, sharp outlines); the default model used 1")
    parser.add_argument("--cel-shading", action="store_true",
                        help="train through a CelShading stage (flat tones, outlines) after the "
                             "output guided filter, and save it with the generator; a "
                             "--pretrained generator without one gets it. Give it again with "
                             "--resume. How the default model was trained")
    add_pretrained_option(parser, "a generator to fine-tune, such as "
                                  "saved_models/cartoonizer.keras")
    parser.set_defaults(handler=training_command, command="pretrain")


def add_pretrained_option(parser, what):
    parser.add_argument("--pretrained", default=None,
                        help=f"{what}: a generator.keras or a run folder holding one (without "
                             "it G starts from random weights; ignored with --resume)")


def add_train_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train the White-box Cartoonization GAN",
        description="Stage 2 of the recipe: the generator against a surface and a texture "
                    "discriminator, with content and structure (superpixel) losses on VGG19 "
                    "features. Writes generator.keras in --output-dir, which "
                    "'python test_code/cartoonize.py --model' takes.",
        formatter_class=DefaultsHelpFormatter)
    add_common_options(parser, default_steps=100_000, default_output=DEFAULT_TRAIN_DIR)
    method = parser.add_argument_group("method")
    add_pretrained_option(method, "the pretraining result to start from")
    method.add_argument("--superpixel", choices=SUPERPIXEL_MODES, default="simple",
                        help="simple: SLIC with mean colours; adaptive: Felzenszwalb and "
                             "selective-search grouping (slower, flatter regions); both "
                             "exactly as the authors compute them, on BGR values in [-1, 1]. "
                             "The -rgb variants segment true RGB colours instead")
    method.add_argument("--vgg-weights", default="imagenet",
                        help="'imagenet' (Keras downloads and caches the file), a path to "
                             "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 or to the "
                             "authors' vgg19_no_fc.npy, 'pixels' (no VGG: the content and "
                             "structure terms compare pixels; set their weights with "
                             "--loss-weight), or 'none' (random: smoke tests only)")
    method.add_argument("--loss-weight", action="append", default=[], metavar="NAME=VALUE",
                        type=loss_weight,
                        help="override one weight of the generator loss (repeatable): "
                             + ", ".join(f"{k} (default {v:g})"
                                         for k, v in DEFAULT_LOSS_WEIGHTS.items())
                             + ". teacher > 0 adds L1 to teacher_scenery/ (the renderer's "
                             "cartoon of each photo, as prepare_data.py --gan writes it); "
                             "teacher_edges > 0 adds L1 to its pixel differences (flat areas, "
                             "sharp outlines)")
    method.add_argument("--xla", choices=tuple(XLA_CHOICES), default="auto",
                        help="compile the G and D updates with XLA; auto: on GPU only. On a "
                             "2-core CPU, on gave 1.3 to 1.6 times the steps per second at "
                             "batch 8 and 128 px (benchmarks/train_step.py), for about 20 s "
                             "more start-up")
    parser.set_defaults(handler=training_command, command="train")


def loss_weight(text):
    """'name=value' -> (name, value), for --loss-weight."""
    name, _, value = text.partition("=")
    if name not in DEFAULT_LOSS_WEIGHTS:
        raise argparse.ArgumentTypeError(
            f"unknown loss {name!r}; one of {', '.join(DEFAULT_LOSS_WEIGHTS)}")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: the weight must be a number") from None


def training_command(args):
    """`pretrain` and `train`: the options become `RunSettings`, the library runs them."""
    from cartoonize_tf.training.runs import run_training

    settings = RunSettings.from_options(args)
    step, folder, chief = run_training(settings)
    if step < settings.steps:
        return report_stop(settings.name, step, settings, folder)
    if chief:
        print(f"{settings.name.capitalize()} done at step {step}: {folder.generator}")
        if settings.command == "pretrain" and not settings.paired:
            print(f"Next: python train_code/train.py --data-dir {settings.data_dir} "
                  f"--pretrained {folder.generator}")
        else:
            print(f"Cartoonize with: python test_code/cartoonize.py --model {folder.generator}")
    return 0
