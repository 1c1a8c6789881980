"""Opening a runtime from whatever the user names: the one place that knows every kind of model.

`open_runtime` takes a built generator, or a path to a `.keras` generator, the authors' TF1
checkpoint, a SavedModel from `cartoonize export` (a version or its base path), or a `.tflite`
or `.onnx` file from `export-tflite` / `export-onnx`, and returns an `ImageCartoonizer`. It
decides `auto` once (`choice.auto_backend`), runs the conversion of a model that ships with
the project without TensorFlow, and makes every check: a missing or unreadable model, and
options an exported model refuses. A new runtime is added here and in `backends`.
"""

import contextlib
import logging
from pathlib import Path

from cartoonize_tf.contract.layout import saved_model_folder
from cartoonize_tf.contract.look import checked_look
from cartoonize_tf.inference.choice import auto_backend
from cartoonize_tf.inference.conversion_files import (
    CONVERTED_BACKENDS,
    conversion_kind,
    shipped_conversion,
)
from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.inference.options import BACKENDS
from cartoonize_tf.utils.extras import MissingExtra
from cartoonize_tf.whitebox.look import stage_settings

logger = logging.getLogger(__name__)

# Exported files `open_runtime` runs, and the backend name of their runtime.
EXPORTED_RUNTIMES = {".tflite": "tflite", ".onnx": "onnx"}
# The options an exported model has built in (its runtime, output filter and cel stage): each
# one's default, and how the command line asks for something else.
BUILT_IN_OPTIONS = {"backend": ("auto", "--backend"), "cel_shading": (True, "--no-cel-shading"),
                    "filter_radius": (None, "--filter-radius"), "filter_eps": (None, "--filter-eps"),
                    "look": (None, "the look options (--preset, --tones, ...)")}


class ModelNotFoundError(FileNotFoundError):
    """Nothing at the path given as a model: no file or folder, no TF1 checkpoint prefix."""


class ModelLoadError(ValueError):
    """Something is at the path given as a model, but not a model `open_runtime` can read;
    the message is one line."""


def open_runtime(model, backend="auto", cel_shading=True, filter_radius=None, filter_eps=None,
                 look=None) -> ImageCartoonizer:
    """The runtime that cartoonizes with `model` (a built `UNetGenerator` or a path, as the
    module says).

    Args:
        backend: the runtime for a generator (`options.BACKENDS`); "auto" picks the fastest
            that keeps the pictures on this machine. An exported model brings its own.
        cel_shading: False leaves out the generator's cel-shading stage, if it has one.
        filter_radius, filter_eps: the output guided filter (TensorFlow backends only).
        look: the look controls as a dict, or a preset's name (`contract.look`): they set
            the cel stage, no retraining; an exported model takes one only as a SavedModel
            (its `serving_look` signature).

    Raises:
        ModelNotFoundError: nothing at the path.
        ModelLoadError: something at the path, but no model this reads.
        ValueError: an unknown backend, or options the model refuses.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    options = {"backend": backend, "cel_shading": cel_shading, "filter_radius": filter_radius,
               "filter_eps": filter_eps, "look": look}
    if not isinstance(model, (str, Path)):
        return generator_runtime(model, decided(backend, options), options)
    exported = open_exported(model, options)
    if exported is not None:
        return exported
    name = decided(backend, options)
    return (shipped_runtime(model, name, options)
            or generator_runtime(read_generator(model), name, options))


def filter_options(options):
    """The output filter's settings that `options` give (not None): a TensorFlow backend's."""
    return {k: options[k] for k in ("filter_radius", "filter_eps") if options[k] is not None}


def decided(backend, options):
    """The backend `backend` names: itself, or `auto`'s choice (logged with its reason)."""
    if backend != "auto":
        return backend
    name, reason = auto_backend(filter_options(options))
    logger.debug("Backend auto: %s (%s)", name, reason)
    return name


def generator_runtime(generator, name, options):
    """Backend `name` over `generator`, its cel stage left out or set to a look as `options`
    ask."""
    from cartoonize_tf.inference.backends import make_backend
    from cartoonize_tf.models.loading import generator_copy

    if not options["cel_shading"] and generator.cel_shading is not None:
        generator = generator_copy(generator, cel_shading=None)
    if options["look"] is not None:
        generator = generator_with_look(generator, options["look"])
    return make_backend(name, generator, **filter_options(options))


def generator_with_look(generator, look):
    """A copy of `generator` whose cel stage draws `look` (a dict of controls or a preset's
    name, `contract.look`); ValueError for bad values or a generator without the stage."""
    from cartoonize_tf.models.loading import generator_copy

    controls = checked_look(look)
    if generator.cel_shading is None:
        raise ValueError("the look controls set the cel stage, and this model has none (or "
                         "--no-cel-shading left it out)")
    return generator_copy(generator, cel_shading=stage_settings(generator.cel_shading, controls))


def open_exported(path, options):
    """The runtime of an exported model at `path` (a SavedModel, `.tflite` or `.onnx`), or None
    where `path` names none."""
    from cartoonize_tf.inference.runtimes import open_converted
    from cartoonize_tf.inference.saved_model_runner import SavedModelCartoonizer

    saved_model = saved_model_folder(path)
    runtime = "tf" if saved_model else EXPORTED_RUNTIMES.get(Path(path).suffix.lower())
    if runtime is None:
        return None
    check_model_exists(path)
    check_exported_options(Path(path).name, options, takes_look=bool(saved_model))
    with reading_model(path):
        runner = (SavedModelCartoonizer(saved_model) if saved_model
                  else open_converted(runtime, path))
    if options["look"] is not None:  # a SavedModel's (check_exported_options refused the others)
        runner.take_look(options["look"])
    return runner


def shipped_runtime(path, name, options):
    """Backend `name` running the conversion of the model file at `path` that ships with the
    project (without TensorFlow); None where none ships for it or the options need the
    generator itself (the filter options, no cel stage, a look)."""
    from cartoonize_tf.inference.runtimes import open_converted

    if not options["cel_shading"] or filter_options(options) or options["look"] is not None:
        return None
    found = (shipped_conversion(path, conversion_kind(name))
             if name in CONVERTED_BACKENDS else None)
    if found is None:
        return None
    logger.debug("Backend %s: the shipped %s", name, found.name)
    return open_converted(name, found)


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
