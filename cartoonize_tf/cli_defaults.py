"""Default paths of the command line, relative to the project folder."""

from pathlib import Path

DEFAULT_MODEL = Path("saved_models") / "cartoonizer.keras"
DEFAULT_INPUT = Path("test_code") / "test_images"
DEFAULT_OUTPUT = Path("test_code") / "cartoonized_images"
DEFAULT_ONNX_OPSET = 17
# The inference runtimes (cartoonize_tf.backends), here so --help needs no TensorFlow import.
BACKENDS = (
    "auto", "tf", "keras-eager", "xla", "tflite", "tflite-float16", "tflite-int8", "onnx")
