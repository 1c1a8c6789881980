"""`cartoonize video`: frames, rate, size and sound kept; steady by default; strength 0 is the
video; bad input fails."""

import numpy as np
import pytest
from helpers import make_test_video, video_facts

from cartoonize_tf.cli.main import main
from cartoonize_tf.inference.video import output_size, read_frames

RATE = 12  # frames/s of the test videos; one frame is 1/12 s


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    make_test_video(path, rate=RATE)
    return path


def video(*args):
    return main(["video", "--no-progress", *map(str, args)])


@pytest.mark.every_cpu
def test_frames_rate_size_and_sound_are_kept(clip, tmp_path, model_file):
    out = tmp_path / "cartoon.mp4"
    assert video(clip, out, "--model", model_file) == 0
    count, rate, size, codec, seconds, packets = video_facts(out)
    source = video_facts(clip)
    assert (count, rate, size) == (18, RATE, (64, 48)) == source[:3]
    assert codec == "aac" and abs(seconds - source[4]) <= 1 / RATE
    assert packets == source[5]  # the sound is copied, not re-encoded
    assert [p.name for p in tmp_path.iterdir()] == ["cartoon.mp4"]  # no temporary left


def test_strength_zero_gives_back_the_decoded_frames(clip, tmp_path, model_file):
    out = tmp_path / "same.mp4"
    assert video(clip, out, "--model", model_file, "--strength", "0") == 0
    decoded, written = list(read_frames(clip)), list(read_frames(out))
    assert len(written) == len(decoded)
    error = np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(decoded, written, strict=True)])
    assert error < 2.0  # libx264 at crf 18: a re-encode's loss


@pytest.mark.parametrize("suffix, video_codec, audio_codec, expected_audio", [
    (".webm", "libvpx-vp9", "libopus", "opus"),   # copied into the MP4
    (".mov", "libx264", "pcm_s16le", "aac"),      # MP4 cannot hold PCM: re-encoded
])
def test_other_containers_in(tmp_path, model_file, suffix, video_codec, audio_codec,
                             expected_audio):
    source = tmp_path / f"clip{suffix}"
    make_test_video(source, rate=RATE, seconds=1.0, video_codec=video_codec,
                    audio_codec=audio_codec)
    out = tmp_path / "out.mp4"
    assert video(source, out, "--model", model_file, "--max-side", "32") == 0
    count, rate, size, codec, seconds, _ = video_facts(out)
    assert (count, rate, size, codec) == (12, RATE, (32, 24), expected_audio)
    assert abs(seconds - 1.0) <= 1 / RATE


def test_bad_input_exits_2(tmp_path, model_file, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing else")
    assert video(bad, tmp_path / "out.mp4", "--model", model_file) == 2
    assert "cannot read" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]


def test_the_input_is_never_the_output(clip, model_file, capsys):
    before = clip.read_bytes()
    assert video(clip, clip, "--model", model_file, "--overwrite") == 2
    assert "is the input" in capsys.readouterr().err
    assert clip.read_bytes() == before


def test_output_size_caps_and_evens():
    assert output_size(1920, 1080) == (1920, 1080)
    assert output_size(1920, 1080, max_side=1280) == (1280, 720)
    assert output_size(65, 49) == (64, 48)


def still_noisy_clip(path, rng, frames=8):
    """A still camera over a textured picture, with new noise each frame (sigma 4 levels)."""
    import cv2

    picture = cv2.GaussianBlur(rng.uniform(0, 255, (48, 64, 3)), (0, 0), 1.5)
    noisy = [np.clip(np.rint(picture + rng.normal(0, 4, picture.shape)), 0, 255).astype(np.uint8)
             for _ in range(frames)]
    make_test_video(path, 64, 48, RATE, frames / RATE, frames=noisy)


def mean_change(frames):
    return np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(frames[1:], frames[:-1], strict=True)])


def test_video_is_steady_unless_asked_per_frame(tmp_path, rng, model_file, capsys):
    # A named backend: in bfloat16 (auto on some CPUs) the small model's per-frame cartoons
    # barely move on this clip, and the comparison would measure the encoder.
    source = tmp_path / "still.mp4"
    still_noisy_clip(source, rng)
    backend = ("--model", model_file, "--backend", "tf")
    assert video(source, tmp_path / "steady.mp4", *backend) == 0
    assert video(source, tmp_path / "plain.mp4", *backend, "--no-steady") == 0
    steady, plain = (list(read_frames(tmp_path / name)) for name in ("steady.mp4", "plain.mp4"))
    assert mean_change(steady) < mean_change(plain) / 2
    # The temporal option it replaced still runs, and says what to use.
    assert video(source, tmp_path / "old.mp4", *backend, "--smooth", "0.5") == 0
    assert "--smooth is replaced by the steady mode" in capsys.readouterr().err


def one_pixel_wide_video(path, frames=3):
    """A 1 x 16 video (RGB H.264 in Matroska, which allows odd sides)."""
    import av

    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264rgb", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = 1, 16, "rgb24"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((16, 1, 3), 100, np.uint8), format="rgb24")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def test_a_one_pixel_wide_video_is_a_one_line_error(tmp_path, model_file, capsys):
    thin = tmp_path / "thin.mkv"
    one_pixel_wide_video(thin)
    assert video(thin, tmp_path / "out.mp4", "--model", model_file) == 2
    error = capsys.readouterr().err
    assert "too small" in error and "Traceback" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thin.mkv"]


def test_frames_over_the_pixel_cap_are_refused_before_decoding(clip, tmp_path, model_file,
                                                               capsys):
    assert video(clip, tmp_path / "out.mp4", "--model", model_file,
                 "--max-pixels", 64 * 48 - 1) == 2
    assert "the limit is 3,071" in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


def test_an_error_on_the_writing_thread_comes_out_and_leaves_no_output(clip, tmp_path,
                                                                       monkeypatch):
    """The steady step and the encoder run on a thread of their own: what fails there fails
    the call, and the half-written file is removed."""
    from cartoonize_tf.inference import video as video_module
    from cartoonize_tf.inference.steady import SteadyFrames

    written = []

    def failing_write(self, rgb, source_frame):
        written.append(1)
        if len(written) == 5:
            raise OSError("no space left on the device")

    monkeypatch.setattr(video_module.VideoWriter, "write_frame", failing_write)
    out = tmp_path / "cartoon.mp4"
    with pytest.raises(OSError, match="no space left"):
        video_module.cartoonize_video(lambda rgb: rgb, clip, out, progress=False,
                                      steady=SteadyFrames())
    assert list(tmp_path.iterdir()) == [] and len(written) == 5
