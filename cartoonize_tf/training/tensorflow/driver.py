"""A pretraining or GAN run on TensorFlow, assembled from its `RunSettings`.

Precision, strategy, run folder, data, models and checkpoint, then `model.fit`
with the shared `RunLoop` behind one callback (so XLA and `tf.distribute`
stay). What stops a run from starting or finishing is raised as `RunError` or
`DataError` with a one-line message (the command line prints it and exits 2);
progress goes to `logging`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import keras
import tensorflow as tf

from cartoonize_tf.data.dataset import TrainingData, build_dataset
from cartoonize_tf.models.loading import generator_copy
from cartoonize_tf.models.vgg_features import VGGFeatures, VGGWeightsError
from cartoonize_tf.training.builders import build_generator, load_pretrained_generator
from cartoonize_tf.training.loop import RunLoop
from cartoonize_tf.training.options import XLA_CHOICES, RunError
from cartoonize_tf.training.samples import SampleGrids
from cartoonize_tf.training.tensorflow.builders import build_gan, build_pretrainer
from cartoonize_tf.training.tensorflow.callback import KerasMetrics, LoopCallback
from cartoonize_tf.training.tensorflow.checkpoints import (
    TensorFlowCheckpoints,
    TensorFlowRunFolder,
    variables_by_path,
)
from cartoonize_tf.training.tensorflow.devices import choose_strategy, dtype_policy, is_chief

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """Where a run trains: its strategy, whether this process writes the run, its folder, data."""

    strategy: tf.distribute.Strategy
    chief: bool
    folder: TensorFlowRunFolder
    data: TrainingData


@dataclass(frozen=True)
class Trainee:
    """What a run trains: the compiled model, its `tf.train.Checkpoint`, the generator it
    saves, and the function that draws the sample grids."""

    model: keras.Model
    checkpoint: tf.train.Checkpoint
    generator: keras.Model
    render: Callable


def run_tensorflow(settings):
    """A `RunSettings` run on TensorFlow; returns `(step, folder, chief)`."""
    # Before `place`, which creates the run folder.
    pretrained = (None if settings.pretrained is None or settings.resume
                  else load_pretrained_generator(settings.pretrained))
    policy, precision = dtype_policy(settings.precision)
    logger.info("Precision: %s", precision)
    placement = place(settings)
    build = build_pretraining if settings.command == "pretrain" else build_gan_training
    with placement.strategy.scope():
        trainee = build(settings, pretrained=pretrained, policy=policy)
    if placement.chief:
        placement.folder.write_settings(settings)
    return train(settings, placement, trainee), placement.folder, placement.chief


def place(settings):
    """The run's strategy, chief, checked folder and data."""
    if settings.seed is not None:
        keras.utils.set_random_seed(settings.seed)
    strategy = choose_strategy(settings.distribute)
    chief = is_chief(strategy)
    resolver = getattr(strategy, "cluster_resolver", None)
    folder = TensorFlowRunFolder(settings.output_dir, chief,
                                 getattr(resolver, "task_id", 0) or 0)
    folder.check(settings.resume)
    data = build_dataset(settings.data_dir, settings.sides, patch_size=settings.patch_size,
                         batch_size=settings.batch_size, seed=settings.seed,
                         paired=settings.paired, flip=settings.flip)
    folder.check_writable()
    logger.info("Training data:\n%s", data.describe())
    logger.info("Devices: %d replica(s) (%s)", strategy.num_replicas_in_sync,
                ", ".join(d.name for d in tf.config.list_logical_devices()))
    return Placement(strategy=strategy, chief=chief, folder=folder, data=data)


def build_pretraining(settings, pretrained, policy):
    """The generator and its `GeneratorPretrainer` (inside the strategy's scope)."""
    generator = build_generator(pretrained=pretrained, dtype=policy,
                                cel_shading={} if settings.cel_shading else None)
    model = build_pretrainer(generator, learning_rate=settings.learning_rate,
                             edge_weight=settings.edge_weight)
    checkpoint = tf.train.Checkpoint(generator=variables_by_path(generator),
                                     optimizer=model.optimizer, step=model.train_steps)
    return Trainee(model=model, checkpoint=checkpoint, generator=generator, render=generator)


def build_gan_training(settings, pretrained, policy):
    """VGG19, the generator and the `WhiteBoxCartoonGAN` (inside the strategy's scope)."""
    vgg_weights = None if settings.vgg_weights == "none" else settings.vgg_weights
    vgg = None
    if vgg_weights != "pixels":
        try:
            vgg = VGGFeatures(weights=vgg_weights, channel_order="rgb", dtype=policy)
        except VGGWeightsError as error:
            raise RunError(str(error)) from None
    if vgg_weights is None:
        logger.warning("WARNING: --vgg-weights none: VGG19 has RANDOM weights, so the content "
                       "and structure losses are meaningless. Use this for smoke tests only; "
                       "the generator this run writes is not a real model.")
    # A pretrained BGR generator (the authors') is turned RGB, keeping its pictures.
    generator = build_generator(pretrained=pretrained, dtype=policy)
    model = build_gan(vgg, generator, learning_rate=settings.learning_rate,
                      superpixel_mode=settings.superpixel, loss_weights=settings.loss_weights,
                      xla=XLA_CHOICES[settings.xla], seed=settings.seed)
    checkpoint = tf.train.Checkpoint(
        generator=variables_by_path(generator),
        surface_discriminator=variables_by_path(model.surface_discriminator),
        texture_discriminator=variables_by_path(model.texture_discriminator),
        generator_optimizer=model.generator_optimizer,
        discriminator_optimizer=model.discriminator_optimizer, step=model.train_steps)
    return Trainee(model=model, checkpoint=checkpoint, generator=generator,
                   render=model.generate)


def train(settings, placement, trainee):
    """Restores (with --resume), fits up to `settings.steps` and saves the float32 generator
    (the chief does); returns the step reached (below --steps when Ctrl-C or SIGTERM
    stopped the run)."""
    folder, dataset = placement.folder, placement.data.dataset
    samples = (SampleGrids(folder.logs, first_photos(dataset), trainee.render)
               if settings.sample_every else None)
    with RunLoop(settings, folder=folder,
                 checkpoints=TensorFlowCheckpoints(folder.checkpoints, trainee.checkpoint),
                 losses=KerasMetrics(trainee.model), samples=samples) as loop:
        if not loop.done:
            trainee.model.fit(dataset, epochs=1, steps_per_epoch=settings.steps - loop.step,
                              verbose=0, shuffle=False, callbacks=[LoopCallback(loop)])
        return loop.finish(partial(save_float32_generator, trainee.generator)
                           if placement.chief else None)


def first_photos(dataset):
    """The photos of the dataset's first batch, for the sample grids."""
    batch = next(iter(dataset.take(1)))
    photos = batch[0] if isinstance(batch, tuple) else batch
    return photos.numpy()


def save_float32_generator(generator, path):
    """Writes the generator as a float32 `.keras` model, whatever precision it trained in."""
    generator_copy(generator, dtype="float32").save(path)
