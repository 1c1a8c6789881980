"""Where the GAN's unpaired cartoons come from, with their licences.

Two kinds, both fetched again on any Debian or Ubuntu machine with
`apt-get download` and `dpkg -x` (`photo_sources.fetch_debian_package`):

- drawn art of three Debian packages (`DEBIAN_DRAWINGS`): painted scenery of
  SuperTux, the cel-shaded mission scenes, skies and forts of Hedgewars, and
  Tux Paint's cartoon stamps (flat colours with dark outlines);
- the white-box renderer's cartoons of photographs that only the cartoon side
  sees (`RENDERED_PHOTOS`, from a third wallpaper package): the photo side keeps
  every photo of `photo_sources`, so no picture is on both sides.

How the lists were chosen: every image of these packages with a short side of
at least 171 px (256 after at most 1.5x enlargement) was put on contact
sheets and looked at, with centre crops at training scale. Kept: drawn or
painted pictures with flat colour regions and clear outlines. Left out: pixel
art, photographs (Tux Paint's non-cartoon stamps, tuxtype's backgrounds), UI
icons, sprite sheets and tile sets, tileable textures, soft airbrushed or
near-black backgrounds (SuperTux's oiltux, nightsky, halloween outro), and
pictures that hold colour-key magenta. Stamps and sprites that are mostly
transparent give few or no patches (see `gan_preparation.cut_drawing`). Only
packages with a machine-readable (DEP-5) copyright file are used, so that each
file's licence is the one that file states. gcompris-qt keeps its pictures as SVG inside Qt
resource files, and openclipart, wesnoth and fillets-ng have no DEP-5 file.
"""

from dataclasses import dataclass

import numpy as np

from cartoonize_tf.data.photo_sources import debian_files, photo_of

DEBIAN_DRAWINGS = {
    "hedgewars-data": {
        "folder": "usr/share/games/hedgewars/Data",
        "copyright_folder": "share/hedgewars/Data",
        "names": [
            # mission scenes: cel-shaded landscapes with outlines (314 x 260 previews)
            "Graphics/Missions/Campaign/A_Classic_Fairytale/*@2x.png",
            "Graphics/Missions/Campaign/A_Space_Adventure/*@2x.png",
            "Graphics/Missions/Challenge/*@2x.png",
            "Graphics/Missions/Scenario/*@2x.png",
            "Graphics/Missions/Training/*@2x.png",
            # forts: large cel-shaded buildings and characters
            "Forts/CakeL.png", "Forts/CastleL.png", "Forts/EarthL.png", "Forts/EvilChickenL.png",
            "Forts/FlowerhogL.png", "Forts/HydrantL.png", "Forts/Lonely_IslandL.png",
            "Forts/OctopusL.png", "Forts/OlympicL.png", "Forts/PlaneL.png", "Forts/SnailL.png",
            "Forts/StatueL.png", "Forts/SteelTowerL.png", "Forts/TankL.png", "Forts/UFOL.png",
            # theme skies (flat painted backgrounds) and theme objects
            "Themes/City/Sky.png", "Themes/Desert/Sky.png", "Themes/Hoggywood/Sky.png",
            "Themes/Jungle/Sky.png", "Themes/Brick/plant1.png", "Themes/Christmas/reindeer.png",
            "Themes/Christmas/tree.png", "Themes/Desert/buzzard.png", "Themes/Fruit/Watermelon.png",
            "Themes/Golf/Car.png", "Themes/Hell/plant1.png", "Themes/Hoggywood/palm.png",
            "Themes/Sheep/mouton1.png", "Themes/Sheep/mouton3.png",
        ],
        "exclude": ["Graphics/Missions/Scenario/Big_Armory@2x.png"],  # a weapon menu (UI)
    },
    "supertux-data": {
        "folder": "usr/share/games/supertux2/images/background",
        "copyright_folder": "data/images/background",
        "names": [
            "antarctic/semi_arctic.jpg", "christmas/intro.jpg", "christmas/outro.jpg",
            "ghostforest/ghostforest.jpg", "halloween/intro.jpg",
        ],
    },
    "tuxpaint-stamps-default": {
        "folder": "usr/share/tuxpaint/stamps",
        "names": [
            "animals/birds/cartoon/*.png", "animals/insects/cartoon/*.png",
            "animals/mammals/bears/cartoon/*.png", "food/dessert/cartoon/*.png",
            "food/fruit/cartoon/*.png", "people/cartoon/*.png", "town/cartoon/*.png",
            "town/houses/cartoon/*.png", "town/monuments/cartoon/*.png",
        ],
    },
}

# Photographs (lomiri-wallpapers-16.04, each with its own licence in the DEP-5 file) that only
# the renderer sees: their cartoons go to the cartoon side, the photos themselves nowhere. Left
# out: analogpattern and umang, which are abstract art.
RENDERED_PHOTOS = {
    "lomiri-wallpapers-16.04": {
        "folder": "usr/share/backgrounds",
        "copyright_folder": "16.04",
        "names": ["Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg",
                  "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg",
                  "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
                  "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg",
                  "greentock_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
                  "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
                  "sunset_by_Aitzol_Berasategi.jpg"],
    },
}


@dataclass
class Drawing:
    """One drawn picture: how to load it (uint8 RGBA) and where it came from."""

    name: str
    load: object  # () -> uint8 RGBA array
    package: str
    version: str
    path: str
    licence: str


def read_rgba(path):
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def debian_drawings(cache, packages=None):
    return [Drawing(name=f.name, load=lambda path=f.file: read_rgba(path), package=f.package,
                    version=f.version, path=f.path, licence=f.licence)
            for f in debian_files(DEBIAN_DRAWINGS if packages is None else packages, cache)]


def rendered_photos(cache, packages=None):
    """The photographs whose renderer cartoons join the cartoon side (never the photo side)."""
    return [photo_of(f) for f in debian_files(RENDERED_PHOTOS if packages is None else packages,
                                               cache)]
