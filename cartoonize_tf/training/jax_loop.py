"""The JAX trainer's run: steps with a progress bar, averaged losses, resumable checkpoints.

The run folder holds `checkpoints/state.npz` (every array of the training
state and the step), `log.jsonl` (the losses averaged over each logging
interval), `settings.json` and, at the end, `generator.keras`: the same file
the TensorFlow trainer writes, which every backend loads.
"""

import logging
import time
import zipfile

import numpy as np
from tqdm import tqdm

from cartoonize_tf.training.checkpoints import Checkpoints
from cartoonize_tf.training.options import RunError
from cartoonize_tf.training.run_folder import MetricsLog, RunFolder
from cartoonize_tf.training.stopping import StopRequest
from cartoonize_tf.utils.files import atomic_output

log = logging.getLogger(__name__)
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


def run_jax_training(steps, sampler, folder, total_steps, save_every, log_every, progress,
                     resume):
    """Trains `steps` (`JaxGANSteps` or `JaxPretrainSteps`) on `sampler` up to `total_steps`.

    Returns the last step.

    Saves the state every `save_every` steps and at the end, then the
    generator. Ctrl-C or SIGTERM ends the run the same way at the step reached,
    so `timeout` gives a run a time budget; `--resume` continues it.
    """
    step = 0
    checkpoints = NpzCheckpoints(folder.checkpoints, steps)
    if resume:
        step = checkpoints.restore()
        log.info("Resumed at step %d from %s", step, folder.state)
    metrics, pending, started = MetricsLog(folder), [], time.perf_counter()
    with StopRequest() as stop, tqdm(total=total_steps, initial=step, disable=not progress,
                                     unit="step") as bar:
        while step < total_steps and not stop.requested:
            pending.append(steps.train_step(*sampler.next_batch()))
            step += 1
            bar.update(1)
            if step % log_every == 0 or step == total_steps:
                means = write_log_line(metrics, step, pending, started)
                bar.set_postfix({name: f"{means[name]:.3g}" for name in steps.PROGRESS_METRICS})
                pending, started = [], time.perf_counter()
            if step % save_every == 0:
                checkpoints.save(step)
    if pending:  # stopped between two log lines
        write_log_line(metrics, step, pending, started)
    checkpoints.save(step)
    steps.sync_variables()
    try:
        with atomic_output(folder.generator) as temporary:
            steps.generator.save(temporary)
    except OSError as error:
        raise RunError(f"could not save {folder.generator} ({error}); the checkpoint of step "
                       f"{step} is intact: free space and run again with --resume") from None
    return step


def write_log_line(metrics, step, results, started):
    """Logs the mean of each loss over `results` (and the steps per second); returns them."""
    means = {name: float(np.mean([float(r[name]) for r in results])) for name in results[0]}
    metrics.write(step, len(results) / (time.perf_counter() - started), means)
    return means
