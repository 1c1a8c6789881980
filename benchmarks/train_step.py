"""Training speed: steps per second and where a step's time goes.

    python benchmarks/train_step.py [--batch-size 16] [--patch-size 256] [--superpixel simple]
                                    [--xla auto] [--pixels] [--precision auto]

Builds the full-size GAN (VGG19 with random weights: the speed is the same;
`--pixels`: no VGG, the content and structure terms on pixels, as
`train.py --vgg-weights pixels` trains),
feeds it random batches held in memory, and times, as medians over
`--repeats` runs after one warm-up: the generator forward pass, the superpixel
step (CPU), the generator update, the discriminator update, and the whole
`train_step`. Prints one table; the shares are of the sum of the parts.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cartoonize_tf.training.options import PRECISION_CHOICES  # after the log level
from cartoonize_tf.whitebox.options import SUPERPIXEL_MODES


def median_seconds(function, repeats):
    function()  # warm-up: tracing and compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--superpixel", choices=SUPERPIXEL_MODES, default="simple")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--xla", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--precision", choices=PRECISION_CHOICES, default="float32",
                        help="compute type, as train.py's --precision")
    parser.add_argument("--mixed-precision", dest="precision", action="store_const",
                        const="float16", help="the same as --precision float16")
    parser.add_argument("--pixels", action="store_true",
                        help="no VGG19: content and structure on pixels (--vgg-weights pixels)")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from cartoonize_tf.models.vgg_features import VGGFeatures
    from cartoonize_tf.training.builders import build_generator
    from cartoonize_tf.training.options import XLA_CHOICES
    from cartoonize_tf.training.tensorflow.builders import build_gan
    from cartoonize_tf.training.tensorflow.devices import dtype_policy
    from cartoonize_tf.whitebox.superpixels import superpixel_batch

    policy, precision = dtype_policy(args.precision)
    vgg = None if args.pixels else VGGFeatures(weights=None, dtype=policy)
    gan = build_gan(vgg, build_generator(dtype=policy), superpixel_mode=args.superpixel,
                    xla=XLA_CHOICES[args.xla], seed=0)
    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.patch_size, args.patch_size, 3)
    photos = tf.constant(rng.uniform(-1, 1, shape), tf.float32)
    cartoons = tf.constant(rng.uniform(-1, 1, shape), tf.float32)

    generate = tf.function(gan.generate, jit_compile=gan.xla)
    output = generate(photos).numpy()
    superpixels = tf.constant(superpixel_batch(output, args.superpixel))
    generator_update = tf.function(gan.generator_update)
    discriminator_update = tf.function(gan.discriminator_update)
    train_step = tf.function(gan.train_step)

    parts = {
        "generator forward": median_seconds(lambda: generate(photos).numpy(), args.repeats),
        f"superpixels ({args.superpixel}, CPU)": median_seconds(
            lambda: superpixel_batch(output, args.superpixel), args.repeats),
        "generator update": median_seconds(
            lambda: float(generator_update(photos, superpixels)["generator_loss"]), args.repeats),
        "discriminator update": median_seconds(
            lambda: float(discriminator_update(photos, cartoons)["discriminator_loss"]),
            args.repeats),
    }
    whole = median_seconds(lambda: float(train_step((photos, cartoons))["generator_loss"]),
                           args.repeats)
    devices = ", ".join(d.name for d in tf.config.list_logical_devices() if "CPU" not in d.name) \
        or f"CPU ({os.cpu_count()} cores)"
    total = sum(parts.values())
    print(f"train_step benchmark: batch {args.batch_size}, {args.patch_size} px, "
          f"superpixel {args.superpixel}, XLA {'on' if gan.xla else 'off'}, "
          f"{precision}, "
          f"{'pixels' if args.pixels else 'VGG19'} content, on {devices}; "
          f"median of {args.repeats}")
    print(f"{'part':34s} {'ms':>10s} {'share':>7s}")
    for name, seconds in parts.items():
        print(f"{name:34s} {seconds * 1000:10.1f} {seconds / total:7.1%}")
    print(f"{'whole train_step':34s} {whole * 1000:10.1f}")
    print(f"steps per second: {1 / whole:.3f}")


if __name__ == "__main__":
    main()
