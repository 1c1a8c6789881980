"""How converted models (TFLite, ONNX) are named, and the shipped ones found from the model
file alone, without TensorFlow.

The conversion cache names a converted model by its generator's weights, which
takes Keras (and so TensorFlow) to read. For the models the project ships,
`saved_models/conversions/index.json` also names each conversion by the SHA-256
of the model file's bytes, so `Cartoonizer.load` can start the OpenVINO (or LiteRT) path of
the default model without importing TensorFlow at all.
"""

import hashlib
import json
from pathlib import Path

from cartoonize_tf.utils.shipped_files import shipped

SHIPPED_CONVERSIONS = Path("saved_models") / "conversions"
INDEX_NAME = "index.json"
# OpenVINO's backends, by the precision each computes in; both read the float32 LiteRT file.
OPENVINO_BACKEND_PRECISIONS = {"openvino": "float32", "openvino-bfloat16": "bfloat16"}
# The LiteRT file each backend that runs one reads, by its quantization.
TFLITE_BACKEND_QUANTIZATION = {"tflite": "float32", "tflite-float16": "float16", "tflite-int8": "int8",
                               **dict.fromkeys(OPENVINO_BACKEND_PRECISIONS, "float32")}
CONVERTED_BACKENDS = (*TFLITE_BACKEND_QUANTIZATION, "onnx")


def conversion_kind(name):
    """The file-name part that says which conversion backend `name` runs."""
    return "any.onnx" if name == "onnx" else f"any-{TFLITE_BACKEND_QUANTIZATION[name]}.tflite"


def file_digest(path):
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_index(folder):
    """`{model file digest: {conversion kind: file name}}` of a conversions folder; empty
    where it has no readable index."""
    try:
        return json.loads((Path(folder) / INDEX_NAME).read_text())
    except (OSError, ValueError):
        return {}


def shipped_conversion(model_path, kind):
    """The shipped conversion (`kind` as `conversion_kind` names it) of the model file
    at `model_path`, or None where none ships."""
    folder = shipped(SHIPPED_CONVERSIONS)
    if not Path(model_path).is_file():
        return None
    name = read_index(folder).get(file_digest(model_path), {}).get(kind)
    return folder / name if name and (folder / name).is_file() else None


def record_shipped_conversion(model_path, kind, conversion_path):
    """Adds the model file's entry for `conversion_path` to its folder's index."""
    folder = Path(conversion_path).parent
    index = read_index(folder)
    index.setdefault(file_digest(model_path), {})[kind] = Path(conversion_path).name
    (folder / INDEX_NAME).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
