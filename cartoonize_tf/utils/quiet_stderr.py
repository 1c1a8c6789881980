"""Native libraries' start-up lines (TensorFlow's CUDA probing, LiteRT's delegate notice) kept
out of the user's terminal: they write to file descriptor 2 directly, past Python's logging."""

import contextlib
import logging
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


def quiet_tensorflow():
    """Imports TensorFlow (if not yet) and finds its devices with their start-up noise hidden.

    TF_CPP_MIN_LOG_LEVEL silences its C++ logging once initialised (it must be
    set before the first import); the lines written before that (CUDA probing
    on a machine without a GPU) go to stderr directly, so stderr is pointed at
    /dev/null while TensorFlow loads and finds its devices. An import error
    still raises, after stderr is back.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    with stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
    tf.get_logger().setLevel(logging.ERROR)
