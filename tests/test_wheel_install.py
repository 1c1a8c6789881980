"""The built wheel, installed into a fresh environment, cartoonizes a photo from a folder
outside the checkout with the model it carries.

The fresh environment takes its dependencies from this one (a path entry to this
environment's site-packages, after its own) so the test needs no second TensorFlow
download; `cartoonize_tf` itself and its model come from the wheel alone.
"""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
from helpers import random_photo
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(folder):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                    str(folder), str(ROOT)], check=True, timeout=600)
    [wheel] = folder.glob("cartoonize_tf-*.whl")
    return wheel


def fresh_environment(folder, wheel):
    # The fresh environment's own pip: this environment's pip, even with --prefix, would
    # uninstall the project from here first.
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=600)
    python = folder / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=600)
    site = folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
        "site-packages"
    (site / "dependencies_from_the_test_environment.pth").write_text(
        "\n".join(sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}))
        + "\n")
    return python


def test_the_wheel_cartoonizes_a_photo_from_any_folder(tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(n.endswith("share/cartoonize_tf/saved_models/cartoonizer.keras") for n in names)
    assert any(n.endswith("cartoonize_tf/serving/rest/web/index.html") for n in names)
    assert any("share/cartoonize_tf/saved_models/conversions/" in n and n.endswith(".tflite")
               for n in names)
    python = fresh_environment(tmp_path / "env", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    photo = random_photo(np.random.default_rng(0), 64, 96)
    Image.fromarray(photo).save(elsewhere / "photo.jpg", quality=95)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CARTOONIZE_TF_MODEL")}
    env["CARTOONIZE_TF_CACHE"] = str(tmp_path / "cache")
    where = subprocess.run([str(python), "-c", "import cartoonize_tf; print(cartoonize_tf.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert str(tmp_path / "env") in where.stdout, where.stdout  # the wheel's copy, not the checkout
    result = subprocess.run([str(python), "-m", "cartoonize_tf.cli.main", "run", "--input",
                             "photo.jpg", "--output", "cartoons"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    [cartoon] = (elsewhere / "cartoons").iterdir()
    image = np.asarray(Image.open(cartoon).convert("RGB"))
    assert image.shape == photo.shape and not np.array_equal(image, photo)
    # The default path found the conversion the wheel ships: it converted nothing.
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
