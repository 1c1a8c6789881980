"""The White-box GAN's two objectives, in `keras.ops`: one definition for every backend.

`WhiteBoxCartoonGAN` (TensorFlow, `tf.GradientTape`) and `JaxGANSteps` (JAX,
`jax.value_and_grad`) both differentiate these, so the loss the GPU path
trains with is the loss the parity tests check.
"""

from keras import ops

from cartoonize_tf.layers.color_shift import ColorShift
from cartoonize_tf.layers.guided_filter import guided_filter
from cartoonize_tf.training import losses
from cartoonize_tf.training.options import DEFAULT_LOSS_WEIGHTS

# "G's output" in training: the generator's raw output filtered with the photo as guide.
TRAINING_FILTER = {"radius": 1, "eps": 1e-2}
# The surface representation: each image filtered with itself.
SURFACE_FILTER = {"radius": 5, "eps": 0.2}
GENERATOR_METRICS = ("generator_loss", "total_variation", "surface_g", "texture_g", "content",
                     "structure", "teacher", "teacher_edges")
DISCRIMINATOR_METRICS = ("discriminator_loss", "surface_d", "texture_d")


class GANObjectives:
    """Generator, surface and texture discriminators, and the losses that train them.

    Args:
        generator: a `UNetGenerator`.
        surface_discriminator, texture_discriminator: `PatchDiscriminator`s
            (the texture one takes one grey channel).
        vgg_features: a frozen `VGGFeatures` for the content and structure losses,
            or None to compare pixels instead (mean absolute difference).
        loss_weights: overrides of `DEFAULT_LOSS_WEIGHTS`.
        seed: seed for the colour-shift draws.
    """

    def __init__(self, generator, surface_discriminator, texture_discriminator, vgg_features,
                 loss_weights=None, seed=None):
        self.generator = generator
        self.surface_discriminator = surface_discriminator
        self.texture_discriminator = texture_discriminator
        self.vgg_features = vgg_features
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.color_shift = ColorShift(channel_order=generator.channel_order, seed=seed)

    def generate(self, photos, training=False):
        """G's output as the losses see it: guided-filtered with the photo as guide."""
        raw = ops.cast(self.generator(photos, training=training), "float32")
        return guided_filter(photos, raw, **TRAINING_FILTER)

    def surface(self, images):
        return guided_filter(images, images, **SURFACE_FILTER)

    def features(self, images):
        """What the content and structure terms compare: VGG19 features, or the pixels."""
        if self.vgg_features is None:
            return images
        return ops.cast(self.vgg_features(images), "float32")

    def feature_loss(self, features_a, features_b):
        if self.vgg_features is None:
            return losses.pixel_l1_loss(features_a, features_b)
        return losses.feature_l1_loss(features_a, features_b)

    def target_features(self, photos, superpixels):
        """The content and structure targets' features (no gradient needed through them).

        Returns `(photo features, superpixel features or None)`; `superpixels` is
        None when the structure term is off.
        """
        if superpixels is None:
            return self.features(photos), None
        both = self.features(ops.concatenate([photos, ops.cast(superpixels, photos.dtype)], 0))
        return tuple(ops.split(both, 2))

    def generator_objective(self, photos, photo_features, superpixel_features=None,
                            shift_weights=None, teachers=None):
        """`(generator loss, {term: value})` for one batch, G and both discriminators training.

        The loss is `1e4 tv + 0.1 surface + texture + 200 (content + structure)`
        with the paper's weights, plus the optional teacher terms. The
        discriminators run in training mode (their spectral-norm `u` advances),
        as in the authors' step.

        Args:
            photos: `[N, H, W, 3]` in [-1, 1].
            photo_features, superpixel_features: from `target_features`.
            shift_weights: optional dict "r", "g", "b" -> colour-shift weight for
                this step (before normalisation); by default they are drawn.
            teachers: a teacher's cartoon of each photo, for the "teacher" and
                "teacher_edges" terms.
        """
        fake = self.generate(photos, training=True)
        fake_grey = self.color_shift(fake, weights=shift_weights)
        surface_g = losses.lsgan_generator_loss(ops.cast(
            self.surface_discriminator(self.surface(fake), training=True), "float32"))
        texture_g = losses.lsgan_generator_loss(ops.cast(
            self.texture_discriminator(fake_grey, training=True), "float32"))
        fake_features = self.features(fake)
        content = self.feature_loss(photo_features, fake_features)
        structure = (ops.zeros(()) if superpixel_features is None
                     else self.feature_loss(superpixel_features, fake_features))
        total_variation = losses.total_variation_loss(fake)
        if teachers is None:
            teacher = teacher_edges = ops.zeros(())
        else:
            teachers = ops.cast(teachers, fake.dtype)
            teacher = losses.pixel_l1_loss(fake, teachers)
            teacher_edges = losses.edge_l1(fake, teachers)
        terms = {"total_variation": total_variation, "surface_g": surface_g,
                 "texture_g": texture_g, "content": content, "structure": structure,
                 "teacher": teacher, "teacher_edges": teacher_edges}
        w = self.loss_weights
        generator_loss = (w["total_variation"] * total_variation + w["surface"] * surface_g
                          + w["texture"] * texture_g + w["content"] * content
                          + w["structure"] * structure + w["teacher"] * teacher
                          + w["teacher_edges"] * teacher_edges)
        return generator_loss, {"generator_loss": generator_loss, **terms}

    def discriminator_inputs(self, photos, cartoons, shift_weights=None):
        """G's fresh output (no gradient) and both sides' grey images for the D update."""
        fake = ops.stop_gradient(self.generate(photos))
        fake_grey, cartoon_grey = self.color_shift([fake, cartoons], weights=shift_weights)
        return fake, fake_grey, cartoon_grey

    def discriminator_objective(self, cartoons, fake, cartoon_grey, fake_grey):
        """`(discriminator loss, {term: value})`: LSGAN on the surface and the texture.

        Real and fake go through each discriminator in one call: one
        spectral-norm power iteration per update.
        """
        surface_logits = ops.cast(self.surface_discriminator(
            ops.concatenate([self.surface(cartoons), self.surface(fake)], 0), training=True),
            "float32")
        texture_logits = ops.cast(self.texture_discriminator(
            ops.concatenate([cartoon_grey, fake_grey], 0), training=True), "float32")
        surface_d = losses.lsgan_discriminator_loss(*ops.split(surface_logits, 2))
        texture_d = losses.lsgan_discriminator_loss(*ops.split(texture_logits, 2))
        discriminator_loss = surface_d + texture_d
        return discriminator_loss, {"discriminator_loss": discriminator_loss,
                                    "surface_d": surface_d, "texture_d": texture_d}
