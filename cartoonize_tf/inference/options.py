"""Names the inference code accepts, kept free of TensorFlow so `--help` answers at once."""

# The runtimes of `inference.backends`; "auto" picks the fastest that keeps the pictures.
BACKENDS = (
    "auto", "tf", "tf-bfloat16", "keras-eager", "xla", "openvino", "openvino-bfloat16", "tflite",
    "tflite-float16", "tflite-int8", "onnx")
# "authors": short side capped at 720 and cropped to multiples of 8; "full": the input's size.
SIZE_POLICIES = ("authors", "full")
# Images with both sides at most this run whole, larger ones in tiles (a 2048 x 2048 run
# peaks near 2 GB).
DEFAULT_TILE = 2048
# Image formats `cartoonize run --format` writes, with their file suffixes.
FILE_FORMATS = {"png": ".png", "jpg": ".jpg"}
# Default --max-pixels of `cartoonize run` per --method, and of `bulk` (height * width of an
# input, checked from its header before decoding): the generator runs large images in tiles,
# so only decoding counts; the renderer (--method filter) works on the whole image at about
# 0.43 GB per megapixel. (export's and serving's DEFAULT_MAX_PIXELS is a request's cap.)
RUN_MAX_PIXELS = {"generator": 100_000_000, "filter": 16_000_000}
# A video's frames: 8K UHD (every frame is decoded whole before it is scaled or tiled).
VIDEO_MAX_PIXELS = 7680 * 4320
# The smallest frame side a video's output can have (its sides are made even).
VIDEO_MIN_SIDE = 2
# `cartoonize video`: containers it reads, and those it writes (by the output's suffix; MP4 unless
# the output is named otherwise).
VIDEO_INPUT_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")
VIDEO_OUTPUT_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
# Video encoders, best first: H.264 when PyAV's FFmpeg has it, else MPEG-4 Part 2.
VIDEO_CODECS = ("libx264", "mpeg4")
