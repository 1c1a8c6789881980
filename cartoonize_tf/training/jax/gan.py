"""The White-box GAN's G and D updates on Keras's JAX backend, jit-compiled.

Run with `KERAS_BACKEND=jax`. The objectives are `GANObjectives`, the ones
`WhiteBoxCartoonGAN` differentiates with TensorFlow; here every variable is
passed in and out as arrays (JAX's functional style) through
`keras.StatelessScope`, and the updates are `jax.jit`-compiled whole.
"""

import jax
import numpy as np

from cartoonize_tf.training.jax.state import JaxTrainingState
from cartoonize_tf.whitebox.superpixels import superpixel_batch

STATE_GROUPS = ("generator", "discriminators", "discriminator_states", "generator_optimizer",
                "discriminator_optimizer")


class JaxGANSteps(JaxTrainingState):
    """One G update then one D update per `train_step`, as `WhiteBoxCartoonGAN` does.

    With a structure weight, each step first runs G on the photos (compiled)
    and computes the superpixels of its output on the host, in the worker pool
    the TensorFlow trainer's `Superpixel` layer uses; the compiled update
    then takes them as its target.

    Args:
        objectives: a `GANObjectives` with `vgg_features=None` (content and
            structure compare pixels): the VGG features are TensorFlow-only.
        generator_optimizer, discriminator_optimizer: Keras optimisers.
        superpixel_mode: one of `SUPERPIXEL_MODES`, for the structure term.
        seed: seed for the colour-shift draws.
    """

    def __init__(self, objectives, generator_optimizer, discriminator_optimizer,
                 superpixel_mode="simple", seed=None):
        if objectives.vgg_features is not None:
            raise ValueError("The JAX steps train without VGG19: use --vgg-weights pixels")
        self.objectives = objectives
        self.superpixel_mode = superpixel_mode
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.rng = np.random.default_rng(seed)
        discriminators = (objectives.surface_discriminator, objectives.texture_discriminator)
        generator_variables = objectives.generator.trainable_variables
        discriminator_variables = [v for d in discriminators for v in d.trainable_variables]
        # The spectral-norm vectors `u`, which every training-mode call advances.
        self.discriminator_state_variables = [v for d in discriminators
                                              for v in d.non_trainable_variables]
        generator_optimizer.build(generator_variables)
        discriminator_optimizer.build(discriminator_variables)
        super().__init__(dict(zip(STATE_GROUPS, (
            generator_variables, discriminator_variables, self.discriminator_state_variables,
            generator_optimizer.variables, discriminator_optimizer.variables), strict=True)),
            objectives.generator)
        self._step = jax.jit(self._train_step)
        self._generate = jax.jit(self._generate_output)

    def draw_shift_weights(self):
        """Colour-shift weights for one update, drawn on the host from the paper's ranges."""
        ranges = self.objectives.color_shift.weight_ranges
        return {c: np.float32(self.rng.uniform(*ranges[c])) for c in "rgb"}

    def train_step(self, photos, cartoons, teachers=None, shift_weights=None):
        """One G and one D update on a batch in [-1, 1]; returns `{loss term: scalar array}`.

        The results stay on the device (reading them waits for the step), so
        a loop that reads them now and then keeps the device busy.

        `shift_weights` (the G update's and the D update's dicts "r", "g", "b" ->
        weight) takes the place of the two colour-shift draws.
        """
        shift_weights = shift_weights or (self.draw_shift_weights(), self.draw_shift_weights())
        superpixels = None
        if self.objectives.loss_weights["structure"]:
            output = np.asarray(self._generate(self.state["generator"], photos))
            superpixels = superpixel_batch(output, self.superpixel_mode,
                                           self.objectives.generator.channel_order)
        self.state, results = self._step(self.state, photos, cartoons, teachers, superpixels,
                                         *shift_weights)
        return results

    def render(self, photos):
        """G's output as the losses see it (guided-filtered), in the current state."""
        return self._generate(self.state["generator"], photos)

    def _updated_discriminator_states(self, scope, previous):
        values = [scope.get_current_value(v) for v in self.discriminator_state_variables]
        return [old if new is None else new for new, old in zip(values, previous, strict=True)]

    def _generate_output(self, generator_values, photos):
        with self.scope(generator=generator_values):
            return self.objectives.generate(photos)

    def _train_step(self, state, photos, cartoons, teachers, superpixels, generator_shift,
                    discriminator_shift):
        objectives = self.objectives
        photo_features, superpixel_features = objectives.target_features(photos, superpixels)

        def generator_loss(generator_values):
            with self.scope(generator=generator_values,
                             discriminators=state["discriminators"],
                             discriminator_states=state["discriminator_states"]) as scope:
                loss, results = objectives.generator_objective(
                    photos, photo_features, superpixel_features, generator_shift, teachers)
            return loss, (results, self._updated_discriminator_states(
                scope, state["discriminator_states"]))

        gradients, (generator_results, discriminator_states) = jax.grad(
            generator_loss, has_aux=True)(state["generator"])
        generator_values, generator_optimizer = self.generator_optimizer.stateless_apply(
            state["generator_optimizer"], gradients, state["generator"])

        # D sees a fresh output of the updated G, as in the authors' loop.
        with self.scope(generator=generator_values):
            fake, fake_grey, cartoon_grey = objectives.discriminator_inputs(
                photos, cartoons, discriminator_shift)

        def discriminator_loss(discriminator_values):
            with self.scope(discriminators=discriminator_values,
                             discriminator_states=discriminator_states) as scope:
                loss, results = objectives.discriminator_objective(
                    cartoons, fake, cartoon_grey, fake_grey)
            return loss, (results, self._updated_discriminator_states(
                scope, discriminator_states))

        gradients, (discriminator_results, discriminator_states) = jax.grad(
            discriminator_loss, has_aux=True)(state["discriminators"])
        discriminator_values, discriminator_optimizer = (
            self.discriminator_optimizer.stateless_apply(
                state["discriminator_optimizer"], gradients, state["discriminators"]))
        state = {"generator": generator_values, "discriminators": discriminator_values,
                 "discriminator_states": discriminator_states,
                 "generator_optimizer": generator_optimizer,
                 "discriminator_optimizer": discriminator_optimizer}
        return state, {**generator_results, **discriminator_results}
