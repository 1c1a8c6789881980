"""Cartoonizing uint8 RGB images with a trained or converted generator.

TensorFlow and Keras are imported only where the chosen path needs them: the shipped
model's LiteRT conversion runs without them, in OpenVINO or LiteRT (`Cartoonizer.load`).
"""

import contextlib
import logging
from pathlib import Path

import numpy as np

from cartoonize_tf.contract.layout import saved_model_folder
from cartoonize_tf.contract.look import checked_look
from cartoonize_tf.inference.choice import auto_backend
from cartoonize_tf.inference.conversion_files import (
    CONVERTED_BACKENDS,
    conversion_kind,
    shipped_conversion,
)
from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.inference.options import DEFAULT_TILE, SIZE_POLICIES
from cartoonize_tf.inference.saved_model_runner import SavedModelCartoonizer
from cartoonize_tf.inference.sizing import authors_resize_crop, authors_size
from cartoonize_tf.utils.extras import MissingExtra
from cartoonize_tf.utils.tiling import cartoonize_tiled, runs_in_tiles
from cartoonize_tf.whitebox.look import stage_settings

logger = logging.getLogger(__name__)

# Exported files `load` runs, and the backend name of their runtime.
EXPORTED_RUNTIMES = {".tflite": "tflite", ".onnx": "onnx"}
# The options an exported model has built in (its runtime, output filter and cel stage): each
# one's default, and how the command line asks for something else.
BUILT_IN_OPTIONS = {"backend": ("auto", "--backend"), "cel_shading": (True, "--no-cel-shading"),
                    "filter_radius": (None, "--filter-radius"), "filter_eps": (None, "--filter-eps"),
                    "look": (None, "the look options (--preset, --tones, ...)")}


class ModelNotFoundError(FileNotFoundError):
    """Nothing at the path given as a model: no file or folder, no TF1 checkpoint prefix."""


class ModelLoadError(ValueError):
    """Something is at the path given as a model, but not a model `Cartoonizer.load` can read;
    the message is one line."""


def check_model_exists(path):
    """Raises ModelNotFoundError where `path` names nothing (a file, a folder, or a TF1
    checkpoint prefix: the part before `.index`)."""
    if not Path(path).exists() and not Path(f"{path}.index").exists():
        raise ModelNotFoundError(f"No model at {path}")


def check_exported_options(name, options, takes_look=False):
    """Raises ValueError where `options` ask the exported model `name` for what it has built in
    (another backend, output filter or cel stage; a look, unless it `takes_look`: a SavedModel),
    naming the command-line options to drop."""
    refused = [flag for option, (default, flag) in BUILT_IN_OPTIONS.items()
               if options.get(option, default) != default
               and not (takes_look and option == "look")]
    if refused:
        raise ValueError(f"{name} is an exported model with its runtime, output filter and cel "
                         f"stage built in; leave {' and '.join(refused)} out")


def generator_with_look(generator, look):
    """A copy of `generator` whose cel stage draws `look` (a dict of controls or a preset's
    name, `whitebox.look`); ValueError for bad values or a generator without the stage."""
    from cartoonize_tf.models.loading import generator_copy

    controls = checked_look(look)
    if generator.cel_shading is None:
        raise ValueError("the look controls set the cel stage, and this model has none (or "
                         "--no-cel-shading left it out)")
    return generator_copy(generator, cel_shading=stage_settings(generator.cel_shading, controls))


def first_line(error):
    """The first line of an exception's message, or its type's name where it has none."""
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0]


def read_generator(path):
    """The generator at `path` (a `.keras` file or the authors' TF1 checkpoint).

    Raises:
        ModelNotFoundError: nothing at `path`.
        ModelLoadError: something at `path`, but not a generator.
    """
    from cartoonize_tf.models.loading import load_generator

    check_model_exists(path)
    with reading_model(path):
        return load_generator(path)


@contextlib.contextmanager
def reading_model(path):
    """Any failure to read the model at `path` (a missing extra aside) as one ModelLoadError."""
    try:
        yield
    except MissingExtra:
        raise
    except Exception as error:  # whatever the reader raises, one clear line
        raise ModelLoadError(
            f"cannot load {path} ({type(error).__name__}: {first_line(error)}); it must be a "
            ".keras generator, the authors' TF1 checkpoint, or a SavedModel folder, .tflite or "
            ".onnx file that export, export-tflite or export-onnx wrote") from error


class Cartoonizer:
    """Turns photos into cartoons: `Cartoonizer.load(path).cartoonize(rgb_uint8)`.

    Args:
        generator: a built `UNetGenerator`, or None with a runner as `backend`.
        size_policy: "full" (the default: the input's exact size, padded
            internally, large images in tiles) or "authors" (short side capped at
            720, cropped to multiples of 8, as the authors' code did).
        backend: the runtime (`inference.options.BACKENDS`); "auto" picks the
            fastest that keeps the pictures, "tf" is the reference path. Or an
            `ImageCartoonizer`, such as the runtime of an exported model (`load`
            makes one for SavedModel folders, `.tflite` and `.onnx` files).
        strength: how cartoony, from 0 (the photo) to 1 (the model's own
            output): a linear mix of the two, no retraining.
        tile: images with a side longer than this run in tiles of this size
            (`utils.tiling`), so memory stays bounded; None: always whole.
        cel_shading: False leaves out the generator's cel-shading stage (flat
            tones, outlines), if it has one.
        filter_radius, filter_eps: the output guided filter, for experts
            (default: the authors' 1 and 5e-3; TensorFlow backends only).
        look: the look controls (`whitebox.look.CONTROLS`: tones, flatness, lines,
            line_width, colour) as a dict, or a preset's name (`look.PRESETS`): they
            set the cel stage, no retraining; None: the model's own look.

    Example:
        >>> photo = np.full((48, 64, 3), 128, np.uint8)  # uint8 [H, W, 3] RGB
        >>> cartoonizer = Cartoonizer.load("saved_models/cartoonizer.keras")
        >>> cartoonizer.cartoonize(photo).shape  # uint8 RGB, the photo's size
        (48, 64, 3)
    """

    def __init__(self, generator, size_policy="full", backend: "str | ImageCartoonizer" = "auto",
                 strength=1.0, tile=DEFAULT_TILE, cel_shading=True, filter_radius=None,
                 filter_eps=None, look=None):
        if size_policy not in SIZE_POLICIES:
            raise ValueError(f"size_policy must be one of {SIZE_POLICIES}, got {size_policy!r}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be between 0 and 1, got {strength}")
        filter_options = {name: value for name, value in
                          (("filter_radius", filter_radius), ("filter_eps", filter_eps))
                          if value is not None}
        self.size_policy = size_policy
        self.strength = strength
        self.tile = tile
        if not isinstance(backend, str):
            if generator is not None:
                raise ValueError("an ImageCartoonizer as backend brings its own model: give "
                                 "generator=None")
            check_exported_options(type(backend).__name__,
                                   {"cel_shading": cel_shading, "look": look, **filter_options})
            self.generator, self.backend = None, backend
            return
        from cartoonize_tf.inference.backends import make_backend
        from cartoonize_tf.models.loading import generator_copy

        if not cel_shading and generator.cel_shading is not None:
            generator = generator_copy(generator, cel_shading=None)
        if look is not None:
            generator = generator_with_look(generator, look)
        self.generator = generator
        self.backend = make_backend(backend, generator, **filter_options)

    @classmethod
    def load(cls, path, **options):
        """From a `.keras` generator, a TF1 checkpoint prefix or directory (the authors'), a
        SavedModel folder from `cartoonize export` (a version, or the base path: its newest
        version), or a `.tflite` or `.onnx` file from `cartoonize export-tflite` /
        `export-onnx` (run by LiteRT or ONNX Runtime). An exported model has its runtime,
        output filter and cel stage built in: `backend`, `cel_shading` and the filter options
        must then be left at their defaults, and so must `look` but for a SavedModel (its
        `serving_look` signature draws it).

        `options` are the constructor's (size_policy, backend, strength, ...). With the
        defaults, a model whose conversion for `auto`'s choice ships with the project (the
        default model on any CPU) runs that conversion, without importing TensorFlow.

        Raises:
            ModelNotFoundError: nothing at `path`.
            ModelLoadError: something at `path`, but no model this reads.
            ValueError: options that the model refuses (or the constructor does).
        """
        from cartoonize_tf.inference.runtimes import open_converted

        saved_model = saved_model_folder(path)
        runtime = "tf" if saved_model else EXPORTED_RUNTIMES.get(Path(path).suffix.lower())
        if runtime is None:
            shipped = cls.from_shipped_conversion(path, **options)
            return shipped if shipped is not None else cls(read_generator(path), **options)
        check_model_exists(path)
        check_exported_options(Path(path).name, options, takes_look=bool(saved_model))
        options.pop("backend", None)
        look = options.pop("look", None)
        with reading_model(path):
            runner = (SavedModelCartoonizer(saved_model) if saved_model
                      else open_converted(runtime, path))
        if look is not None:  # a SavedModel's (check_exported_options refused the others)
            runner.take_look(look)
        return cls(None, backend=runner, **options)

    @classmethod
    def from_shipped_conversion(cls, path, **options):
        """The model file at `path` run by the conversion of it that ships with the project for
        the backend asked for (`auto`'s choice by default: OpenVINO reading the default model's
        LiteRT file on a CPU), without TensorFlow; None where nothing ships for it or the options
        need the generator itself (the filter options, no cel stage, a look). `options` as
        `load` takes them."""
        from cartoonize_tf.inference.runtimes import open_converted

        if not options.get("cel_shading", True) or any(
                options.get(name) is not None for name in ("filter_radius", "filter_eps", "look")):
            return None
        asked = options.pop("backend", "auto")
        name, reason = auto_backend() if asked == "auto" else (asked, "asked for")
        found = (shipped_conversion(path, conversion_kind(name))
                 if name in CONVERTED_BACKENDS else None)
        if found is None:
            return None
        logger.debug("Backend %s: %s (%s), the shipped %s", asked, name, reason, found.name)
        return cls(None, backend=open_converted(name, found), **options)

    def sizing_note(self, shape):
        """How an image of `shape` is sized on its way through, for the user: "resized" (the
        authors' policy shrank or cropped it), "tiled" (run in tiles), or None (whole, as is)."""
        height, width = shape[:2]
        if self.size_policy == "authors" and authors_size(height, width)[1] != (height, width):
            return "resized"
        if self.tile is not None and runs_in_tiles(height, width, self.tile):
            return "tiled"
        return None

    def cartoonize(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB `[H, W, 3]` -> uint8 RGB cartoon (the input's size under "full")."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError("cartoonize expects a uint8 RGB array of shape [H, W, 3], got "
                             f"{image.dtype} {image.shape}; see image_io.to_rgb_uint8")
        if self.size_policy == "authors":
            image = authors_resize_crop(image)
        if self.strength == 0.0:
            return image.copy()
        if self.tile is None:
            cartoon = self.backend.cartoonize(image)
        else:
            cartoon = cartoonize_tiled(self.backend.cartoonize, image, self.tile)
        if self.strength == 1.0:
            return cartoon
        mixed = image + self.strength * (cartoon.astype(np.float32) - image)
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)

