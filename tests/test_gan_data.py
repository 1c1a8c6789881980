"""The GAN's unpaired training folder, on fake unpacked Debian packages (no download)."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from cartoonize_tf.cli.main import main
from cartoonize_tf.data import cartoon_sources, photo_sources
from cartoonize_tf.data.gan_preparation import check_sides_apart, cut_drawing
from cartoonize_tf.data.image_folders import list_images
from cartoonize_tf.data.photo_sources import Photo, SourceError

VERSION = "1.2-3"

COPYRIGHTS = {
    "fake-photos": """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020, Wallpaper Team
License: CC0-1.0

Files: pics/held.png
Copyright: 2021, Someone Else
License: CC-BY-4.0
""",
    "fake-other-photos": """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2018, Photographer
License: CC-BY-SA-4.0
""",
    "fake-game-data": """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2019 Game Team
License: GPL-2

Files: data/art/forts/*
Copyright: 2020 Fort Artist
License: GFDL-1.3
""",
}


def drawing(height, width, colour=(230, 120, 40)):
    """A sprite: an outlined ellipse and a stripe on a transparent sheet with a margin."""
    rgba = np.zeros((height, width, 4), np.uint8)
    centre, axes = (width // 2, height // 2), (width // 2 - 12, height // 2 - 12)
    cv2.ellipse(rgba, centre, axes, 0, 0, 360, (*colour, 255), -1)
    cv2.rectangle(rgba, (width // 3, 20), (width // 2, height - 20), (40, 90, 200, 255), -1)
    cv2.ellipse(rgba, centre, axes, 0, 0, 360, (0, 0, 0, 255), 4)
    return rgba


def save(array, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def build_from_fake_packages(root, *options):
    """Runs `prepare-data --gan` on three fake packages, as if fetched and unpacked;
    returns the folder and the packages fetched."""
    trees = root / "unpacked"
    for package, text in COPYRIGHTS.items():
        (trees / package / "usr/share/doc" / package).mkdir(parents=True)
        (trees / package / "usr/share/doc" / package / "copyright").write_text(text)
    save(data.chelsea(), trees / "fake-photos/usr/share/wallpapers/pics/cat.jpg")
    save(data.astronaut()[::2, ::2], trees / "fake-photos/usr/share/wallpapers/pics/held.png")
    save(data.coffee(), trees / "fake-other-photos/usr/share/backgrounds/coffee.jpg")
    art = trees / "fake-game-data/usr/share/games/fake/art"
    save(drawing(300, 330), art / "forts/castle.png")
    save(drawing(290, 300, (90, 200, 90)), art / "scenes/hill.png")
    save(drawing(200, 230, (200, 60, 160)), art / "scenes/small.png")  # enlarged 1.28x
    save(drawing(120, 120), art / "scenes/tiny.png")  # would need 2.1x: no patch
    fetched = []

    def fake_fetch(package, cache):
        fetched.append(package)
        return trees / package, VERSION

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(photo_sources, "fetch_debian_package", fake_fetch)
        patch.setattr(photo_sources, "DEBIAN_PHOTOS", {"fake-photos": {
            "folder": "usr/share/wallpapers", "names": ["pics/cat.jpg", "pics/held.png"]}})
        patch.setattr(photo_sources, "HELD_OUT", {"fake-photos/pics/held.png"})
        patch.setattr(photo_sources, "SKIMAGE_PHOTOS", {"rocket": "public domain (test)"})
        patch.setattr(photo_sources, "WHEEL_PHOTOS", {})
        patch.setattr(cartoon_sources, "RENDERED_PHOTOS", {"fake-other-photos": {
            "folder": "usr/share/backgrounds", "names": ["coffee.jpg"]}})
        patch.setattr(cartoon_sources, "DEBIAN_DRAWINGS", {"fake-game-data": {
            "folder": "usr/share/games/fake/art", "copyright_folder": "data/art",
            "names": ["forts/castle.png", "scenes/*.png"]}})
        assert main(["prepare-data", "--gan", "--output-dir", str(root / "data"),
                     "--cache-dir", str(root / "cache"), "--no-progress", *options]) == 0
    return root / "data", set(fetched)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder, fetched = build_from_fake_packages(tmp_path_factory.mktemp("gan"))
    assert fetched == set(COPYRIGHTS)
    return folder


def test_no_drawings_leaves_the_drawn_art_out_and_unfetched(tmp_path):
    folder, fetched = build_from_fake_packages(tmp_path, "--no-drawings")
    assert fetched == {"fake-photos", "fake-other-photos"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {s["kind"] for s in manifest["sources"]} == {"photo", "rendered photo"}
    assert "drawn art" not in manifest["split"]
    cartoons = [Path(path).name for path in list_images(folder / "cartoon_scenery").files]
    assert cartoons and all(name.startswith("rendered_") for name in cartoons)


def test_no_drawings_without_gan_is_refused(tmp_path, capsys):
    assert main(["prepare-data", "--no-drawings", "--output-dir", str(tmp_path / "data")]) == 2
    assert "--gan" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_the_manifest_gives_package_version_path_licence_and_side_per_file(prepared):
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert "no source image is on both sides" in manifest["split"].lower()
    found = {s["name"]: s for s in manifest["sources"]}
    for source in found.values():
        assert source["package"] and source["version"] and source["path"] and source["licence"]
    expected = {
        "fake-photos/pics/cat.jpg": ("photo", "photo", "/usr/share/wallpapers/pics/cat.jpg",
                                     "CC0-1.0 (2020, Wallpaper Team)"),
        "fake-photos/pics/held.png": ("eval", "photo", "/usr/share/wallpapers/pics/held.png",
                                      "CC-BY-4.0 (2021, Someone Else)"),
        "fake-other-photos/coffee.jpg": ("cartoon", "rendered photo",
                                         "/usr/share/backgrounds/coffee.jpg",
                                         "CC-BY-SA-4.0 (2018, Photographer)"),
        "fake-game-data/forts/castle.png": ("cartoon", "drawing",
                                            "/usr/share/games/fake/art/forts/castle.png",
                                            "GFDL-1.3 (2020 Fort Artist)"),
        "fake-game-data/scenes/hill.png": ("cartoon", "drawing",
                                           "/usr/share/games/fake/art/scenes/hill.png",
                                           "GPL-2 (2019 Game Team)"),
    }
    for name, (side, kind, path, licence) in expected.items():
        source = found[name]
        assert (source["side"], source["kind"], source["path"], source["licence"],
                source["version"]) == (side, kind, path, licence, VERSION)
    rocket = found["skimage/rocket"]
    assert (rocket["package"], rocket["side"], rocket["path"]) == (
        "scikit-image", "photo", "skimage.data.rocket()")
    assert found["fake-game-data/scenes/small.png"]["patches"]  # enlarged 1.28x to 256
    assert found["fake-game-data/scenes/tiny.png"]["patches"] == []  # 2.1x is too much
    held = found["fake-photos/pics/held.png"]
    assert "patches" not in held and (prepared / held["eval_photo"]).is_file()


def test_photo_and_cartoon_sides_share_no_source(prepared):
    manifest = json.loads((prepared / "manifest.json").read_text())
    sides = {"photo": set(), "cartoon": set(), "eval": set()}
    listed = {"photo": set(), "cartoon": set()}
    for source in manifest["sources"]:
        sides[source["side"]].add((source["package"], source["path"]))
        listed.get(source["side"], set()).update(source.get("patches", []))
    assert sides["photo"] and sides["cartoon"]
    assert not sides["photo"] & sides["cartoon"] and not sides["eval"] & (
        sides["photo"] | sides["cartoon"])
    # every written patch is listed under its own side's sources, and nothing else is there
    for side in ("photo", "cartoon"):
        files = {p.name for p in (prepared / f"{side}_scenery").iterdir()}
        assert files == listed[side]
        assert len(list_images(prepared / f"{side}_scenery").files) == len(files)
    for name in listed["cartoon"]:
        assert Image.open(prepared / "cartoon_scenery" / name).size == (256, 256)
    assert not prepared.with_name("data.partial").exists()


def test_a_source_on_both_sides_is_refused():
    photo = Photo("pkg/a.jpg", None, "", "CC0", package="pkg", version="1", path="/a.jpg")
    other = Photo("pkg/b.jpg", None, "", "CC0", package="pkg", version="1", path="/b.jpg")
    check_sides_apart([photo], [other])
    with pytest.raises(SourceError, match="both the photo and the cartoon side: pkg /a.jpg"):
        check_sides_apart([photo, other], [photo])


def test_drawings_lie_on_white_and_empty_patches_are_dropped():
    patches = list(cut_drawing(drawing(300, 330)))
    # cropped to the visible part (281 x 311 of the 300 x 330 sheet), then one centred patch
    assert [suffix for suffix, _ in patches] == ["s281_12_27"]
    corner = patches[0][1][0, 0]
    np.testing.assert_array_equal(corner, [255, 255, 255])  # transparent -> white backdrop
    assert list(cut_drawing(np.zeros((400, 400, 4), np.uint8))) == []  # nothing visible
    flat = np.full((400, 400, 4), 200, np.uint8)
    assert list(cut_drawing(flat)) == []  # no edges
