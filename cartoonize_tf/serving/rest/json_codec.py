"""TF Serving's REST JSON: request bodies (row "instances" or columnar "inputs") to arrays,
checked against the signature and the size caps before anything large is built, and arrays
back to answers."""

import base64

import numpy as np
import tensorflow as tf

from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.limits import check_claimed_shape

# Versions are int64 in TF Serving's API.
MAX_VERSION = 2 ** 63 - 1
MAX_VERSION_DIGITS = len(str(MAX_VERSION))
# Deeper JSON than any image tensor needs is refused before it reaches a recursive walk.
MAX_NESTING = 16

def parse_version(digits):
    """A version number from the URL (ASCII digits); NOT_FOUND past int64, as no version
    folder can be named so (and Python refuses to parse over 4,300 digits)."""
    if len(digits) > MAX_VERSION_DIGITS or int(digits) > MAX_VERSION:
        raise ServingError("NOT_FOUND", f"no version {digits[:30]}"
                                        f"{'...' if len(digits) > 30 else ''} (versions are "
                                        f"at most {MAX_VERSION})")
    return int(digits)


def decode_value(value, name, depth=0):
    """A JSON value to what numpy takes: `{"b64": ...}` to bytes, lists recursively."""
    if depth > MAX_NESTING:
        raise ServingError("INVALID_ARGUMENT", f"input {name} is nested deeper than "
                                               f"{MAX_NESTING} levels")
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise ServingError("INVALID_ARGUMENT", f"input {name}: objects must be {{\"b64\": ...}}")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise ServingError("INVALID_ARGUMENT", f"input {name}: invalid base64") from None
    if isinstance(value, list):
        return [decode_value(item, name, depth + 1) for item in value]
    return value


def claimed_shape(data):
    """The shape nested lists claim along their first elements (checked before numpy builds it)."""
    shape = []
    while isinstance(data, list):
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return shape


def to_array(value, name, signature_def, max_pixels=None, max_elements=None):
    """JSON data for one input to an array of the signature's dtype, or INVALID_ARGUMENT.

    With `max_pixels` and `max_elements`, the shape the lists claim is checked
    before the array is built.
    """
    if name not in signature_def.inputs:
        raise ServingError("INVALID_ARGUMENT", f"unknown input {name}; expected "
                                               f"{sorted(signature_def.inputs)}")
    dtype = tf.dtypes.as_dtype(signature_def.inputs[name].dtype)
    data = decode_value(value, name)
    if dtype == tf.string:
        try:
            array = np.asarray(data, dtype=object)
        except ValueError:
            raise ServingError("INVALID_ARGUMENT",
                               f"input {name} is not a rectangular array") from None
        if not all(isinstance(item, (bytes, str)) for item in array.reshape(-1)):
            raise ServingError("INVALID_ARGUMENT", f"input {name} must hold strings or "
                                                   "{\"b64\": ...} objects")
        return array
    if max_pixels is not None:
        check_claimed_shape(name, claimed_shape(data), True, max_pixels, max_elements)
    try:
        array = np.asarray(data)
    except ValueError:
        raise ServingError("INVALID_ARGUMENT", f"input {name} is not a rectangular array") from None
    if array.dtype.kind not in "iuf" or (dtype.is_integer and array.dtype.kind == "f"):
        raise ServingError("INVALID_ARGUMENT", f"input {name} must hold {dtype.name} numbers")
    if dtype.is_integer and array.size and (array.min() < dtype.min or array.max() > dtype.max):
        raise ServingError("INVALID_ARGUMENT", f"input {name}: values outside {dtype.name}")
    return array.astype(dtype.as_numpy_dtype)


def request_inputs(body, signature_def, max_pixels=None, max_elements=None):
    """The inputs of a row (`instances`) or columnar (`inputs`) predict request."""
    limits = (max_pixels, max_elements)
    if ("instances" in body) == ("inputs" in body):
        raise ServingError("INVALID_ARGUMENT", "the request needs exactly one of 'instances' "
                                               "(row format) or 'inputs' (columnar format)")
    names = list(signature_def.inputs)
    if "inputs" in body:
        columns = body["inputs"]
        if not isinstance(columns, dict):
            columns = {names[0]: columns} if len(names) == 1 else None
        if columns is None:
            raise ServingError("INVALID_ARGUMENT", "'inputs' must name each input")
        return {k: to_array(v, k, signature_def, *limits) for k, v in columns.items()}, False
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        raise ServingError("INVALID_ARGUMENT", "'instances' must be a non-empty list")
    if all(isinstance(i, dict) and set(i) != {"b64"} for i in instances):
        keys = set(instances[0])
        if any(set(instance) != keys for instance in instances):
            # TF Serving refuses them too: a key missing from one instance has no value there.
            raise ServingError("INVALID_ARGUMENT", "every instance must name the same inputs; "
                                                   f"the first names {sorted(keys)}")
        return {k: to_array([i[k] for i in instances], k, signature_def, *limits)
                for k in instances[0]}, True
    if len(names) != 1:
        raise ServingError("INVALID_ARGUMENT", "instances must be objects naming each input")
    return {names[0]: to_array(instances, names[0], signature_def, *limits)}, True


def encode_value(array, name):
    """An output array as JSON data; `_bytes` outputs as `{"b64": ...}`."""
    if array.dtype.kind in ("S", "O"):
        encode = (lambda b: {"b64": base64.b64encode(b).decode()}) if name.endswith("_bytes") \
            else (lambda b: b.decode("utf-8", "replace"))
        return np.vectorize(encode, otypes=[object])(array).tolist() if array.ndim else encode(array.item())
    return array.tolist()


def response_body(outputs, row_format):
    encoded = {name: encode_value(value, name) for name, value in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(encoded.values())) if len(encoded) == 1 else encoded}
    if len(encoded) == 1:
        return {"predictions": next(iter(encoded.values()))}
    count = len(next(iter(encoded.values())))
    return {"predictions": [{k: v[i] for k, v in encoded.items()} for i in range(count)]}
