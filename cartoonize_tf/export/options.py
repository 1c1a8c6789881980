"""Settings of the exported models, kept free of TensorFlow so `--help` answers at once."""

# Encodings of the SavedModel's serving_bytes results.
BYTES_ENCODINGS = ("png", "jpeg")
TFLITE_QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
DEFAULT_ONNX_OPSET = 17
