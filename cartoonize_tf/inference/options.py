"""Names the inference code accepts, kept free of TensorFlow so `--help` answers at once."""

# The runtimes of `inference.backends`; "auto" picks the fastest that keeps the pictures.
BACKENDS = (
    "auto", "tf", "keras-eager", "xla", "tflite", "tflite-float16", "tflite-int8", "onnx")
# "authors": short side capped at 720 and cropped to multiples of 8; "full": the input's size.
SIZE_POLICIES = ("authors", "full")
# Image formats `cartoonize run --format` writes, with their file suffixes.
FILE_FORMATS = {"png": ".png", "jpg": ".jpg"}
