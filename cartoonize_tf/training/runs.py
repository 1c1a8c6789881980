"""The one entry point of a training run: `RunSettings` in, the run on this process's backend."""

import os

from cartoonize_tf.utils.extras import require_extra


def training_backend():
    """"jax" or "tensorflow": the Keras backend this process trains with."""
    if os.environ.get("KERAS_BACKEND") == "jax":
        require_extra("jax", "KERAS_BACKEND=jax")
    import keras

    return keras.backend.backend()


def run_training(settings):
    """Runs `settings` up to `settings.steps`; returns `(step, folder, chief)`.

    The step is below `settings.steps` when Ctrl-C or SIGTERM stopped the run
    (its checkpoint and generator are saved). What stops a run from starting or
    finishing raises `RunError`, `DataError` or `MissingExtra`, one line each.
    """
    if training_backend() == "jax":
        from cartoonize_tf.training.jax.driver import run_jax

        return run_jax(settings)
    from cartoonize_tf.training.tensorflow.driver import run_tensorflow

    return run_tensorflow(settings)
