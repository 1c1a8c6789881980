"""The two-discriminator White-box Cartoonization GAN with its own `train_step`."""

import keras
import tensorflow as tf

from cartoonize_tf.layers.superpixel import Superpixel
from cartoonize_tf.training.gan_objectives import (
    DISCRIMINATOR_METRICS,
    GENERATOR_METRICS,
    GANObjectives,
)
from cartoonize_tf.training.tensorflow.gradients import apply_gradients, replica_share


class WhiteBoxCartoonGAN(keras.Model):
    """Generator, surface and texture discriminators, and the losses that train them.

    Each `train_step` takes `(photos, cartoons)` in [-1, 1] (or `(photos,
    cartoons, teachers)`, see `loss_weights`) and:
    1. runs G on the photos and computes superpixels of its output (CPU);
    2. updates G on `1e4 tv + 0.1 surface + texture + 200 (content + structure)`
       (the discriminators in training mode: their spectral-norm `u` advances);
    3. updates both discriminators (one optimiser) on `surface + texture`,
       against a fresh output of the updated G, as the authors' code did.

    The losses are its `objectives`, a `GANObjectives` (the JAX trainer's
    `JaxGANSteps` holds one the same way); this class adds TensorFlow's side:
    gradient tapes, XLA, replicas, loss scaling and the superpixel step.

    Args:
        generator: a `UNetGenerator`.
        surface_discriminator, texture_discriminator: `PatchDiscriminator`s
            (the texture one takes one grey channel).
        vgg_features: a frozen `VGGFeatures` for the content and structure losses,
            or None to compare pixels instead (mean absolute difference), where
            no trained VGG19 is at hand.
        superpixel_mode: one of `SUPERPIXEL_MODES`.
        loss_weights: overrides of `DEFAULT_LOSS_WEIGHTS`; positive "teacher"
            and "teacher_edges" weights add the L1 distance of G's output, and of
            its pixel differences, to the batch's teachers (a teacher's cartoon of
            each photo: the project's renderer).
        xla: compile the G and D updates with XLA (the superpixel step stays
            outside); "auto" means on GPU only.
        seed: seed for the colour-shift draws.
        **kwargs: standard `keras.Model` arguments.

    Example:
        >>> import numpy as np
        >>> from cartoonize_tf.models.generator import UNetGenerator
        >>> from cartoonize_tf.training.builders import build_discriminators
        >>> surface, texture = build_discriminators()  # RGB and grey input
        >>> gan = WhiteBoxCartoonGAN(UNetGenerator(), surface, texture,
        ...                          vgg_features=None)  # or VGGFeatures(): the paper's VGG19
        >>> adam = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-8}
        >>> gan.compile(generator_optimizer=keras.optimizers.Adam(**adam),
        ...             discriminator_optimizer=keras.optimizers.Adam(**adam))
        >>> batch = np.random.default_rng(0).uniform(-1, 1, (2, 4, 32, 32, 3)).astype(np.float32)
        >>> photos, cartoons = batch  # each [N, H, W, 3] in [-1, 1]
        >>> dataset = tf.data.Dataset.from_tensors((photos, cartoons)).repeat()
        >>> history = gan.fit(dataset, steps_per_epoch=2, verbose=0)
        >>> int(gan.train_steps)
        2
    """

    def __init__(self, generator, surface_discriminator, texture_discriminator, vgg_features,
                 superpixel_mode="simple", loss_weights=None, xla="auto", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.objectives = GANObjectives(generator, surface_discriminator, texture_discriminator,
                                        vgg_features, loss_weights=loss_weights, seed=seed)
        # The parts, tracked by Keras as the model's own.
        self.generator = generator
        self.surface_discriminator = surface_discriminator
        self.texture_discriminator = texture_discriminator
        self.vgg_features = vgg_features
        self.superpixel_mode = superpixel_mode
        self.seed = seed
        self.xla = bool(tf.config.list_physical_devices("GPU")) if xla == "auto" else bool(xla)
        self.superpixel = Superpixel(superpixel_mode, channel_order=generator.channel_order)
        self.train_steps = keras.Variable(0, dtype="int64", trainable=False, name="train_steps",
                                          aggregation="only_first_replica")
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in GENERATOR_METRICS + DISCRIMINATOR_METRICS}
        compile_step = tf.function(jit_compile=True) if self.xla else (lambda f: f)
        self.generator_update = compile_step(self._generator_update)
        self.discriminator_update = compile_step(self._discriminator_update)
        self.built = True  # every part is built; the GAN itself holds no weights of its own

    def compile(self, generator_optimizer, discriminator_optimizer, **kwargs):
        # The superpixel step is a tf.py_function: the step as a whole cannot be XLA-compiled.
        super().compile(jit_compile=False, **kwargs)
        if self.generator.dtype_policy.name == "mixed_float16":
            generator_optimizer = keras.optimizers.LossScaleOptimizer(generator_optimizer)
            discriminator_optimizer = keras.optimizers.LossScaleOptimizer(discriminator_optimizer)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer

    def build_optimizers(self):
        """Creates the optimiser slots now (needed before restoring a checkpoint)."""
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator_variables)

    @property
    def discriminator_variables(self):
        return (self.surface_discriminator.trainable_variables
                + self.texture_discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _generator_update(self, photos, superpixels, shift_weights=None,
                          return_gradients=False, teachers=None):
        """One Adam step of G; returns the losses (and, if asked, the gradients).

        The discriminators run in training mode, as in the authors' step: they
        convolve with W / sigma and their spectral-norm `u` advances one power
        iteration; their kernels and biases are left alone.

        Args:
            photos: `[N, H, W, 3]` in [-1, 1].
            superpixels: the structure target (superpixels of G's output), like `photos`;
                None when the structure term is off.
            shift_weights: optional dict "r", "g", "b" -> colour-shift weight for
                this step (before normalisation); by default they are drawn.
            return_gradients: also return `{variable path: gradient}` of the
                generator loss (this replica's share, without loss scaling).
            teachers: a teacher's cartoon of each photo, for the "teacher" and
                "teacher_edges" terms.
        """
        # The targets' features need no gradient: computed outside the tape, the
        # backward pass through VGG covers G's output alone.
        photo_features, superpixel_features = self.objectives.target_features(photos,
                                                                              superpixels)
        with tf.GradientTape() as tape:
            generator_loss, results = self.objectives.generator_objective(
                photos, photo_features, superpixel_features, shift_weights, teachers)
            scaled = self.generator_optimizer.scale_loss(replica_share(generator_loss))
        reported = apply_gradients(self.generator_optimizer, tape, scaled,
                                   self.generator.trainable_variables, report=return_gradients)
        return (results, reported) if return_gradients else results

    def _discriminator_update(self, photos, cartoons, shift_weights=None,
                              return_gradients=False):
        """One Adam step of both discriminators; returns the losses (and, if asked, gradients).

        Args:
            photos, cartoons: `[N, H, W, 3]` in [-1, 1]; G's output is recomputed
                from `photos` (after G's own update, as in the authors' loop).
            shift_weights: optional dict "r", "g", "b" -> colour-shift weight for
                this step (before normalisation); by default they are drawn.
            return_gradients: also return `{variable path: gradient}` of the
                discriminator loss (for the raw kernels; this replica's share,
                without loss scaling).
        """
        fake, fake_grey, cartoon_grey = self.objectives.discriminator_inputs(photos, cartoons,
                                                                             shift_weights)
        with tf.GradientTape() as tape:
            discriminator_loss, results = self.objectives.discriminator_objective(
                cartoons, fake, cartoon_grey, fake_grey)
            scaled = self.discriminator_optimizer.scale_loss(replica_share(discriminator_loss))
        reported = apply_gradients(self.discriminator_optimizer, tape, scaled,
                                   self.discriminator_variables, report=return_gradients)
        return (results, reported) if return_gradients else results

    def train_step(self, data):
        photos, cartoons, *teachers = data
        # The structure term's target; with that term off, the superpixel step (the slowest
        # part of a CPU step) is skipped.
        superpixels = (self.superpixel(self.generate(photos)) if self.loss_weights["structure"]
                       else None)
        results = self.generator_update(photos, superpixels,
                                        teachers=teachers[0] if teachers else None)
        results.update(self.discriminator_update(photos, cartoons))
        for name, value in results.items():
            self.trackers[name].update_state(value)
        self.train_steps.assign_add(1)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @property
    def loss_weights(self):
        return self.objectives.loss_weights

    def generate(self, photos, training=False):
        """G's output as the losses see it (guided-filtered)."""
        return self.objectives.generate(photos, training=training)

    def call(self, photos, training=False):
        return self.generate(photos, training=training)
