"""Training speed on Keras's JAX backend: GAN steps per second of `JaxGANSteps`.

    python benchmarks/jax_train_step.py [--batch-size 16] [--patch-size 256] [--repeats 3]
                                        [--structure]

Sets `KERAS_BACKEND=jax` itself. Builds the full-size generator and both
discriminators with pixels content and the teacher terms (and, with
`--structure`, the superpixel term: `simple` superpixels on the host), feeds
random batches held in memory, and times
`--steps` steps (one G and one D update each) `--repeats` times after one
warm-up (the compilation). Prints the median steps per second; compare it with
`benchmarks/train_step.py --pixels`, the TensorFlow step, on the same machine.
"""

import argparse
import os
import statistics
import time

os.environ["KERAS_BACKEND"] = "jax"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--structure", action="store_true",
                        help="add the superpixel structure term (weight 200, as the paper)")
    args = parser.parse_args()

    import jax
    import numpy as np

    from cartoonize_tf.training.builders import build_generator
    from cartoonize_tf.training.jax.builders import build_gan_steps

    weights = {"content": 0.0, "structure": 200.0 if args.structure else 0.0, "teacher": 10.0,
               "teacher_edges": 10.0}
    steps = build_gan_steps(build_generator(), loss_weights=weights, seed=0)
    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.patch_size, args.patch_size, 3)
    batch = [rng.uniform(-1, 1, shape).astype("float32") for _ in range(3)]

    def run(count):
        for _ in range(count):
            results = steps.train_step(*batch)
        float(results["generator_loss"])  # waits for the last step

    start = time.perf_counter()
    run(1)
    compile_seconds = time.perf_counter() - start
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run(args.steps)
        rates.append(args.steps / (time.perf_counter() - start))
    devices = ", ".join(str(d) for d in jax.devices())
    print(f"JAX train_step benchmark: batch {args.batch_size}, {args.patch_size} px, pixels "
          f"content, teacher terms, {'with' if args.structure else 'no'} structure term, on "
          f"{devices} ({os.cpu_count()} CPU cores); "
          f"median of {args.repeats} runs of {args.steps} steps")
    print(f"first step (compilation): {compile_seconds:.1f} s")
    print(f"steps per second: {statistics.median(rates):.3f}")


if __name__ == "__main__":
    main()
