"""The CPU's instruction-set flags, for choosing the fastest path on this machine."""


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The first `flags` line of /proc/cpuinfo as a set; empty where it cannot be read."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as file:
            line = next((line for line in file if line.startswith("flags")), "")
    except OSError:
        return set()
    return set(line.partition(":")[2].split())
