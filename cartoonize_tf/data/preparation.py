"""The default model's training folder, rebuilt from public sources (`cartoonize prepare-data`).

For every source photo (`photo_sources`, and the photographs whose cartoons
only the GAN's cartoon side sees: `cartoon_sources.RENDERED_PHOTOS`; paired
training has no sides to keep apart), at each scale (short side 512 and
768 px, never enlarged), the renderer draws the cartoon of the whole picture,
then photo and cartoon are cut into the same 256 px patches:

    <output>/photo_scenery/<name>.png     the photo patches
    <output>/cartoon_scenery/<name>.png   the renderer's cartoons, same names (paired)
    <output>/eval_photos/<name>.png       held-out photos, short side 720, never trained on
    <output>/manifest.json                every source, its licence and its patches

The folder is built beside the output and renamed into place when complete.
"""

import json
import shutil
from pathlib import Path

import cv2
from tqdm import tqdm

from cartoonize_tf.utils.image_io import write_image
from cartoonize_tf.whitebox import renderer

SCALES = (512, 768)
PATCH_SIZE = 256
EVAL_SHORT_SIDE = 720


def resize_short_side(image, short_side):
    """Scaled down (area resampling) so the short side is `short_side`; never enlarged."""
    height, width = image.shape[:2]
    scale = short_side / min(height, width)
    if scale >= 1.0:
        return image
    size = (round(width * scale), round(height * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def patch_grid(height, width, patch):
    """Top-left corners of the non-overlapping patches of a centred grid."""
    top0, left0 = (height % patch) // 2, (width % patch) // 2
    return [(top, left) for top in range(top0, height - patch + 1, patch)
            for left in range(left0, width - patch + 1, patch)]


def file_stem(name):
    return name.replace("/", "_").replace(".jpg", "").replace(".png", "")


def scaled_versions(image, scales=SCALES, patch=PATCH_SIZE):
    """The image at each scale (short side, never enlarged) large enough for a patch, once a size."""
    done = set()
    for short_side in scales:
        scaled = resize_short_side(image, short_side)
        if min(scaled.shape[:2]) < patch or scaled.shape in done:
            continue
        done.add(scaled.shape)
        yield scaled


def windows(shape, patch=PATCH_SIZE):
    """(suffix, window) of each patch of the centred grid; the suffix names scale and place."""
    height, width = shape[:2]
    for top, left in patch_grid(height, width, patch):
        yield (f"s{min(height, width)}_{top}_{left}",
               (slice(top, top + patch), slice(left, left + patch)))


def cut_pairs(photo, scales=SCALES, patch=PATCH_SIZE):
    """Yields (suffix, photo patch, cartoon patch) over every scale the photo is large enough for."""
    for scaled in scaled_versions(photo, scales, patch):
        cartoon = renderer.render_cartoon(scaled)
        for suffix, window in windows(scaled.shape, patch):
            yield suffix, scaled[window], cartoon[window]


def prepare(output, cache, progress=True):
    """Builds the training folder at `output`; returns the manifest."""
    from cartoonize_tf.data.cartoon_sources import rendered_photos
    from cartoonize_tf.data.photo_sources import all_photos

    output, partial = Path(output), Path(f"{output}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    for folder in ("photo_scenery", "cartoon_scenery", "eval_photos"):
        (partial / folder).mkdir(parents=True)
    photos = all_photos(cache) + rendered_photos(cache)
    manifest = {"patch_size": PATCH_SIZE, "scales": list(SCALES),
                "teacher": "cartoonize_tf.whitebox.renderer.render_cartoon", "sources": []}
    for photo in tqdm(photos, desc="Rendering", unit="photo", disable=not progress):
        image, stem = photo.load(), file_stem(photo.name)
        entry = {"name": photo.name, "source": photo.source, "licence": photo.licence,
                 "size": list(image.shape[:2])}
        if photo.held_out:
            entry["eval_photo"] = f"eval_photos/{stem}.png"
            write_image(resize_short_side(image, EVAL_SHORT_SIDE), partial / entry["eval_photo"])
        else:
            entry["patches"] = []
            for suffix, photo_patch, cartoon_patch in cut_pairs(image):
                file_name = f"{stem}_{suffix}.png"
                write_image(photo_patch, partial / "photo_scenery" / file_name)
                write_image(cartoon_patch, partial / "cartoon_scenery" / file_name)
                entry["patches"].append(file_name)
        manifest["sources"].append(entry)
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    partial.rename(output)
    return manifest
