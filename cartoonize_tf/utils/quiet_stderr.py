"""Native libraries' start-up lines (TensorFlow's CUDA probing, LiteRT's delegate notice) kept
out of the user's terminal: they write to file descriptor 2 directly, past Python's logging."""

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    """Points file descriptor 2 at /dev/null inside the block; exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
