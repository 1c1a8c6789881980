"""The JAX trainer's steps, assembled from the parts in `training.builders`."""

from cartoonize_tf.training.builders import adam, build_discriminators
from cartoonize_tf.training.gan_objectives import GANObjectives
from cartoonize_tf.training.jax.gan import JaxGANSteps
from cartoonize_tf.training.jax.pretrainer import JaxPretrainSteps


def build_gan_steps(generator, loss_weights=None, learning_rate=None, superpixel_mode="simple",
                    seed=None):
    """`JaxGANSteps` (KERAS_BACKEND=jax) for `generator` with fresh discriminators and the
    authors' Adam; content and structure compare pixels (VGG19 is TensorFlow-only)."""
    surface, texture = build_discriminators()
    objectives = GANObjectives(generator, surface, texture, None, loss_weights=loss_weights,
                               seed=seed)
    return JaxGANSteps(objectives, adam(learning_rate), adam(learning_rate),
                       superpixel_mode=superpixel_mode, seed=seed)


def build_pretrain_steps(generator, learning_rate=None, edge_weight=0.0):
    """`JaxPretrainSteps` (KERAS_BACKEND=jax) for `generator` with the authors' Adam."""
    return JaxPretrainSteps(generator, adam(learning_rate), edge_weight=edge_weight)
