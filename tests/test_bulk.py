"""`cartoonize bulk` on Beam's in-process runner: three images written, a re-run skips them all.

Skipped where Apache Beam is not installed (CI installs `.[test]`; Beam is the `[bulk]` extra).
"""

import pytest
from helpers import random_photo
from PIL import Image

beam = pytest.importorskip("apache_beam")

from cartoonize_tf.cli.main import main  # noqa: E402


@pytest.mark.every_cpu
def test_direct_runner_writes_then_skips(tmp_path, rng, model_file, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, (height, width) in {"a.png": (24, 32), "b.jpg": (40, 48), "c.png": (16, 16)}.items():
        Image.fromarray(random_photo(rng, height, width)).save(photos / name)
    out = tmp_path / "out"
    args = ["bulk", "--input", str(photos / "*"), "--output", str(out), "--model", str(model_file),
            "--runner", "DirectRunner"]  # a Beam option, passed through

    assert main(args) == 0
    assert "Cartoonized 3 images, skipped 0" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "c.png"]
    assert Image.open(out / "a.png").size == (32, 24)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    assert main(args) == 0
    assert "Cartoonized 0 images, skipped 3 already done" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps


def test_no_runner_named_runs_locally_and_an_empty_glob_is_an_error(tmp_path, rng, model_file,
                                                                   capsys, monkeypatch):
    from apache_beam.options.pipeline_options import StandardOptions

    from cartoonize_tf.inference import bulk

    runners = []
    real_pipeline = bulk.beam.Pipeline

    def recording_pipeline(options):
        runners.append(options.view_as(StandardOptions).runner)
        return real_pipeline(options=options)

    monkeypatch.setattr(bulk.beam, "Pipeline", recording_pipeline)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(random_photo(rng, 16, 24)).save(photos / "a.png")
    assert main(["bulk", "--input", str(photos / "*.png"), "--output", str(tmp_path / "out"),
                 "--model", str(model_file)]) == 0
    assert (tmp_path / "out" / "a.png").is_file()
    # Not Beam's DirectRunner, which first tries Prism (a binary it downloads).
    assert runners == [bulk.LOCAL_RUNNER]
    printed = capsys.readouterr()
    assert "Prism" not in printed.out + printed.err
    assert printed.out.strip().splitlines()[-1].startswith("Cartoonized 1 image,")
    assert main(["bulk", "--input", str(photos / "*.jpg"), "--output", str(tmp_path / "out"),
                 "--model", str(model_file)]) == 2
    assert "no file matches" in capsys.readouterr().err


def test_a_bare_glob_matches_in_the_current_folder(tmp_path, rng, model_file, monkeypatch):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg"):
        Image.fromarray(random_photo(rng, 16, 24)).save(photos / name)
    monkeypatch.chdir(photos)
    assert main(["bulk", "--input", "*.jpg", "--output", str(tmp_path / "out"),
                 "--model", str(model_file)]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.jpg", "b.jpg"]


def test_a_sequence_runs_steady_in_file_name_order(tmp_path, rng, model_file, capsys):
    """--steady: the frames of a still, noisy shot flicker less than per image; the first frame
    is the same either way."""
    import cv2
    import numpy as np

    picture = cv2.GaussianBlur(rng.uniform(0, 255, (48, 64, 3)), (0, 0), 1.5)
    frames = tmp_path / "frames"
    frames.mkdir()
    for index in range(5):
        noisy = np.clip(np.rint(picture + rng.normal(0, 4, picture.shape)), 0, 255)
        Image.fromarray(noisy.astype(np.uint8)).save(frames / f"frame_{index:03d}.png")
    outputs = {}
    for mode, flags in (("plain", []), ("steady", ["--steady"])):
        assert main(["bulk", "--input", str(frames / "*.png"), "--output", str(tmp_path / mode),
                     "--model", str(model_file), *flags]) == 0
        assert "Cartoonized 5 images" in capsys.readouterr().out
        outputs[mode] = [np.asarray(Image.open(tmp_path / mode / f"frame_{index:03d}.png"),
                                    dtype=np.int16) for index in range(5)]

    def change(clip):
        return np.mean([np.abs(a - b).mean() for a, b in zip(clip[1:], clip[:-1], strict=True)])

    np.testing.assert_array_equal(outputs["steady"][0], outputs["plain"][0])
    assert change(outputs["steady"]) < 0.75 * change(outputs["plain"])  # 0.61 measured
