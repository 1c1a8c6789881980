"""A TensorFlow run's checkpoints (`tf.train.Checkpoint`) and its run folder."""

from pathlib import Path

import tensorflow as tf

from cartoonize_tf.training.checkpoints import Checkpoints
from cartoonize_tf.training.run_folder import RunFolder


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
