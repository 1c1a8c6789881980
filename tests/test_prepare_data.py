"""Building the default model's training folder, on stand-in photos (no download)."""

import json
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from cartoonize_tf.cli.main import main
from cartoonize_tf.data import cartoon_sources, photo_sources
from cartoonize_tf.data.photo_sources import Photo, debian_licences, licence_of
from cartoonize_tf.data.preparation import cut_pairs, patch_grid

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: backgrounds

Files: *
Copyright: 2008, Somebody
License: GPL-2+

Files: nature/Aqua.jpg
 nature/Dune.jpg
Copyright: 2007, Marco
 and friends
License: CC-BY-SA-3.0

License: GPL-2+
 On Debian systems, see /usr/share/common-licenses/GPL-2.
"""


def test_licences_come_from_the_last_matching_stanza(tmp_path):
    (tmp_path / "copyright").write_text(COPYRIGHT)
    stanzas = debian_licences(tmp_path / "copyright")
    assert len(stanzas) == 2
    assert licence_of("nature/Dune.jpg", stanzas) == "CC-BY-SA-3.0 (2007, Marco and friends)"
    assert licence_of("abstract/Silk.png", stanzas) == "GPL-2+ (2008, Somebody)"


def test_patches_tile_the_picture_at_each_scale():
    assert patch_grid(600, 520, 256) == [(44, 4), (44, 260), (300, 4), (300, 260)]
    photo = data.coffee()  # 400 x 600: too small for 512 and 768, so only its own size
    pairs = list(cut_pairs(photo))
    assert [name for name, _, _ in pairs] == ["s400_72_44", "s400_72_300"]
    name, photo_patch, cartoon_patch = pairs[0]
    np.testing.assert_array_equal(photo_patch, photo[72:328, 44:300])
    assert cartoon_patch.shape == (256, 256, 3) and not np.array_equal(cartoon_patch, photo_patch)


def test_a_wheel_photo_is_read_from_the_wheel_with_its_package_and_licence(tmp_path,
                                                                          monkeypatch):
    photo = data.astronaut()[:64, :80]
    wheel = tmp_path / "portraits-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("portraits/data/face.png", cv2.imencode(".png", photo[..., ::-1])[1])
    monkeypatch.setattr(photo_sources, "WHEEL_PHOTOS",
                        {"portraits": ("1.0", "portraits/data/face.png", "CC0 (test)")})
    monkeypatch.setattr(photo_sources, "fetch_wheel",
                        lambda package, version, cache: wheel if (package, version) == (
                            "portraits", "1.0") else None)
    [found] = photo_sources.wheel_photos(tmp_path)
    assert (found.name, found.package, found.version, found.licence) == (
        "portraits/face.png", "portraits", "1.0", "CC0 (test)")
    assert found.source == f"PyPI wheel {wheel.name}: portraits/data/face.png"
    np.testing.assert_array_equal(found.load(), photo)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prepared")
    photos = [Photo("test/coffee", data.coffee, "skimage coffee", "CC0"),
              Photo("test/astronaut.jpg", data.astronaut, "skimage astronaut", "public domain",
                    held_out=True)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(photo_sources, "all_photos", lambda cache: photos[:1])
        patch.setattr(cartoon_sources, "rendered_photos", lambda cache: photos[1:])
        assert main(["prepare-data", "--output-dir", str(folder / "data"), "--cache-dir",
                     str(folder / "cache"), "--no-progress"]) == 0
    return folder / "data"


def test_prepare_data_writes_pairs_eval_photos_and_a_manifest(prepared, capsys):
    manifest = json.loads((prepared / "manifest.json").read_text())
    coffee, astronaut = manifest["sources"]
    assert coffee["licence"] == "CC0" and len(coffee["patches"]) == 2
    for name in coffee["patches"]:
        assert Image.open(prepared / "photo_scenery" / name).size == (256, 256)
        assert (prepared / "cartoon_scenery" / name).is_file()
    assert "patches" not in astronaut  # held out: never in the training folders
    assert Image.open(prepared / astronaut["eval_photo"]).size == (512, 512)
    assert not any("astronaut" in p.name for p in (prepared / "photo_scenery").iterdir())
    assert not prepared.with_name("data.partial").exists()
    assert main(["prepare-data", "--output-dir", str(prepared)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_paired_pretraining_learns_the_cartoons(prepared, tmp_path, capsys):
    assert main(["pretrain", "--paired", "--data-dir", str(prepared), "--steps", "2",
                 "--patch-size", "32", "--batch-size", "2", "--sample-every", "0",
                 "--output-dir", str(tmp_path / "run"), "--no-progress"]) == 0
    assert (tmp_path / "run" / "generator.keras").is_file()
    assert "Cartoonize with: python test_code/cartoonize.py" in capsys.readouterr().out


def test_fetch_errors_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(photo_sources.SourceError, match="no-such-package-cartoonize"):
        photo_sources.fetch_debian_package("no-such-package-cartoonize", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get anywhere
    with pytest.raises(photo_sources.SourceError, match="apt-get is missing"):
        photo_sources.fetch_debian_package("mate-backgrounds", tmp_path)
