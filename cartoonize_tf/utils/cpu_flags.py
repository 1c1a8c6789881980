"""The CPU's instruction-set flags, for choosing the fastest path on this machine.

`CARTOONIZE_TF_CPU_FLAGS` fakes them: a CPU kind of `CPU_KINDS` (`avx2`, `avx512`,
`avx512_bf16`, `amx`) or the flags themselves, separated by spaces or commas. Every
choice made from the flags (`auto`'s backend, training's precision) then follows the
faked CPU, so a developer on one kind of CPU sees what another kind would choose; the
test suite sets it for every test (tests/conftest.py).
"""

import logging
import os

CPU_FLAGS_VARIABLE = "CARTOONIZE_TF_CPU_FLAGS"
logger = logging.getLogger(__name__)

# Flags of native bfloat16 dot products: AVX512_BF16 (Zen 4, Cooper Lake) and AMX (Sapphire Rapids).
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")

# The kinds of CPU this project is built and tested on, by the flags that tell them apart.
_AVX2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
_AVX512 = _AVX2 | {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"}
CPU_KINDS = {
    "avx2": _AVX2,
    "avx512": _AVX512,
    "avx512_bf16": _AVX512 | {"avx512_bf16"},
    "amx": _AVX512 | {"avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"},
}


def faked_cpu_flags(text):
    """The flags that `CARTOONIZE_TF_CPU_FLAGS`'s `text` names: a kind's, or the flags listed."""
    text = text.strip().lower()
    if text in CPU_KINDS:
        return set(CPU_KINDS[text])
    flags = set(text.replace(",", " ").split())
    if len(flags) == 1:  # a kind misspelt, most likely
        logger.warning("%s=%s names no CPU kind (%s); taken as that one flag", CPU_FLAGS_VARIABLE,
                       text, ", ".join(CPU_KINDS))
    return flags


def cpu_flags(cpuinfo=None):
    """This CPU's flags as a set: `CARTOONIZE_TF_CPU_FLAGS`'s where it is set, else the first
    `flags` line of /proc/cpuinfo; empty where it cannot be read. Given a `cpuinfo` file,
    that file's flags (the variable aside)."""
    if cpuinfo is None:
        if os.environ.get(CPU_FLAGS_VARIABLE, "").strip():
            return faked_cpu_flags(os.environ[CPU_FLAGS_VARIABLE])
        cpuinfo = "/proc/cpuinfo"
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as file:
            line = next((line for line in file if line.startswith("flags")), "")
    except OSError:
        return set()
    return set(line.partition(":")[2].split())


def has_native_bfloat16(flags=None):
    """Whether a CPU with these flags (this CPU's by default) computes bfloat16 natively;
    False where the flags cannot be read. Elsewhere bfloat16 is emulated: no faster than
    float32 for inference, 4.3 times slower for a training step (AVX2, measured)."""
    return bool((cpu_flags() if flags is None else set(flags)) & set(BFLOAT16_CPU_FLAGS))
