"""`pretrain` and `train` on Keras's JAX backend (`KERAS_BACKEND=jax`): on a GPU without TF.

They train the same losses with `JaxPretrainSteps` and `JaxGANSteps` on numpy
patches. What needs TensorFlow is refused with a message: VGG19 features,
distribution and mixed precision.
"""

from cartoonize_tf.cli.stopped import report_stop
from cartoonize_tf.training.options import XLA_CHOICES, RunError, gan_sides, pretraining_sides


def unsupported_options(args):
    """Messages for the options the JAX trainers do not take."""
    problems = []
    if getattr(args, "vgg_weights", "pixels") != "pixels":
        problems.append("--vgg-weights pixels (the VGG19 features are TensorFlow-only)")
    if args.distribute != "none":
        problems.append("--distribute none (one device)")
    if args.precision not in ("auto", "float32"):
        problems.append("--precision float32 (the JAX steps compute in float32)")
    if getattr(args, "cel_shading", False):
        problems.append("no --cel-shading (train through the stage on TensorFlow)")
    if XLA_CHOICES[getattr(args, "xla", "auto")] is False:
        problems.append("--xla auto or on (every JAX step is compiled)")
    return problems


def run_jax_command(args, name, sides, paired, build_steps):
    """Checks, data, the run and its report, for command `name`; returns the exit code.

    `build_steps(generator)` makes the command's steps from the generator to train.
    """
    from cartoonize_tf.data.patch_sampler import PatchSampler
    from cartoonize_tf.training.builders import build_generator, load_pretrained_generator
    from cartoonize_tf.training.jax_loop import JaxRunFolder, run_jax_training

    problems = unsupported_options(args)
    if problems:
        raise RunError(f"with KERAS_BACKEND=jax, {name} needs " + "; ".join(problems))
    folder = JaxRunFolder(args.output_dir)
    folder.check(args.resume)
    folder.check_writable()
    try:
        pretrained = None if args.pretrained is None else load_pretrained_generator(args.pretrained)
    except OSError as error:
        raise RunError(f"cannot read --pretrained {args.pretrained}: {error}") from None
    sampler = PatchSampler(args.data_dir, sides, args.patch_size, args.batch_size,
                           seed=args.seed, paired=paired, flip=args.flip)
    print(f"Training data:\n{sampler.describe()}")
    import jax

    print(f"Devices: {', '.join(str(d) for d in jax.devices())}")
    steps = build_steps(build_generator(pretrained=pretrained))
    folder.write_settings(args)
    try:
        step = run_jax_training(steps, sampler, folder, args.steps, args.save_every,
                                args.log_every, not args.no_progress, args.resume)
    except OSError as error:  # the metrics log could not be written
        raise RunError(str(error)) from None
    if step < args.steps:
        return report_stop(name, step, args, folder)
    print(f"{name.capitalize()} done at step {step}: {folder.generator}")
    print(f"Cartoonize with: python test_code/cartoonize.py --model {folder.generator}")
    return 0


def jax_pretrain_command(args):
    from cartoonize_tf.training.builders import adam
    from cartoonize_tf.training.jax_pretrainer import JaxPretrainSteps

    def build_steps(generator):
        return JaxPretrainSteps(generator, adam(args.learning_rate), edge_weight=args.edge_weight)

    return run_jax_command(args, "pretrain", pretraining_sides(args.paired), args.paired,
                           build_steps)


def jax_train_command(args):
    from cartoonize_tf.training.jax_gan import build_jax_gan_steps

    loss_weights = dict(args.loss_weight)

    def build_steps(generator):
        return build_jax_gan_steps(generator, loss_weights=loss_weights,
                                   learning_rate=args.learning_rate,
                                   superpixel_mode=args.superpixel, seed=args.seed)

    return run_jax_command(args, "train", gan_sides(loss_weights), False, build_steps)
