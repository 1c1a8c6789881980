"""Converters' chatter kept out of the user's terminal."""

import contextlib
import logging

# TensorFlow's own Python loggers: SavedModel writing names every renamed input (a line of
# about 1,700 characters); the TFLite converter and quantizer report each step; tf2onnx logs
# its versions and each optimisation pass.
CHATTY_LOGGERS = ("tensorflow", "absl", "tf2onnx")


@contextlib.contextmanager
def quiet_converters(level=logging.ERROR):
    """Raises TensorFlow's loggers to `level` inside the block (warnings about our own inputs'
    names and conversion progress say nothing a user can act on), and restores them."""
    loggers = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, previous in zip(loggers, levels, strict=True):
            logger.setLevel(previous)
