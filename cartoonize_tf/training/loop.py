"""What the pretraining and training commands share: devices, precision, run folders, the loop."""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from cartoonize_tf.models.loading import generator_copy
from cartoonize_tf.training.callbacks import CheckpointEvery, StopWhenAsked, TrainingMonitor
from cartoonize_tf.training.checkpoints import Checkpoints
from cartoonize_tf.training.options import (
    DISTRIBUTE_CHOICES,
    PRECISION_POLICIES,
    RunError,
    resolve_precision,
)
from cartoonize_tf.training.run_folder import MetricsLog, RunFolder
from cartoonize_tf.training.stopping import StopRequest
from cartoonize_tf.utils.files import atomic_output

logger = logging.getLogger(__name__)

@dataclass
class LoopSettings:
    """How long to train and how often to report and save."""

    steps: int
    log_every: int = 100
    sample_every: int = 1000
    save_every: int = 1000
    progress: bool = True


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


class TensorFlowCheckpoints(Checkpoints):
    """`tf.train.Checkpoint`s of `checkpoint` (the three newest kept).

    The manager writes a checkpoint's files before it updates the `checkpoint`
    state file (an atomic rename), so a run killed mid-save resumes from the
    previous one.
    """

    write_errors = (OSError, tf.errors.OpError)

    def __init__(self, directory, checkpoint):
        super().__init__(directory)
        self.checkpoint = checkpoint
        self.manager = tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=3)

    @staticmethod
    def holds_run(directory):
        return tf.train.latest_checkpoint(str(directory)) is not None

    def latest(self):
        return self.manager.latest_checkpoint

    def write(self, step):
        self.manager.save(checkpoint_number=step)

    def restore(self):
        self.checkpoint.restore(self.latest()).assert_existing_objects_matched()
        return int(self.checkpoint.step.numpy())


class TensorFlowRunFolder(RunFolder):
    """A run's folder with `tf.train.Checkpoint`s, and `logs/` for TensorBoard."""

    checkpoint_format = TensorFlowCheckpoints

    def __init__(self, path, chief=True, worker_id=0):
        # Non-chief workers must save too (a collective operation) but into a scratch folder.
        base = Path(path) if chief else Path(path) / f".worker_{worker_id}"
        super().__init__(path, base / "checkpoints")


def variables_by_path(model):
    """A model's variables keyed by their path below the model, for `tf.train.Checkpoint`.

    Keras 3 keeps sub-layers held in lists out of TensorFlow's object graph, so
    a checkpoint of the model object itself would miss them (spectral norm's
    `u` vectors, for one); an explicit dict names every variable.
    """
    return {variable.path.split("/", 1)[1]: variable for variable in model.weights}


def save_float32_generator(generator, path):
    """Writes the generator as a float32 `.keras` model, whatever precision it trained in."""
    plain = generator_copy(generator, dtype="float32")
    with atomic_output(path) as temporary:
        plain.save(temporary)


def run_loop(model, checkpoint, folder, dataset, settings, sample_photos, render, resume):
    """Restores (with `resume`), trains up to `settings.steps`, checkpoints, saves the generator.

    Returns the final step: below `settings.steps` when Ctrl-C or SIGTERM stopped
    the run, which then saves a checkpoint of the step it reached.
    """
    checkpoints = TensorFlowCheckpoints(folder.checkpoints, checkpoint)
    if resume:
        checkpoints.restore()
    first_step = int(model.train_steps.numpy())
    if first_step >= settings.steps:
        logger.info("Already at step %d of %d: nothing to train.", first_step, settings.steps)
        return first_step
    saver = CheckpointEvery(checkpoints, model.train_steps, settings.save_every)
    monitor = TrainingMonitor(folder.logs, first_step, settings.steps, settings.log_every,
                              settings.sample_every, sample_photos, render, settings.progress,
                              metrics_log=MetricsLog(folder))
    with StopRequest() as stop:
        model.fit(dataset, epochs=1, steps_per_epoch=settings.steps - first_step,
                  verbose=0, shuffle=False, callbacks=[monitor, StopWhenAsked(stop), saver])
    return int(model.train_steps.numpy())
