"""Generator pretraining on Keras's JAX backend: `GeneratorPretrainer`'s step, jit-compiled."""

import jax

from cartoonize_tf.training.jax.state import JaxTrainingState
from cartoonize_tf.training.losses import reconstruction_loss


class JaxPretrainSteps(JaxTrainingState):
    """One Adam step of the generator alone on `reconstruction_loss` per `train_step`.

    The loss and targets are `GeneratorPretrainer`'s: the photo itself (the
    authors' first stage), or a paired cartoon (`--paired`).

    Args:
        generator: a built `UNetGenerator`.
        optimizer: a Keras optimiser.
        edge_weight: weight of the L1 on pixel differences (0: off).
    """

    def __init__(self, generator, optimizer, edge_weight=0.0):
        self.optimizer = optimizer
        self.edge_weight = float(edge_weight)
        optimizer.build(generator.trainable_variables)
        super().__init__({"generator": generator.trainable_variables,
                          "optimizer": optimizer.variables}, generator)
        self._step = jax.jit(self._train_step)

    def train_step(self, photos, targets=None):
        """One update on photos in [-1, 1] (and their targets); returns `{"l1": scalar array}`."""
        self.state, loss = self._step(self.state, photos, photos if targets is None else targets)
        return {"l1": loss}

    def _train_step(self, state, photos, targets):
        def loss_of(generator_values):
            with self.scope(generator=generator_values):
                output = self.generator(photos, training=True)
            return reconstruction_loss(output, targets, self.edge_weight)

        loss, gradients = jax.value_and_grad(loss_of)(state["generator"])
        generator_values, optimizer_values = self.optimizer.stateless_apply(
            state["optimizer"], gradients, state["generator"])
        return {"generator": generator_values, "optimizer": optimizer_values}, loss
