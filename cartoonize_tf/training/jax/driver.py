"""A pretraining or GAN run on Keras's JAX backend (`KERAS_BACKEND=jax`): on a GPU without TF.

The same losses as the TensorFlow runs, through `JaxPretrainSteps` and
`JaxGANSteps` on numpy patches, in a plain loop around the shared `RunLoop`.
What needs TensorFlow is refused with a message: VGG19 features,
distribution and mixed precision.
"""

import itertools
import logging

from cartoonize_tf.data.patch_sampler import PatchSampler
from cartoonize_tf.training.builders import build_generator, load_pretrained_generator
from cartoonize_tf.training.jax.checkpoints import JaxRunFolder, NpzCheckpoints
from cartoonize_tf.training.loop import LossWindow, RunLoop
from cartoonize_tf.training.options import XLA_CHOICES, RunError
from cartoonize_tf.training.samples import SampleGrids

logger = logging.getLogger(__name__)


def unsupported_options(settings):
    """Messages for the settings the JAX trainers do not take."""
    problems = []
    if settings.command == "train" and settings.vgg_weights != "pixels":
        problems.append("--vgg-weights pixels (the VGG19 features are TensorFlow-only)")
    if settings.distribute != "none":
        problems.append("--distribute none (one device)")
    if settings.precision not in ("auto", "float32"):
        problems.append("--precision float32 (the JAX steps compute in float32)")
    if settings.cel_shading:
        problems.append("no --cel-shading (train through the stage on TensorFlow)")
    if XLA_CHOICES[settings.xla] is False:
        problems.append("--xla auto or on (every JAX step is compiled)")
    return problems


def build_steps(settings, generator):
    """The compiled steps and their state for `settings.command`."""
    from cartoonize_tf.training.jax.builders import build_gan_steps, build_pretrain_steps

    if settings.command == "pretrain":
        return build_pretrain_steps(generator, learning_rate=settings.learning_rate,
                                    edge_weight=settings.edge_weight)
    return build_gan_steps(generator, loss_weights=settings.loss_weights,
                           learning_rate=settings.learning_rate,
                           superpixel_mode=settings.superpixel, seed=settings.seed)


def run_jax(settings):
    """A `RunSettings` run on JAX; returns `(step, folder, chief)` (always the chief)."""
    problems = unsupported_options(settings)
    if problems:
        raise RunError(f"with KERAS_BACKEND=jax, {settings.command} needs " + "; ".join(problems))
    folder = JaxRunFolder(settings.output_dir)
    folder.check(settings.resume)
    folder.check_writable()
    pretrained = (None if settings.pretrained is None or settings.resume
                  else load_pretrained_generator(settings.pretrained))
    sampler = PatchSampler(settings.data_dir, settings.sides, patch_size=settings.patch_size,
                           batch_size=settings.batch_size, seed=settings.seed,
                           paired=settings.paired, flip=settings.flip)
    logger.info("Training data:\n%s", sampler.describe())
    import jax

    logger.info("Devices: %s", ", ".join(str(d) for d in jax.devices()))
    steps = build_steps(settings, build_generator(pretrained=pretrained))
    folder.write_settings(settings)
    return train(steps, sampler, folder, settings), folder, True


def train(steps, sampler, folder, settings):
    """Trains `steps` (`JaxGANSteps` or `JaxPretrainSteps`) on `sampler`'s batches up to
    `settings.steps`, in `folder`; returns the step reached.

    The `RunLoop` does the rest: the losses, the samples (photos of the first
    batch), the checkpoints, the stop on Ctrl-C or SIGTERM (so `timeout` gives
    a run a time budget; `--resume` continues it) and the saved generator.
    """
    first = sampler.next_batch()
    batches = itertools.chain([first], iter(sampler.next_batch, None))
    samples = SampleGrids(folder.logs, first[0], steps.render) if settings.sample_every else None
    with RunLoop(settings, folder=folder, checkpoints=NpzCheckpoints(folder.checkpoints, steps),
                 losses=LossWindow(), samples=samples) as loop:
        while not loop.done:
            loop.after_step(steps.train_step(*next(batches)))
        return loop.finish(lambda path: save_generator(steps, path))


def save_generator(steps, path):
    """Writes the trained generator (its variables set from the state first) to `path`."""
    steps.sync_variables()
    steps.generator.save(path)
