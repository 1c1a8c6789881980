"""The two-discriminator White-box Cartoonization GAN with its own `train_step`."""

import keras
import tensorflow as tf

from cartoonize_tf.layers.color_shift import ColorShift
from cartoonize_tf.layers.guided_filter import guided_filter
from cartoonize_tf.layers.superpixel import Superpixel
from cartoonize_tf.training import losses
from cartoonize_tf.training.options import DEFAULT_LOSS_WEIGHTS

# "G's output" in training: the generator's raw output filtered with the photo as guide.
TRAINING_FILTER = {"radius": 1, "eps": 1e-2}
# The surface representation: each image filtered with itself.
SURFACE_FILTER = {"radius": 5, "eps": 0.2}
GENERATOR_METRICS = ("generator_loss", "total_variation", "surface_g", "texture_g", "content",
                     "structure", "teacher", "teacher_edges")
DISCRIMINATOR_METRICS = ("discriminator_loss", "surface_d", "texture_d")


def replica_share(loss):
    """The loss to differentiate: gradients are summed over replicas, so each takes its share."""
    return loss / tf.distribute.get_strategy().num_replicas_in_sync


def gradients_by_path(optimizer, gradients, variables):
    """`{variable path: gradient}`, with a `LossScaleOptimizer`'s loss scale divided out."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        gradients = [g / tf.cast(optimizer.dynamic_scale, g.dtype) for g in gradients]
    return {variable.path: gradient for variable, gradient in zip(variables, gradients)}


class WhiteBoxCartoonGAN(keras.Model):
    """Generator, surface and texture discriminators, and the losses that train them.

    Each `train_step` takes `(photos, cartoons)` in [-1, 1] (or `(photos,
    cartoons, teachers)`, see `loss_weights`) and:
    1. runs G on the photos and computes superpixels of its output (CPU);
    2. updates G on `1e4 tv + 0.1 surface + texture + 200 (content + structure)`
       (the discriminators in training mode: their spectral-norm `u` advances);
    3. updates both discriminators (one optimiser) on `surface + texture`,
       against a fresh output of the updated G, as the authors' code did.

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
        >>> gan = WhiteBoxCartoonGAN(generator, PatchDiscriminator(), PatchDiscriminator(), vgg)
        >>> adam = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-8}
        >>> gan.compile(generator_optimizer=keras.optimizers.Adam(**adam),
        ...             discriminator_optimizer=keras.optimizers.Adam(**adam))
        >>> gan.fit(dataset, steps_per_epoch=1000)
    """

    def __init__(self, generator, surface_discriminator, texture_discriminator, vgg_features,
                 superpixel_mode="simple", loss_weights=None, xla="auto", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.surface_discriminator = surface_discriminator
        self.texture_discriminator = texture_discriminator
        self.vgg_features = vgg_features
        self.superpixel_mode = superpixel_mode
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.seed = seed
        self.xla = bool(tf.config.list_physical_devices("GPU")) if xla == "auto" else bool(xla)
        order = generator.channel_order
        self.superpixel = Superpixel(superpixel_mode, channel_order=order)
        self.color_shift = ColorShift(channel_order=order, seed=seed)
        self.train_steps = keras.Variable(0, dtype="int64", trainable=False, name="train_steps",
                                          aggregation="only_first_replica")
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in GENERATOR_METRICS + DISCRIMINATOR_METRICS}
        compile_step = tf.function(jit_compile=True) if self.xla else (lambda f: f)
        self.generator_update = compile_step(self._generator_update)
        self.discriminator_update = compile_step(self._discriminator_update)
        for model, channels in ((generator, 3), (surface_discriminator, 3),
                                (texture_discriminator, 1)):
            if not model.built:
                model.build((None, None, None, channels))
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

    def generate(self, photos, training=False):
        """G's output as the losses see it: guided-filtered with the photo as guide."""
        raw = tf.cast(self.generator(photos, training=training), tf.float32)
        return guided_filter(photos, raw, **TRAINING_FILTER)

    def surface(self, images):
        return guided_filter(images, images, **SURFACE_FILTER)

    def features(self, images):
        """What the content and structure terms compare: VGG19 features, or the pixels."""
        if self.vgg_features is None:
            return images
        return tf.cast(self.vgg_features(images), tf.float32)

    def feature_loss(self, features_a, features_b):
        if self.vgg_features is None:
            return losses.pixel_l1_loss(features_a, features_b)
        return losses.feature_l1_loss(features_a, features_b)

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
        # (The Superpixel layer returns its compute dtype: float16 under mixed precision.)
        if superpixels is None:
            photo_features, superpixel_features = self.features(photos), None
        else:
            photo_features, superpixel_features = tf.split(
                self.features(tf.concat([photos, tf.cast(superpixels, photos.dtype)], 0)), 2)
        with tf.GradientTape() as tape:
            fake = self.generate(photos, training=True)
            fake_grey = self.color_shift(fake, weights=shift_weights)
            surface_g = losses.lsgan_generator_loss(tf.cast(
                self.surface_discriminator(self.surface(fake), training=True), tf.float32))
            texture_g = losses.lsgan_generator_loss(tf.cast(
                self.texture_discriminator(fake_grey, training=True), tf.float32))
            fake_features = self.features(fake)
            content = self.feature_loss(photo_features, fake_features)
            structure = (tf.zeros([]) if superpixel_features is None
                         else self.feature_loss(superpixel_features, fake_features))
            total_variation = losses.total_variation_loss(fake)
            if teachers is None:
                teacher = teacher_edges = tf.zeros([])
            else:
                teachers = tf.cast(teachers, fake.dtype)
                teacher = losses.pixel_l1_loss(fake, teachers)
                teacher_edges = losses.edge_l1(fake, teachers)
            w = self.loss_weights
            generator_loss = (w["total_variation"] * total_variation + w["surface"] * surface_g
                              + w["texture"] * texture_g + w["content"] * content
                              + w["structure"] * structure + w["teacher"] * teacher
                              + w["teacher_edges"] * teacher_edges)
            scaled = self.generator_optimizer.scale_loss(replica_share(generator_loss))
        variables = self.generator.trainable_variables
        gradients = tape.gradient(scaled, variables)
        # Read before `apply`, which may change a loss scale.
        reported = (gradients_by_path(self.generator_optimizer, gradients, variables)
                    if return_gradients else None)
        self.generator_optimizer.apply(gradients, variables)
        results = {"generator_loss": generator_loss, "total_variation": total_variation,
                   "surface_g": surface_g, "texture_g": texture_g, "content": content,
                   "structure": structure, "teacher": teacher, "teacher_edges": teacher_edges}
        if return_gradients:
            return results, reported
        return results

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
        fake = tf.stop_gradient(self.generate(photos))
        fake_grey, cartoon_grey = self.color_shift([fake, cartoons], weights=shift_weights)
        with tf.GradientTape() as tape:
            # Real and fake in one call: one spectral-norm power iteration per update.
            surface_logits = tf.cast(self.surface_discriminator(
                tf.concat([self.surface(cartoons), self.surface(fake)], 0), training=True),
                tf.float32)
            texture_logits = tf.cast(self.texture_discriminator(
                tf.concat([cartoon_grey, fake_grey], 0), training=True), tf.float32)
            surface_d = losses.lsgan_discriminator_loss(*tf.split(surface_logits, 2))
            texture_d = losses.lsgan_discriminator_loss(*tf.split(texture_logits, 2))
            discriminator_loss = surface_d + texture_d
            scaled = self.discriminator_optimizer.scale_loss(replica_share(discriminator_loss))
        variables = self.discriminator_variables
        gradients = tape.gradient(scaled, variables)
        # Read before `apply`, which may change a loss scale.
        reported = (gradients_by_path(self.discriminator_optimizer, gradients, variables)
                    if return_gradients else None)
        self.discriminator_optimizer.apply(gradients, variables)
        results = {"discriminator_loss": discriminator_loss, "surface_d": surface_d,
                   "texture_d": texture_d}
        if return_gradients:
            return results, reported
        return results

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

    def call(self, photos, training=False):
        return self.generate(photos, training=training)
