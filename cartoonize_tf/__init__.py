"""cartoonize_tf: White-box Cartoonization (Wang and Yu, CVPR 2020) in Keras 3 / TensorFlow 2.

Public names are imported on first use, so `cartoonize --help` answers
without loading TensorFlow.

The subpackages follow the data, and import one way only (docs/layout.md):
`contract` (the exported model's contract) under all of them; `utils` and
`whitebox` (numpy/OpenCV) -> `layers` -> `models` -> `export` -> `inference`;
`models` and `data` -> `training`; `serving` runs SavedModels on its own; `cli`
sits on top of everything and nothing imports it.
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "Cartoonizer": "cartoonize_tf.inference.cartoonizer",
    "ColorShift": "cartoonize_tf.layers.color_shift",
    "GuidedFilter": "cartoonize_tf.layers.guided_filter",
    "ResidualBlock": "cartoonize_tf.layers.residual_block",
    "UNetGenerator": "cartoonize_tf.models.generator",
    "load_authors_checkpoint": "cartoonize_tf.models.authors_checkpoint",
    "load_generator": "cartoonize_tf.models.loading",
    "open_runtime": "cartoonize_tf.inference.opening",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'cartoonize_tf' has no attribute {name!r}")
