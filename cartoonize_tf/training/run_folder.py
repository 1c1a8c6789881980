"""A run's folder on either backend: its checks, `settings.json` and their error messages.

TensorFlow-free: the JAX trainer uses it as the TensorFlow one does. Each
backend's subclass names its `Checkpoints` format.
"""

from pathlib import Path

from cartoonize_tf.training.options import GENERATOR_FILE, RunError
from cartoonize_tf.utils.files import atomic_output


class RunFolder:
    """The files of one run: `checkpoints/`, `settings.json`, `log.jsonl` and `logs/` (the
    losses, see `MetricsLog`) and `generator.keras`.

    Subclasses set `checkpoint_format`, the `Checkpoints` class of their backend.
    """

    checkpoint_format = None

    def __init__(self, path, checkpoints=None):
        self.path = Path(path)
        self.checkpoints = Path(checkpoints) if checkpoints is not None else (
            self.path / "checkpoints")
        self.log = self.checkpoints.parent / "log.jsonl"
        self.logs = self.checkpoints.parent / "logs"
        self.generator = self.path / GENERATOR_FILE
        self.settings = self.path / "settings.json"

    def has_run(self):
        """Whether `checkpoints/` holds a checkpoint of this backend's format."""
        return self.checkpoint_format.holds_run(self.checkpoints)

    def check(self, resume):
        """Refuses to mix two runs in one folder, and to resume a run that is not there."""
        has_run = self.has_run()
        if resume and not has_run:
            raise RunError(f"--resume: no checkpoint in {self.checkpoints} to resume from")
        if not resume and has_run:
            raise RunError(f"{self.path} already holds a run; pass --resume to continue it, "
                           "or choose another --output-dir")

    def check_writable(self):
        """Creates the folder and proves it takes a file, so a read-only or full disk is
        found at the start, not at the first checkpoint."""
        try:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            with atomic_output(self.checkpoints / ".write_test") as probe:
                probe.write_bytes(b"ok")
            (self.checkpoints / ".write_test").unlink()
        except OSError as error:
            raise RunError(f"cannot write the run folder {self.path}: {error}") from None

    def write_settings(self, settings):
        """Records the run's `RunSettings` in `settings.json`."""
        try:
            settings.write(self.settings)
        except OSError as error:
            raise RunError(f"cannot write {self.settings}: {error}") from None
