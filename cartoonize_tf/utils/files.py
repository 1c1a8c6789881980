"""Writing files so that an interrupted write never leaves a partial file behind."""

import contextlib
import os
import uuid
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path):
    """Yields a temporary path beside `path`; renames it to `path` once the block succeeds.

    The temporary name keeps the suffix (writers such as Keras check it) and
    starts with a dot; on any error it is removed and `path` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.part{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
