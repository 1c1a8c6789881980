import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import PROJECT_ROOT, png_claiming, random_photo
from PIL import Image

from cartoonize_tf.cli.main import main
from cartoonize_tf.inference.batch import cartoonize_files, plan_outputs


@pytest.fixture
def photo_folder(tmp_path, rng):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(random_photo(rng, 40, 56)).save(folder / "a.jpg")
    Image.fromarray(random_photo(rng, 24, 32)).save(folder / "a.png")
    Image.fromarray(random_photo(rng, 33, 17)[..., 0]).save(folder / "grey.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image, not picked up from a folder")
    return folder


def run(*args):
    return main(["run", "--no-progress", *map(str, args)])


def test_bad_files_fail_alone(photo_folder, tmp_path, model_file, capsys):
    out = tmp_path / "out"
    code = run("--input", photo_folder, "--output-dir", out, "--model", model_file)
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "a.png", "grey.png"]
    assert "broken.jpg" in captured.err and "empty.png" in captured.err
    assert "Cartoonized 3 of 5 images" in captured.out and "2 failed" in captured.out
    assert np.asarray(Image.open(out / "a.png")).shape == (24, 32, 3)


def test_full_size_and_format_option(photo_folder, tmp_path, model_file):
    out = tmp_path / "out"
    run("--input", photo_folder / "grey.png", "--output-dir", out, "--model", model_file,
        "--resize", "full", "--format", "jpg")
    assert Image.open(out / "grey.jpg").size == (17, 33)


def test_same_stems_do_not_overwrite_each_other(photo_folder, tmp_path, model_file):
    out = tmp_path / "out"
    assert run("--input", str(photo_folder / "a.*"), "--output-dir", out, "--model", model_file,
               "--format", "png") == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "a_png.png"]


def test_inputs_are_never_overwritten(photo_folder, model_file):
    before = (photo_folder / "a.jpg").read_bytes()
    run("--input", photo_folder / "a.jpg", "--output-dir", photo_folder, "--model", model_file)
    assert (photo_folder / "a.jpg").read_bytes() == before
    assert (photo_folder / "a_jpg.jpg").is_file()


def test_plan_outputs_avoids_every_clash(tmp_path):
    inputs = [tmp_path / "a.jpg", tmp_path / "a.png", tmp_path / "a_jpg.png"]
    targets = [t for _, t in plan_outputs(inputs, tmp_path, "png")]
    assert len(set(targets)) == 3 and not set(targets) & set(inputs)


def test_filter_method_needs_no_model_and_keeps_the_full_size(photo_folder, tmp_path):
    out = tmp_path / "out"
    code = run("--input", photo_folder, "--output-dir", out, "--method", "filter",
               "--model", tmp_path / "none.keras")
    assert code == 1  # the two bad files
    assert Image.open(out / "a.jpg").size == (56, 40)
    assert Image.open(out / "grey.png").size == (17, 33)


def test_missing_model_says_how_to_get_one(photo_folder, tmp_path, capsys):
    code = run("--input", photo_folder, "--model", tmp_path / "none.keras")
    err = capsys.readouterr().err
    assert code == 2
    assert "convert-checkpoint" in err and "train_code/train.py" in err


def test_a_command_that_cannot_run_is_one_line_and_its_status(monkeypatch, capsys):
    """Every command says why it cannot run the same way: `CommandError`, printed by `main` as
    one `error:` line on stderr, exit 2 unless the command gives another status."""
    from cartoonize_tf.cli import run as run_module
    from cartoonize_tf.cli.errors import CommandError

    assert main(["run", "--max-pixels", "0"]) == 2
    assert capsys.readouterr().err == "error: --max-pixels must be positive\n"

    def failing(args):
        raise CommandError("a source could not be fetched", status=1)

    monkeypatch.setattr(run_module, "run_command", failing)
    assert main(["run"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: a source could not be fetched\n" and captured.out == ""


def test_missing_input_is_a_clear_error(tmp_path, model_file, capsys):
    assert run("--input", tmp_path / "nowhere", "--model", model_file) == 2
    assert "nowhere" in capsys.readouterr().err


def test_script_help_explains_the_options():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "test_code" / "cartoonize.py"),
                             "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for option in ("--input", "--output-dir", "--model", "--resize", "--format"):
        assert option in result.stdout
    assert "test_code/test_images" in result.stdout


def test_pipelined_batch_reports_compute_and_write_failures_alone(tmp_path, rng):
    class Inverter:
        def cartoonize(self, image):
            if image.shape[0] == 9:
                raise ValueError("too odd")
            return 255 - image

    sources = []
    for index, height in enumerate((8, 9, 8, 8)):
        sources.append(tmp_path / f"{index}.png")
        Image.fromarray(random_photo(rng, height, 8)).save(sources[-1])
    (tmp_path / "blocked").write_text("a file where a folder should be")
    plan = [(sources[0], tmp_path / "out" / "0.png"), (sources[1], tmp_path / "out" / "1.png"),
            (sources[2], tmp_path / "blocked" / "2.png"), (sources[3], tmp_path / "out" / "3.png")]
    (tmp_path / "out").mkdir()
    report = cartoonize_files(Inverter(), plan, progress=False)
    assert report.written == 2
    assert [path.name for path, _ in report.failures] == ["1.png", "2.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "3.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "3.png")),
                                  255 - np.asarray(Image.open(sources[3])))


def test_a_decompression_bomb_fails_alone_and_the_batch_goes_on(photo_folder, tmp_path,
                                                                model_file, capsys):
    """The hostile corpus: an 18 KB-class PNG claiming 100000 x 100000, 1x1, 5x7, a folder
    named like an image, beside good images."""
    (photo_folder / "bomb.png").write_bytes(png_claiming(100000, 100000))
    Image.fromarray(random_photo(np.random.default_rng(1), 1, 1)).save(photo_folder / "one.png")
    Image.fromarray(random_photo(np.random.default_rng(2), 5, 7)).save(photo_folder / "five.png")
    (photo_folder / "folder.jpg").mkdir()
    out = tmp_path / "out"
    code = run("--input", photo_folder, "--output-dir", out, "--model", model_file)
    captured = capsys.readouterr()
    assert code == 1
    # At full size (the default) the 1x1 and 5x7 photos are padded, not refused.
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "a.png", "five.png", "grey.png",
                                                     "one.png"]
    assert Image.open(out / "one.png").size == (1, 1)
    assert "Cartoonized 5 of 8 images" in captured.out
    assert "bomb.png" in captured.err and "decompression-bomb" in captured.err
    assert "Traceback" not in captured.err
    assert "over --max-pixels" in captured.err


def test_max_pixels_is_checked_from_the_header_and_says_what_to_do(photo_folder, tmp_path,
                                                                   model_file, capsys):
    out = tmp_path / "out"
    code = run("--input", photo_folder / "a.*", "--output-dir", out, "--model", model_file,
               "--resize", "full", "--max-pixels", 1000, "--format", "png")
    captured = capsys.readouterr()
    assert code == 1
    assert [p.name for p in out.iterdir()] == ["a_png.png"]  # a.png (24 x 32) fits, a.jpg not
    assert "56 x 40 is 2,240 pixels, over the limit of 1,000" in captured.err
    assert "raise --max-pixels" in captured.err


@pytest.mark.parametrize("name,content", [("m.tflite", b"TFL3" + b"\0" * 64),
                                          ("cut.keras", b"PK\x03\x04" + b"\0" * 64)])
def test_an_unreadable_model_is_one_line_before_any_work(photo_folder, tmp_path, name, content,
                                                          capsys):
    model = tmp_path / name
    model.write_bytes(content)
    out = tmp_path / "out"
    assert run("--input", photo_folder, "--output-dir", out, "--model", model) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot load {model} (") and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_output_dir_that_is_a_file_is_refused_before_any_work(photo_folder, tmp_path,
                                                                  model_file, capsys):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file")
    for out in (blocked, blocked / "inside"):
        assert run("--input", photo_folder, "--output-dir", out, "--model", model_file) == 2
        err = capsys.readouterr().err
        assert "is a file" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_unwritable_output_dir_is_refused_before_any_work(photo_folder, model_file, capsys):
    # /proc takes no new files from anyone, root included (file permissions bind no root).
    out = Path("/proc") / "cartoons"
    assert run("--input", photo_folder, "--output-dir", out, "--model", model_file) == 2
    err = capsys.readouterr().err
    assert f"cannot write to --output-dir {out}" in err and len(err.strip().splitlines()) == 1


def test_start_up_is_quiet_unless_verbose(tmp_path):
    """No CUDA probing or TensorFlow banners on stderr by default; --verbose lets them through."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "cartoonize_tf.cli.main", "run", "--input",
               str(tmp_path / "nowhere"), "--method", "filter"]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert quiet.returncode == 2
    assert quiet.stderr.strip().splitlines() == [quiet.stderr.strip()]  # the one error line
    assert "nowhere" in quiet.stderr


def test_strength_zero_writes_the_photo_and_bad_style_options_are_refused(photo_folder, tmp_path,
                                                                          model_file, capsys):
    out = tmp_path / "out"
    source = photo_folder / "a.png"
    assert run("--input", source, "--output-dir", out, "--model", model_file, "--resize", "full",
               "--strength", 0, "--tile", 16 + 128) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out / "a.png")),
                                  np.asarray(Image.open(source)))
    for option in (["--strength", "1.5"], ["--backend", "tflite", "--filter-radius", "3"]):
        assert run("--input", source, "--output-dir", tmp_path / "other", "--model", model_file,
                   *option) == 2
        assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "other").exists()


def test_a_glob_through_a_link_loop_names_each_photo_once(tmp_path, rng):
    from cartoonize_tf.inference.batch import collect_inputs

    folder = tmp_path / "dir"
    folder.mkdir()
    Image.fromarray(random_photo(rng, 8, 8)).save(folder / "a.png")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    found = collect_inputs(f"{folder}/**/*.png")
    assert found == [folder / "a.png"]


@pytest.mark.every_cpu
def test_cartoonize_runs_from_any_folder_with_the_shipped_model(tmp_path, rng):
    Image.fromarray(random_photo(rng, 24, 32)).save(tmp_path / "photo.png")
    result = subprocess.run([sys.executable, "-m", "cartoonize_tf.cli.main", "run", "--input",
                             "photo.png", "--output-dir", "out", "--no-progress"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "photo.png").is_file()


def test_the_shipped_model_is_found_outside_the_project(tmp_path, monkeypatch):
    from cartoonize_tf.cli.defaults import DEFAULT_MODEL, default_path

    monkeypatch.chdir(tmp_path)
    assert default_path(".", DEFAULT_MODEL) == PROJECT_ROOT / DEFAULT_MODEL
    (tmp_path / DEFAULT_MODEL).parent.mkdir()
    (tmp_path / DEFAULT_MODEL).write_bytes(b"a local model wins inside its folder")
    assert default_path(".", DEFAULT_MODEL) == Path(".") / DEFAULT_MODEL


@pytest.mark.every_cpu
def test_photos_keep_their_size_by_default_and_the_summary_says_what_changed(tmp_path, rng,
                                                                            model_file, capsys):
    """A photo larger than the authors' 720 px cap comes back at its size (as from the web page
    and the server); --resize authors shrinks it, and the summary line says so."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(random_photo(rng, 744, 760)).save(folder / "large.png")
    assert run("--input", folder, "--output-dir", tmp_path / "full", "--model", model_file) == 0
    assert Image.open(tmp_path / "full" / "large.png").size == (760, 744)
    assert "resized" not in capsys.readouterr().out
    assert run("--input", folder, "--output-dir", tmp_path / "authors", "--model", model_file,
               "--resize", "authors") == 0
    assert Image.open(tmp_path / "authors" / "large.png").size == (728, 720)
    assert "1 resized to the authors' size" in capsys.readouterr().out
    assert run("--input", folder, "--output-dir", tmp_path / "tiled", "--model", model_file,
               "--tile", "256") == 0
    assert "Cartoonized 1 of 1 image in" in (out := capsys.readouterr().out)
    assert "1 run in tiles at full size" in out


def test_an_exported_saved_model_runs_as_model(tmp_path, rng, small_generator, model_file,
                                               capsys):
    from cartoonize_tf.export.saved_model import export_saved_model

    base = tmp_path / "exports" / "cartoonizer"
    version = export_saved_model(small_generator, base, 1)
    Image.fromarray(random_photo(rng, 40, 56)).save(tmp_path / "photo.png")
    assert run("--input", tmp_path / "photo.png", "--output-dir", tmp_path / "direct",
               "--model", model_file, "--backend", "tf") == 0  # the SavedModel's own runtime
    expected = np.asarray(Image.open(tmp_path / "direct" / "photo.png"))
    for model in (version, base):  # a version folder, or the base path (its newest version)
        out = tmp_path / f"out-{Path(model).name}"
        assert run("--input", tmp_path / "photo.png", "--output-dir", out, "--model", model) == 0
        served = np.asarray(Image.open(out / "photo.png"))
        assert served.shape == expected.shape and np.abs(served.astype(int) - expected).max() <= 1
    capsys.readouterr()
    assert run("--input", tmp_path / "photo.png", "--output-dir", tmp_path / "x", "--model",
               base, "--backend", "tf") == 2
    assert "leave --backend out" in capsys.readouterr().err


def test_without_input_outside_the_project_it_asks_for_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--no-progress"], root=tmp_path) == 2
    assert "give --input" in capsys.readouterr().err


def test_exports_go_to_the_current_folder_not_the_package(tmp_path, small_generator,
                                                          model_file, monkeypatch):
    """Default outputs of every exporter land in ./exports; the checkout's saved_models/ is
    left as it was (nothing added, so `serve` still serves the shipped version)."""
    shipped = sorted(p.relative_to(PROJECT_ROOT) for p in (PROJECT_ROOT / "saved_models").rglob("*"))
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--model", str(model_file)]) == 0
    assert main(["export-tflite", "--model", str(model_file), "--quantization", "float32"]) == 0
    assert (tmp_path / "exports" / "cartoonizer" / "1" / "saved_model.pb").is_file()
    assert (tmp_path / "exports" / "cartoonizer_float32.tflite").is_file()
    assert sorted(p.relative_to(PROJECT_ROOT)
                  for p in (PROJECT_ROOT / "saved_models").rglob("*")) == shipped


@pytest.mark.every_cpu
def test_verbose_says_which_backend_auto_took(photo_folder, tmp_path, model_file, capsys):
    args = ["--input", photo_folder / "a.png", "--output-dir", tmp_path / "out", "--model",
            model_file]
    assert run(*args) == 0
    assert "Backend auto" not in capsys.readouterr().out
    assert main(["run", "--verbose", "--no-progress", *map(str, args)]) == 0
    from cartoonize_tf.inference.choice import auto_backend

    name, reason = auto_backend(has_gpu=False)  # the faked CPU's choice, and why
    assert f"Backend auto: {name} ({reason})" in capsys.readouterr().out
    import logging

    assert logging.getLogger("cartoonize_tf").level == logging.NOTSET  # restored
