"""The optional install extras, and one clear error when a command needs a missing one."""

import importlib.util

# The modules each extra of setup.cfg brings (the core cartoonizes photos with TensorFlow).
EXTRA_MODULES = {
    "serve": ("tensorflow_serving", "aiohttp"),
    "export": ("tensorflow_serving", "tf2onnx", "onnxruntime"),
    "video": ("av",),
    "bulk": ("apache_beam",),
    "jax": ("jax",),
}


class MissingExtra(ImportError):
    """A feature's optional packages are not installed; the message says what to install."""


def require_extra(extra, feature):
    """MissingExtra naming the pip command when a module of `extra` cannot be imported."""
    missing = [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(f"{feature} needs the optional '{extra}' extra ({', '.join(missing)} "
                           f"not installed): pip install \"cartoonize_tf[{extra}]\" (in a "
                           f"checkout: pip install -e \".[{extra}]\")")
