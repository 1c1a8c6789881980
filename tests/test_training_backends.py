"""One loop body, so one behaviour on both backends: samples, the final save, SIGTERM, resume.

Each run is a `pretrain` process of its own (Keras picks its backend once per
process); on JAX, TensorFlow is out of reach.
"""

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from drawn_data import make_training_folder
from helpers import summary_tags, training_env

pytest.importorskip("jax", reason="the JAX trainer's tests need jax (pip install -e .[test])")

# JAX's runs (a minute together on 2 cores) are slow tests: the loop they drive is the one
# TensorFlow's runs test by default (training/loop.py); `pytest -m slow` runs them.
BACKENDS = ["tensorflow", pytest.param("jax", marks=pytest.mark.slow)]
TINY = ["--patch-size", "32", "--batch-size", "2", "--log-every", "1", "--seed", "0",
        "--no-progress"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return make_training_folder(tmp_path_factory.mktemp("data"), np.random.default_rng(4),
                                count=2, size=(40, 48), faces=False, corrupt=False)


def pretrain(data_dir, out, *extra):
    return [sys.executable, "-m", "cartoonize_tf.cli.main", "pretrain", "--data-dir",
            str(data_dir), "--output-dir", str(out), *TINY, *extra]


def run(backend, command):
    return subprocess.run(command, env=training_env(backend), capture_output=True, text=True,
                          timeout=600)


def logged_steps(out):
    log = out / "log.jsonl"
    return [json.loads(line)["step"] for line in log.read_text().splitlines()] \
        if log.is_file() else []


def checkpoint_step(backend, out):
    """The step of the run's latest checkpoint, in its backend's format."""
    if backend == "jax":
        with np.load(out / "checkpoints" / "state.npz") as state:
            return int(state["step"])
    import tensorflow as tf

    return int(tf.train.latest_checkpoint(str(out / "checkpoints")).rsplit("-", 1)[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_samples_are_written_and_a_blocked_final_save_is_one_line(backend, data_dir, tmp_path):
    out = tmp_path / "run"
    (out / "generator.keras").mkdir(parents=True)  # where the generator should go
    result = run(backend, pretrain(data_dir, out, "--steps", "2", "--sample-every", "1"))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert re.search(rf"^error: could not save {re.escape(str(out / 'generator.keras'))} \(.*\); "
                     r"the checkpoint of step 2 is intact", result.stderr, re.MULTILINE)
    assert checkpoint_step(backend, out) == 2
    assert "samples/photo_output" in summary_tags(out / "logs")


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigterm_stops_at_a_step_and_resume_goes_on_from_it(backend, data_dir, tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(pretrain(data_dir, out, "--steps", "100000", "--save-every", "50"),
                               env=training_env(backend), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not logged_steps(out):
            assert process.poll() is None and time.time() < deadline, "no step logged"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 130, stderr[-3000:]
    stopped_at = int(re.search(r"stopped at step (\d+) of 100000", stderr).group(1))
    assert checkpoint_step(backend, out) == stopped_at == logged_steps(out)[-1]
    assert (out / "generator.keras").is_file()

    resumed = run(backend, pretrain(data_dir, out, "--steps", str(stopped_at + 1), "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Resumed at step {stopped_at}" in resumed.stdout
    assert logged_steps(out)[-1] == checkpoint_step(backend, out) == stopped_at + 1
