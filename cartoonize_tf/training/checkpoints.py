"""A run's resumable checkpoints: one interface, a format per backend.

Saving is where a run meets a full disk or a folder gone read-only; every
format fails the same way, with a `RunError` that says what is intact.
"""

import abc

from cartoonize_tf.training.options import RunError


class Checkpoints(abc.ABC):
    """Saves and restores a run's training state in a `checkpoints/` folder.

    Subclasses name the errors their writer raises (`write_errors`) and
    implement `holds_run`, `latest`, `write` and `restore`.
    """

    write_errors = (OSError,)

    def __init__(self, directory):
        self.directory = directory

    @staticmethod
    @abc.abstractmethod
    def holds_run(directory):
        """Whether `directory` holds a checkpoint of this format."""

    @abc.abstractmethod
    def latest(self):
        """The newest checkpoint's path, or None."""

    @abc.abstractmethod
    def write(self, step):
        """Writes the state of `step` so that a crash mid-write leaves the previous one whole."""

    @abc.abstractmethod
    def restore(self):
        """Loads the newest checkpoint into the training state; returns its step."""

    def save(self, step):
        """`write`, or a `RunError` that says whether an earlier checkpoint is intact."""
        previous = self.latest()
        try:
            self.write(step)
        except self.write_errors as error:
            raise RunError(
                f"could not save the checkpoint of step {step} ({error}); "
                + (f"the previous one, {previous}, is intact: free space and continue with "
                   "--resume" if previous else "no earlier checkpoint exists")) from None
