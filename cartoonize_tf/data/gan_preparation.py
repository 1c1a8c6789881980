"""The GAN's training folder, unpaired, from public sources (`cartoonize prepare-data --gan`).

    <output>/photo_scenery/<name>.png          photo patches: every photo of
                                               `photo_sources` but the held-out ones
    <output>/teacher_scenery/<name>.png        the renderer's cartoon of each photo
                                               patch (same name): the optional
                                               paired term of `train.py`
    <output>/cartoon_scenery/drawn_<name>.png  patches of drawn art (`cartoon_sources`)
    <output>/cartoon_scenery/rendered_<name>.png
                                               the renderer's cartoons of photos
                                               that are on no other side
    <output>/eval_photos/<name>.png            held-out photos, short side 720
    <output>/manifest.json                     every source image: package, version,
                                               path, licence, side and patches

Patches are 256 px, cut on a centred grid of each picture at short sides 512
and 768 (never enlarged), as `preparation` does. A drawing is first cropped to
its visible part and laid on a white backdrop (transparent sprites), and one
with a short side under 256 px is enlarged to 256 if that takes at most 1.5x
(else left out). A drawing's patch is kept only if at least half of it is the
drawing and it holds some edges (not an empty sky or backdrop).
"""

import json
import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from cartoonize_tf.data.photo_sources import SourceError
from cartoonize_tf.data.preparation import (
    EVAL_SHORT_SIDE,
    PATCH_SIZE,
    SCALES,
    cut_pairs,
    file_stem,
    resize_short_side,
    scaled_versions,
    windows,
)
from cartoonize_tf.utils.image_io import write_image

logger = logging.getLogger(__name__)

BACKDROP = (255, 255, 255)
MAX_UPSCALE = 1.5
MIN_ART_SHARE = 0.5  # of a drawing's patch, the share that must be the drawing
MIN_EDGE_SHARE = 0.01  # of a drawing's patch, the share of Canny (50, 150) edge pixels


def describe_split(with_drawings):
    """The manifest's "split": what each side holds."""
    drawn = ("drawn art from Debian packages (cartoon_sources.DEBIAN_DRAWINGS) and "
             if with_drawings else "")
    return ("Photo side: the photos of photo_sources (Debian wallpapers and scikit-image) but "
            f"the held-out ones. Cartoon side: {drawn}the renderer's cartoons of the photos of "
            "cartoon_sources.RENDERED_PHOTOS, a different wallpaper package, whose photos are on "
            "no side. No source image is on both sides; the held-out photos are on neither.")


def flatten_drawing(rgba, backdrop=BACKDROP):
    """The visible part of an RGBA drawing on a flat backdrop: uint8 RGB and its alpha (uint8)."""
    alpha = rgba[..., 3]
    rows, cols = np.nonzero(alpha)
    if rows.size == 0:
        return None
    window = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    rgba = rgba[window]
    opacity = rgba[..., 3:].astype(np.float32) / 255.0
    rgb = rgba[..., :3] * opacity + np.asarray(backdrop, np.float32) * (1.0 - opacity)
    return np.round(rgb).astype(np.uint8), rgba[..., 3]


def edge_share(patch):
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    return float(np.mean(cv2.Canny(grey, 50, 150) > 0))


def cut_drawing(rgba, scales=SCALES, patch=PATCH_SIZE):
    """Yields (suffix, patch) of a drawing; see the module's description for what is kept."""
    flat = flatten_drawing(rgba)
    if flat is None:
        return
    image = np.dstack(flat)  # RGB and alpha scale together
    short = min(image.shape[:2])
    if short < patch:
        if patch / short > MAX_UPSCALE:
            return
        height, width = image.shape[:2]
        size = (max(patch, round(width * patch / short)), max(patch, round(height * patch / short)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    for scaled in scaled_versions(image, scales, patch):
        for suffix, window in windows(scaled.shape, patch):
            rgb, alpha = scaled[window][..., :3], scaled[window][..., 3]
            if np.mean(alpha) / 255.0 >= MIN_ART_SHARE and edge_share(rgb) >= MIN_EDGE_SHARE:
                yield suffix, np.ascontiguousarray(rgb)


def describe(item, side, kind, image):
    return {"name": item.name, "package": item.package, "version": item.version,
            "path": item.path, "licence": item.licence, "side": side, "kind": kind,
            "size": list(image.shape[:2])}


def check_sides_apart(photos, cartoon_sources):
    """Raises SourceError if a source image would be on both sides."""
    def key(item):
        return (item.package, item.path)

    shared = {key(p) for p in photos} & {key(c) for c in cartoon_sources}
    if shared:
        raise SourceError("on both the photo and the cartoon side: "
                          + ", ".join(f"{package} {path}" for package, path in sorted(shared)))


def prepare_gan(output, cache, progress=True, with_drawings=True):
    """Builds the GAN's unpaired training folder at `output`; returns the manifest.

    With `with_drawings` False the cartoon side is the renderer's cartoons alone
    (the drawing packages are not fetched).
    """
    from cartoonize_tf.data import cartoon_sources, photo_sources

    output, partial = Path(output), Path(f"{output}.partial")
    photos = photo_sources.all_photos(cache)
    rendered = cartoon_sources.rendered_photos(cache)
    drawings = cartoon_sources.debian_drawings(cache) if with_drawings else []
    check_sides_apart(photos, rendered + drawings)
    shutil.rmtree(partial, ignore_errors=True)
    for folder in ("photo_scenery", "teacher_scenery", "cartoon_scenery", "eval_photos"):
        (partial / folder).mkdir(parents=True)
    manifest = {"kind": "gan (unpaired)", "patch_size": PATCH_SIZE, "scales": list(SCALES),
                "split": describe_split(with_drawings),
                "renderer": "cartoonize_tf.whitebox.renderer.render_cartoon",
                "drawings": {"backdrop": list(BACKDROP), "max_upscale": MAX_UPSCALE,
                             "min_art_share": MIN_ART_SHARE, "min_edge_share": MIN_EDGE_SHARE},
                "sources": []}
    work = ([("photo", p) for p in photos] + [("rendered photo", p) for p in rendered]
            + [("drawing", d) for d in drawings])
    for kind, item in tqdm(work, desc="Cutting", unit="image", disable=not progress):
        image, stem = item.load(), file_stem(item.name)
        if kind == "photo" and item.held_out:
            entry = describe(item, "eval", kind, image)
            entry["eval_photo"] = f"eval_photos/{stem}.png"
            write_image(resize_short_side(image, EVAL_SHORT_SIDE), partial / entry["eval_photo"])
        elif kind == "photo":
            entry = describe(item, "photo", kind, image)
            pairs = list(cut_pairs(image))
            entry["patches"] = write_patches(((s, photo) for s, photo, _ in pairs),
                                             partial / "photo_scenery", stem)
            write_patches(((s, teacher) for s, _, teacher in pairs), partial / "teacher_scenery",
                          stem)
        elif kind == "rendered photo":
            entry = describe(item, "cartoon", kind, image)
            entry["patches"] = write_patches(((s, cartoon) for s, _, cartoon in cut_pairs(image)),
                                             partial / "cartoon_scenery", f"rendered_{stem}")
        else:
            entry = describe(item, "cartoon", kind, image)
            entry["patches"] = write_patches(cut_drawing(image), partial / "cartoon_scenery",
                                             f"drawn_{stem}")
            if not entry["patches"]:
                logger.debug("%s gave no patch", item.name)
        manifest["sources"].append(entry)
    empty = [s["name"] for s in manifest["sources"] if s["kind"] == "drawing" and not s["patches"]]
    if empty:
        logger.info("%d of %d drawings gave no patch (mostly transparent, too small, or "
                    "without edges); manifest.json lists them with no patches", len(empty),
                    len(drawings))
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    partial.rename(output)
    return manifest


def write_patches(patches, folder, stem):
    names = []
    for suffix, patch in patches:
        names.append(f"{stem}_{suffix}.png")
        write_image(patch, folder / names[-1])
    return names
