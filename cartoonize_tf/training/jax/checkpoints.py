"""The JAX trainer's checkpoints: every array of the training state and the step in one file.

The run folder holds `checkpoints/state.npz`, `log.jsonl`, `logs/`,
`settings.json` and, at the end, `generator.keras`: the same file the
TensorFlow trainer writes, which every backend loads.
"""

import zipfile

import numpy as np

from cartoonize_tf.training.checkpoints import Checkpoints
from cartoonize_tf.training.options import RunError
from cartoonize_tf.training.run_folder import RunFolder
from cartoonize_tf.utils.files import atomic_output

STATE_FILE = "state.npz"


class NpzCheckpoints(Checkpoints):
    """The JAX trainer's state (every array and the step) in `checkpoints/state.npz`."""

    def __init__(self, directory, steps):
        super().__init__(directory)
        self.path = directory / STATE_FILE
        self.steps = steps

    @staticmethod
    def holds_run(directory):
        return (directory / STATE_FILE).is_file()

    def latest(self):
        return self.path if self.path.is_file() else None

    def write(self, step):
        save_state(self.path, self.steps.state, step)

    def restore(self):
        self.steps.state, step = load_state(self.path, self.steps.state)
        return step


class JaxRunFolder(RunFolder):
    """A run's folder with `checkpoints/state.npz`, and `log.jsonl` for the losses."""

    checkpoint_format = NpzCheckpoints

    def __init__(self, path):
        super().__init__(path)
        self.state = self.checkpoints / STATE_FILE


def save_state(path, state, step):
    """Writes every array of `state` (a dict of lists) and the step, atomically."""
    arrays = {f"{group}/{index}": np.asarray(value)
              for group, values in state.items() for index, value in enumerate(values)}
    with atomic_output(path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, step=step, **arrays)


def load_state(path, like):
    """`(state, step)` from `save_state`'s file; every array must match `like`'s shapes.

    Raises `RunError` when the file cannot be read or belongs to another model.
    """
    try:
        return read_state(path, like)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise RunError(f"--resume: {path} cannot be read ({error}); start a new run in "
                       "another --output-dir") from None


def read_state(path, like):
    with np.load(path) as saved:
        state = {}
        for group, values in like.items():
            state[group] = []
            for index, value in enumerate(values):
                key = f"{group}/{index}"
                if key not in saved or saved[key].shape != tuple(value.shape):
                    raise RunError(f"--resume: {path} does not match this model ({key}); was it "
                                   "written by a run with other settings?")
                state[group].append(saved[key])
        return state, int(saved["step"])
