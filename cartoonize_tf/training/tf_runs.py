"""A pretraining or GAN run on TensorFlow, assembled from its `RunSettings`.

Precision, strategy, run folder, data, models, checkpoint, the loop and the
saved generator. What stops a run from starting or finishing is raised as
`RunError` or `DataError` with a one-line message (the command line prints it
and exits 2); progress goes to `logging`.
"""

import logging

import keras
import tensorflow as tf

from cartoonize_tf.data.dataset import build_dataset
from cartoonize_tf.models.vgg_features import VGGFeatures, VGGWeightsError
from cartoonize_tf.training.builders import (
    build_gan,
    build_generator,
    build_pretrainer,
    load_pretrained_generator,
)
from cartoonize_tf.training.loop import (
    LoopSettings,
    TensorFlowRunFolder,
    choose_strategy,
    dtype_policy,
    is_chief,
    run_loop,
    save_float32_generator,
    variables_by_path,
)
from cartoonize_tf.training.options import XLA_CHOICES, RunError

logger = logging.getLogger(__name__)

# Photos of the first batch shown in TensorBoard's sample grids.
SAMPLE_COUNT = 4


def prepare_run(settings):
    """Strategy, run folder and data: `(strategy, chief, folder, data, loop)`."""
    if settings.seed is not None:
        keras.utils.set_random_seed(settings.seed)
    strategy = choose_strategy(settings.distribute)
    chief = is_chief(strategy)
    resolver = getattr(strategy, "cluster_resolver", None)
    folder = TensorFlowRunFolder(settings.output_dir, chief,
                                 getattr(resolver, "task_id", 0) or 0)
    folder.check(settings.resume)
    data = build_dataset(settings.data_dir, settings.sides, settings.patch_size,
                         settings.batch_size, settings.seed, settings.paired, flip=settings.flip)
    folder.check_writable()
    logger.info("Training data:\n%s", data.describe())
    logger.info("Devices: %d replica(s) (%s)", strategy.num_replicas_in_sync,
                ", ".join(d.name for d in tf.config.list_logical_devices()))
    loop = LoopSettings(settings.steps, settings.log_every, settings.sample_every,
                        settings.save_every, settings.progress)
    return strategy, chief, folder, data, loop


def first_photos(dataset, count=SAMPLE_COUNT):
    """A few photos from the first batch, for the TensorBoard sample grids."""
    batch = next(iter(dataset.take(1)))
    photos = batch[0] if isinstance(batch, tuple) else batch
    return photos[:count].numpy()


def train_and_save(settings, model, checkpoint, chief, folder, data, loop, generator, render):
    """Records the settings, runs the loop and saves the float32 generator (the chief does);
    returns the final step (below --steps when Ctrl-C or SIGTERM stopped the run)."""
    if chief:
        folder.write_settings(settings)
    step = run_loop(model, checkpoint, folder, data.dataset, loop,
                    first_photos(data.dataset), render, settings.resume)
    if chief:
        save_float32_generator(generator, folder.generator)
    return step


def run_tensorflow(settings):
    """A `RunSettings` run on TensorFlow; returns `(step, folder, chief)`."""
    run = run_pretraining if settings.command == "pretrain" else run_gan_training
    # Before prepare_run, which creates the run folder.
    pretrained = (None if settings.pretrained is None or settings.resume
                  else load_pretrained_generator(settings.pretrained))
    policy, precision = dtype_policy(settings.precision)
    logger.info("Precision: %s", precision)
    return run(settings, pretrained, policy, *prepare_run(settings))


def run_pretraining(settings, pretrained, policy, strategy, chief, folder, data, loop):
    with strategy.scope():
        generator = build_generator(pretrained=pretrained, dtype=policy,
                                    cel_shading={} if settings.cel_shading else None)
        model = build_pretrainer(generator, learning_rate=settings.learning_rate,
                                 edge_weight=settings.edge_weight)
    checkpoint = tf.train.Checkpoint(generator=variables_by_path(generator),
                                     optimizer=model.optimizer, step=model.train_steps)
    step = train_and_save(settings, model, checkpoint, chief, folder, data, loop, generator,
                          generator)
    return step, folder, chief


def run_gan_training(settings, pretrained, policy, strategy, chief, folder, data, loop):
    vgg_weights = None if settings.vgg_weights == "none" else settings.vgg_weights
    vgg = None
    if vgg_weights != "pixels":
        try:
            with strategy.scope():
                vgg = VGGFeatures(weights=vgg_weights, channel_order="rgb", dtype=policy)
        except VGGWeightsError as error:
            raise RunError(str(error)) from None
    if vgg_weights is None:
        logger.warning("WARNING: --vgg-weights none: VGG19 has RANDOM weights, so the content "
                       "and structure losses are meaningless. Use this for smoke tests only; "
                       "the generator this run writes is not a real model.")
    with strategy.scope():
        # A pretrained BGR generator (the authors') is turned RGB, keeping its pictures.
        generator = build_generator(pretrained=pretrained, dtype=policy)
        model = build_gan(vgg, generator, learning_rate=settings.learning_rate,
                          superpixel_mode=settings.superpixel,
                          loss_weights=settings.loss_weights, xla=XLA_CHOICES[settings.xla],
                          seed=settings.seed)
    checkpoint = tf.train.Checkpoint(
        generator=variables_by_path(generator),
        surface_discriminator=variables_by_path(model.surface_discriminator),
        texture_discriminator=variables_by_path(model.texture_discriminator),
        generator_optimizer=model.generator_optimizer,
        discriminator_optimizer=model.discriminator_optimizer, step=model.train_steps)
    step = train_and_save(settings, model, checkpoint, chief, folder, data, loop, generator,
                          model.generate)
    return step, folder, chief
