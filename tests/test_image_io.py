import io

import numpy as np
import pytest
from helpers import png_claiming
from PIL import Image

from cartoonize_tf.utils.image_io import (
    ImageReadError,
    ImageTooLargeError,
    read_image,
    to_rgb_uint8,
    write_image,
)


def save(array, path, **options):
    Image.fromarray(array).save(path, **options)
    return path


def test_reads_rgb_png_exactly(tmp_path, rng):
    image = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(read_image(save(image, tmp_path / "a.png")), image)


def test_greyscale_becomes_three_equal_channels(tmp_path, rng):
    grey = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    image = read_image(save(grey, tmp_path / "g.png"))
    assert image.shape == (6, 5, 3)
    np.testing.assert_array_equal(image[..., 1], grey)


def test_rgba_drops_alpha(tmp_path, rng):
    rgba = rng.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    np.testing.assert_array_equal(read_image(save(rgba, tmp_path / "a.png")), rgba[..., :3])


def test_sixteen_bit_greyscale_is_scaled(tmp_path):
    deep = np.array([[0, 256, 65535]], np.uint16)
    image = read_image(save(deep, tmp_path / "deep.png"))
    assert image.dtype == np.uint8
    assert list(image[0, :, 0]) == [0, 1, 255]


def test_palette_images_are_converted(tmp_path, rng):
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(image).convert("P").save(tmp_path / "p.gif")
    assert read_image(tmp_path / "p.gif").shape == (8, 8, 3)


def test_exif_orientation_is_applied(tmp_path, rng):
    image = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    Image.fromarray(image).save(tmp_path / "r.jpg", exif=exif)
    assert read_image(tmp_path / "r.jpg").shape == (6, 4, 3)


def test_to_rgb_uint8_takes_floats_in_unit_range():
    out = to_rgb_uint8(np.array([[[0.0, 0.5, 1.0]]], np.float32))
    assert out.tolist() == [[[0, 128, 255]]]


@pytest.mark.parametrize("content,words", [
    (b"", "empty"),
    (b"this is text, not pixels", "not an image"),
])
def test_bad_files_are_named(tmp_path, content, words):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=words) as raised:
        read_image(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_files_fail(tmp_path, rng, suffix):
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        buffer, format="JPEG" if suffix == ".jpg" else "PNG")
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageReadError, match="cut"):
        read_image(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".bmp"])
def test_write_follows_the_suffix_and_leaves_no_temporary(tmp_path, rng, suffix):
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    write_image(image, tmp_path / "out" / f"x{suffix}")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"x{suffix}"]
    assert read_image(tmp_path / "out" / f"x{suffix}").shape == (8, 8, 3)


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        open(fp, "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("width,height,max_pixels,words", [
    (100000, 100000, None, "decompression-bomb"),  # over PIL's own limit
    (5000, 5000, 10_000_000, "over the limit of 10,000,000"),
])
def test_a_header_over_the_cap_is_refused_without_decoding(tmp_path, width, height, max_pixels,
                                                          words):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(width, height))
    with pytest.raises(ImageTooLargeError, match=words) as raised:
        read_image(path, max_pixels=max_pixels)
    assert str(path) in str(raised.value) and "not decoded" in str(raised.value)


def test_a_folder_named_like_an_image_fails_as_a_read_error(tmp_path):
    (tmp_path / "photo.jpg").mkdir()
    with pytest.raises(ImageReadError, match="photo.jpg"):
        read_image(tmp_path / "photo.jpg")


def test_any_decoder_failure_is_a_read_error(tmp_path, monkeypatch):
    path = tmp_path / "x.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    monkeypatch.setattr(Image.Image, "load", lambda self: (_ for _ in ()).throw(
        RuntimeError("decoder bug")))
    with pytest.raises(ImageReadError, match="decoder bug"):
        read_image(path)
