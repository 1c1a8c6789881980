"""Running a request against a signature: input checks, a bounded worker pool, deadlines."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
import tensorflow as tf

from cartoonize_tf.contract.limits import DEFAULT_MAX_PIXELS
from cartoonize_tf.contract.look import CONTROLS
from cartoonize_tf.contract.signatures import IMAGES_OUTPUT
from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.limits import check_claimed_shape, check_encoded_images
from cartoonize_tf.serving.core.memory_budget import (
    MemoryBudget,
    default_budget_bytes,
    release_giving_back,
    run_bytes,
)
from cartoonize_tf.utils.tiling import cartoonize_tiled

# How long a request without a deadline (REST) waits for memory before RESOURCE_EXHAUSTED.
MEMORY_WAIT_SECONDS = 30.0
# Images with a longer side run tile by tile (a cartoonizer's image signature only): a
# cancellation stops at the next tile, and the model's working memory is a tile's (the result
# equals the whole image's within two grey levels: utils.tiling).
SERVING_TILE = 1024


def with_defaults(inputs, signature_def):
    """`inputs` with the signature's default values (its SignatureDef's `defaults`, as TF
    Serving fills them in) for the inputs a request leaves out; INVALID_ARGUMENT for a name
    the signature has not, or one without a default that is missing."""
    expected, defaults = signature_def.inputs, signature_def.defaults
    missing = set(expected) - set(inputs) - set(defaults)
    if set(inputs) - set(expected) or missing:
        optional = f" (optional: {sorted(defaults)})" if defaults else ""
        raise ServingError("INVALID_ARGUMENT", f"expected inputs {sorted(expected)}{optional}, "
                                               f"got {sorted(inputs)}")
    return {**{name: tf.make_ndarray(defaults[name]) for name in set(expected) - set(inputs)},
            **inputs}


def check_inputs(inputs, signature_def):
    """INVALID_ARGUMENT unless `inputs` has the signature's names (`with_defaults`), dtypes
    and ranks; returns them with the defaults filled in."""
    inputs = with_defaults(inputs, signature_def)
    expected = signature_def.inputs
    for name, value in inputs.items():
        info = expected[name]
        dtype = tf.dtypes.as_dtype(info.dtype)
        if dtype == tf.string:
            if value.dtype.kind not in ("S", "O", "U"):
                raise ServingError("INVALID_ARGUMENT", f"input {name} must be bytes, got {value.dtype}")
        elif value.dtype != dtype.as_numpy_dtype:
            raise ServingError("INVALID_ARGUMENT",
                               f"input {name} must be {dtype.name}, got {value.dtype}")
        rank = len(info.tensor_shape.dim)
        if not info.tensor_shape.unknown_rank and value.ndim != rank:
            raise ServingError("INVALID_ARGUMENT",
                               f"input {name} must have rank {rank}, got shape {list(value.shape)}")
        for axis, dim in enumerate(info.tensor_shape.dim):
            if dim.size >= 0 and value.shape[axis] != dim.size:
                raise ServingError("INVALID_ARGUMENT", f"input {name} must have {dim.size} at "
                                                       f"axis {axis}, got shape {list(value.shape)}")
    return inputs


def check_look_controls(inputs, signature_def):
    """INVALID_ARGUMENT, naming the range, for a look control out of it (a scalar input of a
    look signature named after a `CONTROLS` entry), before any image is decoded or run: the
    graph asserts the same, but only once the work is done. The model's own value (the
    SignatureDef's default) is always taken."""
    for name, control in CONTROLS.items():
        value = inputs.get(name)
        if value is None or value.ndim or name not in signature_def.inputs:
            continue
        own = signature_def.defaults.get(name)
        if own is not None and tf.make_ndarray(own).item() == value.item():
            continue
        try:
            control.check(value.item())
        except ValueError as error:
            raise ServingError("INVALID_ARGUMENT", str(error)) from None


NOISE_PREFIXES = ("Graph execution error", "Detected at node", "<stack traces", "[[")


def explain(error):
    """The informative line of a TensorFlow error (the op's own message, not the graph trace)."""
    lines = [line.strip() for line in error.message.splitlines()]
    useful = [line for line in lines if line and not line.startswith(NOISE_PREFIXES)]
    return useful[0] if useful else error.message.strip()


class Predictor:
    """Runs signatures on at most `workers` requests at once; the rest wait their turn.

    `max_pixels` caps height * width over all images of a request (the lower of
    it and the cap the served version was exported with; DEFAULT_MAX_PIXELS
    when neither says); `max_elements` caps the elements of one input tensor.
    Both are checked from claimed shapes and image headers, before anything is
    allocated or decoded. Each run then reserves its peak memory in `budget`
    (a MemoryBudget; waiting up to the request's deadline, or
    `MEMORY_WAIT_SECONDS` without one).
    """

    def __init__(self, registry, workers=2, max_pixels=None, max_elements=64 << 20,
                 budget=None):
        self.registry = registry
        self.max_pixels = max_pixels
        self.max_elements = max_elements
        self.budget = budget or MemoryBudget(default_budget_bytes())
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="predict")
        self.run = run_image_by_image  # what a worker runs (tests slow it down)

    def pixel_limit(self, loaded):
        """The pixel cap for requests to `loaded` (a served version)."""
        caps = [cap for cap in (self.max_pixels, getattr(loaded, "max_pixels", None)) if cap]
        return min(caps) if caps else DEFAULT_MAX_PIXELS

    def check_sizes(self, inputs, loaded):
        """INVALID_ARGUMENT for a tensor or an encoded image over the caps, before it runs;
        returns the pixel count of each image the request holds."""
        max_pixels = self.pixel_limit(loaded)
        pixels = []
        for name, value in inputs.items():
            if value.dtype.kind in ("S", "O", "U"):
                pixels += check_encoded_images(name, value.reshape(-1).tolist(), max_pixels)
            else:
                pixels += check_claimed_shape(name, list(value.shape), True, max_pixels,
                                              self.max_elements)
        return pixels

    def predict(self, loaded, signature_name, inputs, timeout=None, cancelled=None):
        """`(version, signature_name, {output: ndarray})` or ServingError with TF Serving's code.

        `loaded` is the version the front end looked up (`registry.get`) and checked the
        request's claimed sizes against: the whole request sees that one version, even when a
        new one is loaded meanwhile. A request still queued when its deadline passes never
        starts; a running one stops before its next image, and so does one whose
        `cancelled` event the front end sets (its client went away).
        """
        name, function, signature_def = loaded.signature(signature_name)
        inputs = check_inputs(inputs, signature_def)
        check_look_controls(inputs, signature_def)
        pixels = self.check_sizes(inputs, loaded)
        if timeout is not None and timeout <= 0:
            raise ServingError("DEADLINE_EXCEEDED", "deadline exceeded before the request ran")
        deadline = time.monotonic() + (MEMORY_WAIT_SECONDS if timeout is None else timeout)
        cancelled = cancelled or threading.Event()
        largest_run = SERVING_TILE ** 2 if image_input(function, inputs) else None
        reservation = self.budget.reserve(run_bytes(pixels, largest_run), "this request",
                                          timeout=deadline - time.monotonic(),
                                          cancelled=cancelled)
        try:
            future = self.pool.submit(self.run, function, inputs, cancelled)
        except BaseException:
            reservation.release()
            raise
        # Held until the run ends, even when its caller stops waiting (a deadline); a large
        # run's memory then goes back to the system (gRPC and REST alike).
        future.add_done_callback(lambda _: release_giving_back(reservation))
        try:
            outputs = future.result(timeout=None if timeout is None
                                    else max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            cancelled.set()
            future.cancel()
            raise ServingError("DEADLINE_EXCEEDED", "deadline exceeded") from None
        return loaded.version, name, outputs

    def shutdown(self, wait=False):
        self.pool.shutdown(wait=wait, cancel_futures=True)


def batch_size(inputs):
    """The shared length of the non-scalar inputs' first axis, or None when they have none in
    common (scalars, a look signature's controls, go with every image)."""
    sizes = {value.shape[0] for value in inputs.values() if value.ndim}
    return sizes.pop() if len(sizes) == 1 else None


def image_input(function, inputs):
    """The name of the images input when `function` is a cartoonizer's image signature (uint8
    images `[N, H, W, 3]` in, besides scalars, and `cartoons` of the same shape out), whose
    large images may run tile by tile with the same result; else None."""
    outputs = getattr(function, "structured_outputs", None)
    if not isinstance(outputs, dict) or list(outputs) != [IMAGES_OUTPUT]:
        return None
    images = [name for name, value in inputs.items() if value.ndim]
    if len(images) != 1:
        return None
    value = inputs[images[0]]
    return images[0] if value.dtype == np.uint8 and value.ndim == 4 and value.shape[-1] == 3 \
        else None


def run_image_by_image(function, inputs, cancelled):
    """Runs `function` on each image of the batch in turn (a large image of a cartoonizer's
    image signature tile by tile), stopping once `cancelled` is set, and joins the outputs: the
    work a cancelled request still does is one tile or one image."""
    count = batch_size(inputs)
    if count is None or count <= 1:
        pieces = [inputs]
    else:
        pieces = [{k: v[i:i + 1] if v.ndim else v for k, v in inputs.items()}
                  for i in range(count)]
    images = image_input(function, inputs)
    results = []
    for index, piece in enumerate(pieces):
        if cancelled.is_set():
            raise ServingError("CANCELLED", f"cancelled before image {index} of {len(pieces)}")
        if images and max(piece[images].shape[1:3]) > SERVING_TILE:
            results.append(run_in_tiles(function, piece, images, cancelled))
        else:
            results.append(run_signature(function, piece))
    if len(results) == 1:
        return results[0]
    return {k: np.concatenate([r[k] for r in results]) for k in results[0]}


def run_in_tiles(function, piece, images, cancelled):
    """One large image (input `images` of `piece`) through a cartoonizer's image signature in
    SERVING_TILE tiles, the other inputs (scalars) given with each."""

    def run_tile(tile):
        if cancelled.is_set():
            raise ServingError("CANCELLED", "cancelled between two tiles of an image")
        return run_signature(function, {**piece, images: tile[None]})[IMAGES_OUTPUT][0]

    return {IMAGES_OUTPUT: cartoonize_tiled(run_tile, piece[images][0], SERVING_TILE)[None]}


def run_signature(function, inputs):
    """One call of a signature function; TensorFlow's errors become ServingErrors."""
    try:
        results = function(**{k: tf.constant(v) for k, v in inputs.items()})
    except tf.errors.ResourceExhaustedError as error:
        raise ServingError("RESOURCE_EXHAUSTED", explain(error)) from None
    except tf.errors.InvalidArgumentError as error:
        raise ServingError("INVALID_ARGUMENT", explain(error)) from None
    except tf.errors.OpError as error:
        raise ServingError("INTERNAL", explain(error)) from None
    return {k: np.asarray(v) for k, v in results.items()}
