"""Where a TensorFlow run computes: its `tf.distribute` strategy, its chief, its precision."""

import os

import tensorflow as tf

from cartoonize_tf.training.options import (
    DISTRIBUTE_CHOICES,
    PRECISION_POLICIES,
    RunError,
    resolve_precision,
)


def choose_strategy(name):
    """The `tf.distribute` strategy for `--distribute`."""
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        # All local GPUs; on a machine without one, every logical CPU device.
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise RunError("--distribute multiworker needs TF_CONFIG set on every worker "
                           "(see the README's two-worker recipe)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise RunError(f"--distribute must be one of {DISTRIBUTE_CHOICES}, got {name!r}")


def is_chief(strategy):
    """Whether this process writes the run's files (always, except non-chief multi-workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict())


def dtype_policy(precision_name):
    """The Keras dtype policy for `--precision precision_name`, and the precision it resolves to.

    bfloat16 and float16 compute in that type and keep float32 weights (float16
    also scales its losses); `auto` is bfloat16 where the hardware has it. The
    run passes the policy to the models it builds: Keras's global policy is left
    alone, so nothing of a run's precision outlives it.
    """
    precision = resolve_precision(precision_name,
                                  has_gpu=bool(tf.config.list_physical_devices("GPU")))
    return PRECISION_POLICIES[precision], precision
