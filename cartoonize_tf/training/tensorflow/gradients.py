"""What the TensorFlow training steps do with a loss and its gradients, shared by both models."""

import keras
import tensorflow as tf


def replica_share(loss):
    """The loss to differentiate: gradients are summed over replicas, so each takes its share."""
    return loss / tf.distribute.get_strategy().num_replicas_in_sync


def gradients_by_path(optimizer, gradients, variables):
    """`{variable path: gradient}`, with a `LossScaleOptimizer`'s loss scale divided out."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        gradients = [g / tf.cast(optimizer.dynamic_scale, g.dtype) for g in gradients]
    return {variable.path: gradient for variable, gradient in zip(variables, gradients, strict=True)}


def apply_gradients(optimizer, tape, scaled_loss, variables, report=False):
    """One optimiser step on the gradients of `scaled_loss` (from `tape`) for `variables`.

    With `report`, returns `gradients_by_path`, read before `apply`, which may
    change a loss scale; else None.
    """
    gradients = tape.gradient(scaled_loss, variables)
    reported = gradients_by_path(optimizer, gradients, variables) if report else None
    optimizer.apply(gradients, variables)
    return reported
