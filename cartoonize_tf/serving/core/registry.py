"""The served model: the newest numeric version under a base path, reloaded when a new one appears."""

import logging
import os
import stat
import threading
from pathlib import Path

import tensorflow as tf

from cartoonize_tf.contract.layout import SAVED_MODEL_FILE, newest_version
from cartoonize_tf.contract.limits import read_max_pixels
from cartoonize_tf.contract.saved_model_file import signature_defs
from cartoonize_tf.contract.signatures import IMAGES_SIGNATURE
from cartoonize_tf.serving.core.errors import ServingError

logger = logging.getLogger(__name__)
# A SavedModel version holds a handful of files; a folder with more is not one (or is a loop).
MAX_VERSION_ENTRIES = 10_000


def check_version_files(path):
    """Raises ValueError unless every entry below a version folder is a regular file or a
    folder (links followed): a FIFO would block the loader (and with it the interpreter)
    until something writes to it, a device would be read without end."""
    count = 0
    for folder, folders, files in os.walk(path, followlinks=True):
        for name in folders + files:
            count += 1
            if count > MAX_VERSION_ENTRIES:
                raise ValueError(f"{path} holds more than {MAX_VERSION_ENTRIES} entries; not a "
                                 "SavedModel version")
            entry = Path(folder) / name
            try:
                mode = entry.stat().st_mode
            except OSError as error:
                raise ValueError(f"{entry} cannot be read ({error.strerror})") from None
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ValueError(f"{entry} is not a regular file or folder; the version is not "
                                 "loaded")


class LoadedVersion:
    """One loaded SavedModel version: its signatures and their SignatureDefs."""

    def __init__(self, path):
        self.path = Path(path)
        self.version = int(self.path.name)
        check_version_files(self.path)
        self.model = tf.saved_model.load(str(path))
        self.signature_defs = signature_defs(self.path)
        self.max_pixels = read_max_pixels(self.path)

    def signature_def_map(self):
        """The signatures as TF Serving's `SignatureDefMap`, for model metadata answers."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for name, definition in self.signature_defs.items():
            signature_map.signature_def[name].CopyFrom(definition)
        return signature_map

    def status(self):
        """TF Serving's `GetModelStatusResponse` for this version: AVAILABLE."""
        from tensorflow_serving.apis import get_model_status_pb2

        response = get_model_status_pb2.GetModelStatusResponse()
        status = response.model_version_status.add()
        status.version = self.version
        status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        status.status.SetInParent()  # error code OK, no message
        return response

    def signature(self, name):
        name = name or IMAGES_SIGNATURE
        if name not in self.signature_defs:
            raise ServingError("NOT_FOUND", f"Serving signature name: \"{name}\" not found in "
                                            f"signature def (have {sorted(self.signature_defs)})")
        return name, self.model.signatures[name], self.signature_defs[name]


class ModelRegistry:
    """Serves the highest numeric version folder under `base_path`, watching for newer ones.

    A version folder appears complete (exports rename it into place); the new
    version is loaded beside the old one and swapped in when ready.
    """

    def __init__(self, base_path, name, poll_seconds=2.0):
        self.base_path = Path(base_path)
        self.name = name
        self.poll_seconds = poll_seconds
        self.lock = threading.Lock()
        self.current = None
        # The version folder that failed to load and its modification time: not retried (nor
        # warned about again) until it changes.
        self.failed = None
        self.stopped = threading.Event()
        self.refresh()
        if self.current is None:
            raise FileNotFoundError(f"No numeric version folder with a saved_model.pb under "
                                    f"{self.base_path}; write one with 'cartoonize export'")
        self.watcher = threading.Thread(target=self._watch, daemon=True, name="model-watcher")
        self.watcher.start()

    def newest_version_path(self):
        return newest_version(self.base_path)

    def refresh(self):
        newest = self.newest_version_path()
        if newest is None or (self.current is not None
                              and int(newest.name) == self.current.version):
            return
        attempt = (newest, (newest / SAVED_MODEL_FILE).stat().st_mtime_ns)
        if attempt == self.failed:
            return
        try:
            loaded = LoadedVersion(newest)
        except Exception:
            self.failed = attempt
            raise
        with self.lock:
            self.current = loaded

    def _watch(self):
        while not self.stopped.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception as error:  # a bad new version must not stop serving
                logger.warning("could not load version %s (tried again once it changes): %s",
                               self.failed[0].name if self.failed else "?", error)

    def get(self, name, version=None):
        """The loaded version for a request, or ServingError NOT_FOUND."""
        if name != self.name:
            raise ServingError("NOT_FOUND", f"Servable not found for request: Latest({name})")
        with self.lock:
            current = self.current
        if version is not None and int(version) != current.version:
            raise ServingError("NOT_FOUND", f"Servable not found for request: "
                                            f"Specific({name}, {version})")
        return current

    def stop(self):
        self.stopped.set()
