"""Which backend `auto` runs on this machine, decided without importing TensorFlow.

The rule reads the CPU's flags (`utils.cpu_flags`) and asks TensorFlow about GPUs
only where a GPU driver's device files exist, so on a plain CPU the OpenVINO path
starts without TensorFlow's seconds of import.
"""

from pathlib import Path

from cartoonize_tf.utils.cpu_flags import cpu_flags, has_native_bfloat16

# Device files of the NVIDIA (CUDA) and AMD (ROCm) drivers: without them TensorFlow sees no GPU.
GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")


def gpu_visible():
    """Whether TensorFlow sees a GPU; TensorFlow is imported only where a driver is present."""
    if not any(Path(path).exists() for path in GPU_DEVICE_FILES):
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def auto_backend(filter_options=None, flags=None, has_gpu=None):
    """The backend that keeps the picture (45 dB or more to `tf` on every photo) and starts and
    runs fastest on this machine, and why, as `(name, reason)`.

    `flags` are the CPU's flags (`cpu_flags()`, which `CARTOONIZE_TF_CPU_FLAGS` fakes, by
    default) and `has_gpu` whether TensorFlow sees a GPU (`gpu_visible()` by default); tests
    give both to walk every branch:

    - a non-default output filter: `tf` (only TensorFlow's graph takes it);
    - a GPU: `tf`;
    - AVX512_BF16 or AMX: `openvino-bfloat16` (bfloat16 dot products at twice float32's rate);
    - any other CPU: `openvino` (float32).

    OpenVINO reads the shipped LiteRT file and starts in about 0.6 s without TensorFlow, where
    TensorFlow's import alone takes seconds; warm, `tf-bfloat16` is 10 to 15% faster, which
    a single photo never makes up. Measured at 1280x720 on 2 cores (docs/speed.md,
    benchmarks/inference.py), Zen 4 (AVX512_BF16): tf 1.49 s, openvino-bfloat16 1.06 s at
    54.4 dB, tf-bfloat16 0.94 s, openvino 1.59 s, LiteRT 1.73 s; a Xeon with AMX (2026-12-06):
    openvino-bfloat16 0.53 s, tf-bfloat16 0.46 s, openvino 1.16 s, LiteRT 1.82 s.
    """
    flags = cpu_flags() if flags is None else set(flags)
    if filter_options:
        return "tf", "a non-default output filter needs TensorFlow's graph"
    if gpu_visible() if has_gpu is None else has_gpu:
        return "tf", "TensorFlow sees a GPU"
    if has_native_bfloat16(flags):
        return "openvino-bfloat16", ("the CPU has native bfloat16 (AVX512_BF16 or AMX): "
                                     "OpenVINO in bfloat16")
    return "openvino", "a CPU without native bfloat16: OpenVINO in float32"
