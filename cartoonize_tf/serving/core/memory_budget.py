"""The server's memory budget: each request reserves its peak memory before it runs.

A request's cost is estimated from what it claims, before anything is
allocated: a REST body from its length (JSON parsing and the array built from
it), a run of the model from its images' pixels (decoded input and output,
plus the model's working memory for the largest image, since a batch runs one
image at a time). Reservations that would take the total past the budget wait
their turn until their deadline, then are refused with RESOURCE_EXHAUSTED; a
request larger than the whole budget is refused at once.
"""

import asyncio
import os
import threading
import time
from pathlib import Path

from cartoonize_tf.serving.core.allocator import give_back_free_memory
from cartoonize_tf.serving.core.errors import ServingError

# Peak working memory of the model per pixel of one image: `benchmarks/serving_memory.py`
# measured 344 to 454 bytes per pixel (0.25 to 2 megapixels, float32 on the CPU); rounded up.
ACTIVATION_BYTES_PER_PIXEL = 512
# A decoded RGB image as uint8, once as input and once as output (PNG bytes are smaller).
IMAGE_BYTES_PER_PIXEL = 2 * 3
# `json.loads` plus `np.asarray` of a predict body, per byte of body: measured 10 for random
# pixels and 22 for one-digit pixels; 32 covers the densest form ("[0,0,0]").
JSON_BYTES_PER_BODY_BYTE = 32
# The share of the machine's (or the cgroup's) memory the default budget takes (a 3840 x 2160
# request needs 4.3 GB of it, so an 8 GB machine serves one at a time): the rest holds
# the interpreter, TensorFlow, the loaded model versions and the allocator's slack.
DEFAULT_SHARE = 0.75
# Where cgroups are mounted, and the limit file of each version's memory controller.
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_V2_LIMIT = "memory.max"
CGROUP_V1_LIMIT = "memory.limit_in_bytes"
# cgroup v1 writes "no limit" as the largest page-aligned int64 (9223372036854771712).
UNLIMITED_V1 = 1 << 62


def cgroup_memory_limit(own_cgroups="/proc/self/cgroup", root=CGROUP_ROOT):
    """The tightest memory limit on this process: its own cgroup's and every ancestor's (a
    systemd unit's `MemoryMax=`, a pod's limit, a nested cgroup), cgroup v2 or v1; None where
    none is set or none can be read."""
    try:
        lines = Path(own_cgroups).read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # the v2 unified hierarchy
            mount, name = Path(root), CGROUP_V2_LIMIT
        elif "memory" in controllers.split(","):
            mount, name = Path(root) / "memory", CGROUP_V1_LIMIT
        else:
            continue
        folder = mount / path.strip("/")
        while True:
            limits.append(read_limit(folder / name))
            if folder == mount or mount not in folder.parents:
                break
            folder = folder.parent
    limits = [limit for limit in limits if limit]
    return min(limits) if limits else None


def read_limit(path):
    """A cgroup limit file's bytes; None for no limit ("max" in v2, about 2**63 in v1), a
    missing file or nonsense."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and 0 < int(text) < UNLIMITED_V1 else None


def machine_memory_bytes(own_cgroups="/proc/self/cgroup", root=CGROUP_ROOT):
    """The memory this process may use: the tightest cgroup limit on it, else the RAM."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = cgroup_memory_limit(own_cgroups, root)
    return min(limit, physical) if limit else physical


def default_budget_bytes():
    return int(machine_memory_bytes() * DEFAULT_SHARE)


def run_bytes(image_pixels, largest_run=None):
    """Peak memory of running the model on images of these pixel counts, one at a time (and
    in tiles of at most `largest_run` pixels, if given)."""
    if not image_pixels:
        return 0
    run = max(image_pixels) if largest_run is None else min(max(image_pixels), largest_run)
    return IMAGE_BYTES_PER_PIXEL * sum(image_pixels) + ACTIVATION_BYTES_PER_PIXEL * run


def megabytes(count):
    return f"{count / 2 ** 20:,.0f} MB"


class Reservation:
    """Memory held against the budget until `release()` (or the end of a `with` block)."""

    def __init__(self, budget, size):
        self.budget, self.size = budget, size

    def release(self):
        if self.size:
            self.budget.give_back(self.size)
            self.size = 0

    def shrink_to(self, size):
        """Gives back what this reservation holds beyond `size` bytes (memory freed already)."""
        if size < self.size:
            self.budget.give_back(self.size - size)
            self.size = size

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class MemoryBudget:
    """Bytes in flight across all requests, never past `total_bytes` (thread-safe)."""

    def __init__(self, total_bytes):
        if total_bytes <= 0:
            raise ValueError(f"the memory budget must be positive, got {total_bytes}")
        self.total_bytes = int(total_bytes)
        self.in_use = 0
        self.condition = threading.Condition()

    def check_fits(self, size, what):
        if size > self.total_bytes:
            raise ServingError("RESOURCE_EXHAUSTED", f"{what} needs about {megabytes(size)}, "
                                                     f"more than the server's whole memory "
                                                     f"budget of {megabytes(self.total_bytes)}"
                                                     " (--memory-budget-mb); send smaller "
                                                     "images or fewer at once")

    def try_grow(self, reservation, size, what):
        """Adds `size` bytes to `reservation` if they fit now (True), else False; refused if
        the total could never fit."""
        self.check_fits(reservation.size + size, what)
        with self.condition:
            if self.in_use + size > self.total_bytes:
                return False
            self.in_use += size
        reservation.size += size
        return True

    def reserve(self, size, what, timeout=None, cancelled=None):
        """Waits until `size` bytes fit (up to `timeout` s, or until `cancelled` is set)."""
        self.check_fits(size, what)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.condition:
            while self.in_use + size > self.total_bytes:
                if cancelled is not None and cancelled.is_set():
                    raise ServingError("CANCELLED", "cancelled while waiting for memory")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise busy(what, size, self)
                # Wake at least every 0.1 s to notice a cancellation.
                self.condition.wait(0.1 if left is None else min(left, 0.1))
            self.in_use += size
        return Reservation(self, size)

    def give_back(self, size):
        with self.condition:
            self.in_use -= size
            self.condition.notify_all()

    async def grow_waiting(self, reservation, size, what, timeout):
        """`try_grow` on an event loop: polls until `size` more bytes fit, for up to `timeout`
        s, then RESOURCE_EXHAUSTED."""
        deadline = time.monotonic() + timeout
        while not self.try_grow(reservation, size, what):
            if time.monotonic() >= deadline:
                raise busy(what, reservation.size + size, self)
            await asyncio.sleep(0.05)


# After a reservation this large, the allocator's free memory goes back to the system.
TRIM_AFTER_BYTES = 64 << 20


def release_giving_back(reservation):
    """Releases `reservation`; after a large one, the freed memory goes back to the system
    (else the resident set, what a memory cgroup counts, stays at the request's peak)."""
    large = reservation.size >= TRIM_AFTER_BYTES
    reservation.release()
    if large:
        give_back_free_memory()


async def run_holding(pool, reservation, work, *args):
    """`work(*args)` on `pool`, awaited. `reservation` is released when the work ends (or is
    cancelled before it starts), not when the awaiting coroutine does: a caller that stops
    waiting (a deadline, a client gone) leaves the memory counted while a thread still uses
    it."""
    future = pool.submit(work, *args)
    future.add_done_callback(lambda _: release_giving_back(reservation))
    return await asyncio.wrap_future(future)


def busy(what, size, budget):
    return ServingError("RESOURCE_EXHAUSTED", f"the server is busy: {what} needs about "
                                              f"{megabytes(size)} and "
                                              f"{megabytes(budget.in_use)} of its "
                                              f"{megabytes(budget.total_bytes)} memory budget "
                                              "are in use; try again shortly")
