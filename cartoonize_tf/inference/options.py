"""Names the inference code accepts, kept free of TensorFlow so `--help` answers at once."""

# The runtimes of `inference.backends`; "auto" picks the fastest that keeps the pictures.
BACKENDS = (
    "auto", "tf", "keras-eager", "xla", "tflite", "tflite-float16", "tflite-int8", "onnx")
# "authors": short side capped at 720 and cropped to multiples of 8; "full": the input's size.
SIZE_POLICIES = ("authors", "full")
# Image formats `cartoonize run --format` writes, with their file suffixes.
FILE_FORMATS = {"png": ".png", "jpg": ".jpg"}
# Default `cartoonize run --max-pixels` (height * width of an input, checked from its header before
# decoding): under "authors" the image is scaled down before the network, so only decoding
# counts (3 bytes a pixel); under "full" (and the filter) the network sees every pixel, about
# 0.43 GB per megapixel.
DEFAULT_MAX_PIXELS = {"authors": 100_000_000, "full": 16_000_000}
