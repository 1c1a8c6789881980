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
    return {variable.path: gradient for variable, gradient in zip(variables, gradients)}
