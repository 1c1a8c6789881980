"""Settings of the exported models, kept free of TensorFlow so `--help` answers at once."""

# 3840 x 2160: a 4K frame. Above it one image needs several GB of activations.
DEFAULT_MAX_PIXELS = 3840 * 2160
# Written beside the warm-up requests: {"max_pixels": N}, the cap the signatures enforce, so a
# server can refuse larger requests from their claimed shape before it allocates anything.
LIMITS_FILE = "assets.extra/cartoonize_tf.json"
# Encodings of the SavedModel's serving_bytes results.
BYTES_ENCODINGS = ("png", "jpeg")
TFLITE_QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
DEFAULT_ONNX_OPSET = 17
# The SavedModel signatures that take the look controls (export/look_signatures.py).
LOOK_IMAGES_SIGNATURE = "serving_look"
LOOK_BYTES_SIGNATURE = "serving_look_bytes"
