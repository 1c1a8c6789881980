"""Ctrl-C and SIGTERM stop a training run at the end of a step, and it saves what it reached."""

import json
import os
import signal

import numpy as np
import pytest

from cartoonize_tf.training.jax.checkpoints import JaxRunFolder, load_state
from cartoonize_tf.training.jax.driver import train
from cartoonize_tf.training.settings import RunSettings
from cartoonize_tf.training.stopping import StopRequest


@pytest.fixture(autouse=True)
def ctrl_c_enabled():
    """As in a terminal: a test runner started in the background may ignore SIGINT."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_the_first_signal_asks_the_second_stops_at_once():
    before = signal.getsignal(signal.SIGTERM)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_ignored_ctrl_c_stays_ignored():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
    assert not stop.requested


class CountingSteps:
    """Stands in for `JaxGANSteps`: its state counts the steps; it sends `signum` at step `stop_at`."""

    def __init__(self, signum, stop_at):
        self.signum, self.stop_at = signum, stop_at
        self.state = {"weights": [np.zeros(2, np.float32)]}
        self.generator = self

    def train_step(self, photos):
        self.state = {"weights": [self.state["weights"][0] + 1]}
        if int(self.state["weights"][0][0]) == self.stop_at:
            os.kill(os.getpid(), self.signum)
        return {"loss": 0.5}

    def sync_variables(self):
        pass

    def save(self, path):
        path.write_bytes(b"generator")


class Batches:
    def next_batch(self):
        return (np.zeros((1, 4, 4, 3), np.float32),)


def run_settings(folder, **cadence):
    return RunSettings(command="pretrain", data_dir="unused", output_dir=str(folder.path),
                       sample_every=0, progress=False, **cadence)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_jax_run_stops_after_the_step_and_saves_it(tmp_path, signum):
    folder = JaxRunFolder(tmp_path)
    folder.state.parent.mkdir()
    steps = CountingSteps(signum, stop_at=3)
    step = train(steps, Batches(), folder,
                 run_settings(folder, steps=100, save_every=50, log_every=10))
    assert step == 3
    state, saved_step = load_state(folder.state, steps.state)
    assert saved_step == 3 and state["weights"][0].tolist() == [3.0, 3.0]
    assert json.loads(folder.log.read_text().splitlines()[-1])["step"] == 3
    assert folder.generator.read_bytes() == b"generator"


def test_a_jax_save_that_fails_is_a_run_error_that_keeps_the_last_checkpoint(tmp_path,
                                                                              monkeypatch):
    import errno

    from cartoonize_tf.training.jax import checkpoints
    from cartoonize_tf.training.options import RunError

    folder = JaxRunFolder(tmp_path)
    folder.check_writable()
    real_save, saves = checkpoints.save_state, []

    def save_state(path, state, step):
        saves.append(step)
        if len(saves) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(path, state, step)

    monkeypatch.setattr(checkpoints, "save_state", save_state)
    with pytest.raises(RunError, match="step 2 .*No space left.*previous one, .*state.npz, is intact"):
        train(CountingSteps(signal.SIGTERM, stop_at=-1), Batches(), folder,
              run_settings(folder, steps=4, save_every=1, log_every=1))
    assert load_state(folder.state, {"weights": [np.zeros(2, np.float32)]})[1] == 1
    assert not folder.generator.exists()


def test_a_jax_run_folder_that_cannot_be_made_is_refused(tmp_path):
    from cartoonize_tf.training.options import RunError

    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the run folder should go")
    with pytest.raises(RunError, match="cannot write the run folder"):
        JaxRunFolder(blocker / "run").check_writable()
