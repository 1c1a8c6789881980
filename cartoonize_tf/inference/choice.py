"""Which backend `auto` runs on this machine, decided without importing TensorFlow.

The rule reads the CPU's flags from /proc/cpuinfo and asks TensorFlow about GPUs
only where a GPU driver's device files exist, so on a plain CPU the LiteRT path
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
    """The fastest backend that keeps the picture (45 dB or more to `tf` on every photo), and
    why, as `(name, reason)`.

    `flags` are /proc/cpuinfo's CPU flags (this CPU's by default) and `has_gpu` whether
    TensorFlow sees a GPU (`gpu_visible()` by default); tests give both to walk every branch:

    - a non-default output filter: `tf` (only TensorFlow's graph takes it);
    - a GPU: `tf`;
    - AVX512_BF16 or AMX: `tf-bfloat16` (bfloat16 dot products run at twice float32's rate);
    - AVX-512 without them: `tf` (oneDNN's float32 beats LiteRT there);
    - otherwise (AVX2): `tflite`, LiteRT with XNNPACK (float32, 90 dB from `tf`).

    Measured by benchmarks/inference.py at 1280x720 on 2 cores (docs/speed.md): AVX2, the
    cel-shaded model: tflite 1.96 s, tf 6.05 s; Zen 4 (AVX512_BF16): tf 1.49 s, TensorFlow's
    bfloat16 rewrite 0.86 s at 47.8 dB, LiteRT 1.88 s.
    """
    flags = cpu_flags() if flags is None else set(flags)
    if filter_options:
        return "tf", "a non-default output filter needs TensorFlow's graph"
    if gpu_visible() if has_gpu is None else has_gpu:
        return "tf", "TensorFlow sees a GPU"
    if has_native_bfloat16(flags):
        return "tf-bfloat16", "the CPU has native bfloat16 (AVX512_BF16 or AMX)"
    if "avx512f" in flags:
        return "tf", "the CPU has AVX-512 without bfloat16: oneDNN float32 is fastest"
    return "tflite", "an AVX2 CPU: LiteRT with XNNPACK is fastest"
