"""The pretrain and train commands end to end, on a tiny drawn folder, on the CPU."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from drawn_data import make_training_folder
from helpers import PROJECT_ROOT, random_photo, summary_tags

from cartoonize_tf.cli.main import build_parser, main
from cartoonize_tf.inference.cartoonizer import Cartoonizer
from cartoonize_tf.models.generator import UNetGenerator
from cartoonize_tf.models.loading import load_generator
from cartoonize_tf.training.options import ADAM
from cartoonize_tf.training.tensorflow.checkpoints import variables_by_path

TINY = ["--patch-size", "32", "--batch-size", "2", "--log-every", "1", "--sample-every", "2",
        "--seed", "3", "--no-progress"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return make_training_folder(tmp_path_factory.mktemp("data"), np.random.default_rng(1),
                                count=3, size=(48, 64))


@pytest.fixture(scope="module")
def pretrained(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "pretrain"
    assert main(["pretrain", "--data-dir", str(data_dir), "--steps", "4", "--save-every", "2",
                 "--output-dir", str(out), *TINY]) == 0
    return out


def test_pretrain_writes_checkpoints_logs_and_a_generator(pretrained):
    assert tf.train.latest_checkpoint(str(pretrained / "checkpoints")).endswith("ckpt-4")
    assert summary_tags(pretrained / "logs") >= {"loss/l1", "speed/steps_per_second"}
    cartoonizer = Cartoonizer.load(pretrained / "generator.keras", backend="tf")
    assert cartoonizer.runtime.generator.channel_order == "rgb"
    assert cartoonizer.cartoonize(random_photo(np.random.default_rng(0), 24, 24)).shape == (24, 24, 3)


def test_resume_restores_the_step_and_weights(pretrained, data_dir, capsys):
    # The run's generator.keras holds the weights of its last checkpoint, step 4.
    generator = UNetGenerator(channel_order="rgb")
    step = tf.Variable(0, dtype=tf.int64)
    tf.train.Checkpoint(generator=variables_by_path(generator), step=step).restore(
        tf.train.latest_checkpoint(str(pretrained / "checkpoints"))).expect_partial()
    saved = load_generator(pretrained / "generator.keras")
    assert int(step.numpy()) == 4
    for restored, expected in zip(generator.weights, saved.weights, strict=True):
        np.testing.assert_array_equal(restored.numpy(), expected.numpy())
    # And the command goes on from there.
    assert main(["pretrain", "--data-dir", str(data_dir), "--steps", "6", "--resume",
                 "--output-dir", str(pretrained), *TINY]) == 0
    assert "Trained 2 steps" in capsys.readouterr().out
    assert tf.train.latest_checkpoint(str(pretrained / "checkpoints")).endswith("ckpt-6")


def test_pretrain_fine_tunes_a_given_generator(pretrained, data_dir, tmp_path, capsys):
    start = load_generator(pretrained / "generator.keras")
    out = tmp_path / "fine-tune"
    # With a learning rate of 0 the step leaves the weights where --pretrained put them.
    assert main(["pretrain", "--data-dir", str(data_dir), "--pretrained", str(pretrained),
                 "--learning-rate", "0", "--steps", "1", "--output-dir", str(out), *TINY]) == 0
    tuned = load_generator(out / "generator.keras")
    for weight, expected in zip(tuned.weights, start.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), expected.numpy())
    assert main(["pretrain", "--data-dir", str(data_dir), "--pretrained", str(tmp_path / "none"),
                 "--output-dir", str(tmp_path / "other"), *TINY]) == 2
    assert "--pretrained: no generator" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_gan_training_end_to_end(pretrained, data_dir, tmp_path, capsys):
    out = tmp_path / "train"
    assert main(["train", "--data-dir", str(data_dir), "--pretrained", str(pretrained),
                 "--vgg-weights", "none", "--steps", "2", "--output-dir", str(out), *TINY]) == 0
    captured = capsys.readouterr()
    assert "RANDOM weights" in captured.err
    for loss in ("generator_loss", "discriminator_loss", "content", "structure", "texture_d"):
        assert loss in captured.out
    assert load_generator(out / "generator.keras").count_params() == 1_467_075
    # The same metrics log as the JAX trainer writes: one line per logging interval.
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in logged] == [1, 2]
    assert all(entry["steps_per_second"] > 0 and "generator_loss" in entry for entry in logged)


def test_flip_is_off_unless_asked_and_adam_is_the_authors():
    parser = build_parser()
    for command in ("pretrain", "train"):
        assert parser.parse_args([command, "--data-dir", "d"]).flip is False
        assert parser.parse_args([command, "--data-dir", "d", "--flip"]).flip is True
    # TF1's AdamOptimizer as the authors' train.py configures it (epsilon: TF1's default).
    assert ADAM == {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-8}


def test_refuses_to_mix_runs_and_to_resume_nothing(pretrained, data_dir, tmp_path, capsys):
    assert main(["pretrain", "--data-dir", str(data_dir), "--output-dir", str(pretrained),
                 *TINY]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["pretrain", "--data-dir", str(data_dir), "--output-dir", str(tmp_path / "new"),
                 "--resume", *TINY]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_empty_data_folder_fails_before_training(tmp_path, capsys):
    (tmp_path / "photo_scenery").mkdir()
    assert main(["pretrain", "--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "run"),
                 *TINY]) == 2
    assert "no readable images" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def pretrain_command_line(data_dir, out, steps, save_every, *extra):
    return [sys.executable, str(PROJECT_ROOT / "train_code" / "pretrain.py"),
            "--data-dir", str(data_dir), "--steps", str(steps), "--save-every", str(save_every),
            "--output-dir", str(out), *TINY, *extra]


def checkpoint_step(out):
    """The step of the run's latest checkpoint, 0 when it has none."""
    latest = tf.train.latest_checkpoint(str(out / "checkpoints"))
    return int(latest.rsplit("-", 1)[1]) if latest else 0


def wait_for_checkpoint(process, out, step, timeout=120):
    """Waits until the running `process` has saved a checkpoint at `step` or later."""
    deadline = time.time() + timeout
    while checkpoint_step(out) < step:
        if time.time() > deadline or process.poll() is not None:
            pytest.fail(f"no checkpoint at step {step} within {timeout} s")
        time.sleep(0.2)


@pytest.mark.slow  # 15 s on Zen 4; SIGTERM's stop and resume run by default (test_training_backends)
def test_sigkill_mid_training_resumes_from_the_last_checkpoint(data_dir, tmp_path):
    out = tmp_path / "killed"
    process = subprocess.Popen(pretrain_command_line(data_dir, out, 100_000, 1),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_checkpoint(process, out, 3)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    killed_at = checkpoint_step(out)
    result = subprocess.run(pretrain_command_line(data_dir, out, killed_at + 1, 1, "--resume"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Trained 1 steps" in result.stdout
    assert tf.train.latest_checkpoint(str(out / "checkpoints")).endswith(f"ckpt-{killed_at + 1}")


def test_sigterm_saves_the_step_reached_and_the_generator(data_dir, tmp_path):
    out = tmp_path / "terminated"
    process = subprocess.Popen(pretrain_command_line(data_dir, out, 100_000, 2),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_checkpoint(process, out, 1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr[-2000:]
    match = re.search(r"stopped at step (\d+) of 100000", stderr)
    assert match, stderr[-2000:]
    stopped_at = int(match.group(1))
    assert tf.train.latest_checkpoint(str(out / "checkpoints")).endswith(f"ckpt-{stopped_at}")
    # Written only when the loop ends, so its presence shows the stop went through the loop.
    assert load_generator(out / "generator.keras") is not None


TWO_CPU_REPLICAS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from cartoonize_tf.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


# Two replicas are slow tests (23 s in float32 on Zen 4): bfloat16 and the loop run by default.
@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_mirrored_strategy_over_two_replicas(data_dir, tmp_path, precision):
    """Two logical CPU devices stand in for two GPUs: each replica runs half of every batch.

    bfloat16 is what `auto` picks on every GPU (bfloat16 is emulated on a CPU without
    AVX512_BF16: slower, the same arithmetic)."""
    out = tmp_path / "mirrored"
    result = subprocess.run(
        [sys.executable, "-c", TWO_CPU_REPLICAS, "train", "--data-dir", str(data_dir),
         "--vgg-weights", "none", "--distribute", "mirrored", "--steps", "2",
         "--precision", precision, "--output-dir", str(out), *TINY],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Devices: 2 replica(s)" in result.stdout
    assert f"Precision: {precision}" in result.stdout
    assert (out / "generator.keras").is_file()


@pytest.mark.parametrize("precision", [["--precision", "bfloat16"], ["--mixed-precision"]])
def test_reduced_precision_trains_and_saves_float32(data_dir, tmp_path, precision, capsys):
    out = tmp_path / "reduced"
    assert main(["pretrain", "--data-dir", str(data_dir), *precision, "--steps", "2",
                 "--output-dir", str(out), *TINY]) == 0
    expected = "bfloat16" if "bfloat16" in precision else "float16"
    assert f"Precision: {expected}" in capsys.readouterr().out
    generator = load_generator(out / "generator.keras")
    assert generator.dtype_policy.name == "float32"


@pytest.mark.parametrize("command", ["pretrain", "train"])
def test_a_bfloat16_run_leaves_keras_float32(data_dir, tmp_path, command):
    """A run's precision is the run's own: a layer built after it, in the same process, is
    float32 (a leaked global policy once turned every later test bfloat16)."""
    import keras

    extra = ["--vgg-weights", "none"] if command == "train" else []
    assert main([command, "--data-dir", str(data_dir), "--precision", "bfloat16", "--steps",
                 "1", "--output-dir", str(tmp_path / command), *extra, *TINY]) == 0
    assert keras.config.dtype_policy().name == "float32"
    layer = keras.layers.Conv2D(2, 3)
    assert layer(np.zeros((1, 4, 4, 1), np.float32)).dtype == "float32"


def test_auto_precision_is_bfloat16_only_where_the_hardware_has_it(tmp_path):
    from cartoonize_tf.training.options import resolve_precision
    from cartoonize_tf.utils.cpu_flags import cpu_flags, has_native_bfloat16

    assert resolve_precision("auto", has_gpu=True, cpu_bfloat16=False) == "bfloat16"
    assert resolve_precision("auto", has_gpu=False, cpu_bfloat16=True) == "bfloat16"
    assert resolve_precision("auto", has_gpu=False, cpu_bfloat16=False) == "float32"
    assert resolve_precision("float16", has_gpu=False, cpu_bfloat16=False) == "float16"
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert has_native_bfloat16(cpu_flags(cpuinfo))
    assert has_native_bfloat16({"avx512f", "amx_bf16"})
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2\n")
    assert not has_native_bfloat16(cpu_flags(cpuinfo))
    assert not has_native_bfloat16(cpu_flags(tmp_path / "missing"))


def test_pretraining_through_cel_shading_saves_the_stage(data_dir, tmp_path):
    out = tmp_path / "cel"
    assert main(["pretrain", "--data-dir", str(data_dir), "--paired", "--cel-shading",
                 "--steps", "2", "--output-dir", str(out), *TINY]) == 0
    generator = load_generator(out / "generator.keras")
    assert generator.cel_shading == {} and generator.cel_shading_layer is not None


def test_loss_weights_parse_and_unknown_names_are_refused(capsys):
    args = build_parser().parse_args(["train", "--data-dir", "d", "--loss-weight", "teacher=2",
                                      "--loss-weight", "content=0", "--vgg-weights", "pixels"])
    assert dict(args.loss_weight) == {"teacher": 2.0, "content": 0.0}
    for bad in ("colour=1", "teacher=much"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["train", "--data-dir", "d", "--loss-weight", bad])
        assert "--loss-weight" in capsys.readouterr().err


def test_train_with_a_teacher_in_pixel_mode(tmp_path, rng):
    data = make_training_folder(tmp_path / "data", rng, count=2, size=(40, 40), faces=False,
                                corrupt=False)
    (data / "teacher_scenery").mkdir()
    for photo in (data / "photo_scenery").iterdir():
        (data / "teacher_scenery" / photo.name).write_bytes(photo.read_bytes())
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--output-dir", str(out), "--steps", "1",
                 "--vgg-weights", "pixels", "--loss-weight", "teacher=1", *TINY]) == 0
    assert (out / "generator.keras").is_file()


def test_a_half_written_checkpoint_is_passed_over_on_resume(pretrained, data_dir, tmp_path):
    """What SIGKILL in the middle of a save leaves: the new files, the pointer not yet moved."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(pretrained, run)
    latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
    step = int(latest.rsplit("-", 1)[1])
    (run / "checkpoints" / f"ckpt-{step + 1}.index").write_bytes(b"\x00" * 10)
    (run / "checkpoints" / f"ckpt-{step + 1}.data-00000-of-00001").write_bytes(b"\x01" * 7)
    assert main(["pretrain", "--data-dir", str(data_dir), "--steps", str(step + 1),
                 "--output-dir", str(run), "--resume", *TINY]) == 0
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith(f"ckpt-{step + 1}")


def test_a_full_disk_at_a_save_is_reported_and_the_last_checkpoint_kept(data_dir, tmp_path,
                                                                         monkeypatch, capsys):
    import errno

    saves = []
    real_save = tf.train.CheckpointManager.save

    def save(self, *args, **kwargs):
        saves.append(kwargs.get("checkpoint_number"))
        if len(saves) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(tf.train.CheckpointManager, "save", save)
    run = tmp_path / "run"
    assert main(["pretrain", "--data-dir", str(data_dir), "--steps", "4", "--save-every", "1",
                 "--output-dir", str(run), *TINY]) == 2
    err = capsys.readouterr().err
    assert "could not save the checkpoint of step 2" in err and "No space left" in err
    assert "ckpt-1" in err and "--resume" in err
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-1")
    assert not (run / "generator.keras").exists()


def test_an_unwritable_run_folder_is_refused_at_the_start(data_dir, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the run folder should go")
    assert main(["pretrain", "--data-dir", str(data_dir), "--steps", "2",
                 "--output-dir", str(blocker / "run"), *TINY]) == 2
    assert "cannot write the run folder" in capsys.readouterr().err
