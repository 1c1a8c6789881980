"""Frozen VGG19 `conv4_4` features (before its ReLU), for the content and structure losses."""

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                     + VGG19_WEIGHTS_FILE)
VGG19_WEIGHTS_HASH = "253f8cb515780f3b799900260a226db6"
# Caffe's ImageNet means, in BGR order, as keras.applications.vgg19.preprocess_input uses.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


class VGGWeightsError(RuntimeError):
    """The ImageNet VGG19 weights could not be found or downloaded."""


def keras_cache_path():
    """Where `keras.utils.get_file` looks for the weights: `$KERAS_HOME/models` or `~/.keras/models`."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return home / "models" / VGG19_WEIGHTS_FILE


def imagenet_weights_path():
    """Keras's cached copy of the ImageNet weights, downloaded on first use."""
    try:
        return keras.utils.get_file(VGG19_WEIGHTS_FILE, VGG19_WEIGHTS_URL, cache_subdir="models",
                                    file_hash=VGG19_WEIGHTS_HASH)
    except Exception as error:  # any download failure gets the same advice
        raise VGGWeightsError(
            f"Could not get the VGG19 ImageNet weights ({error}).\n"
            f"Download {VGG19_WEIGHTS_URL} on a machine with network access and either put it "
            f"at {keras_cache_path()} (Keras's cache) or pass its path: --vgg-weights "
            f"/path/to/{VGG19_WEIGHTS_FILE}.") from None


def load_authors_npy(base, path):
    """Loads a `.npy` weights dict of the authors' format into Keras's VGG19 `base`.

    The file (their `vgg19_no_fc.npy`, read by their `Vgg19` class) is a pickled
    dict `conv{block}_{index}` -> `[kernel HWIO, bias]` for BGR, Caffe-centred
    input, the same convention as Keras's `block{block}_conv{index}` layers.
    The convolutions up to `conv4_4` must be present; later ones are optional
    (the features stop there).
    """
    table = np.load(path, encoding="latin1", allow_pickle=True).item()
    for layer in base.layers:
        if not isinstance(layer, keras.layers.Conv2D):
            continue
        block, index = layer.name.removeprefix("block").split("_conv")
        key = f"conv{block}_{index}"
        if key not in table:
            if int(block) <= 4:
                raise VGGWeightsError(f"{path} has no '{key}' (needed up to conv4_4)")
            continue
        layer.set_weights([np.asarray(value, np.float32) for value in table[key]])


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class VGGFeatures(keras.Model):
    """VGG19 up to `block4_conv4`, pre-activation, frozen; takes images in [-1, 1].

    Inputs are mapped to [0, 255], put in BGR order and centred on Caffe's
    ImageNet means, as the VGG19 weights expect.

    Args:
        weights: "imagenet" (Keras's download and cache), a path to the
            no-top `.h5` weights file, a path to a `.npy` dict in the format of
            the authors' `vgg19_no_fc.npy` (see `load_authors_npy`), or None
            for random weights (tests and smoke runs only: the content and
            structure losses then mean little).
        channel_order: "rgb" or "bgr", the order of the input channels.
        **kwargs: standard `keras.Model` arguments.
    """

    def __init__(self, weights="imagenet", channel_order="rgb", **kwargs):
        super().__init__(**kwargs)
        self.weights_source = weights
        self.channel_order = channel_order
        base = keras.applications.VGG19(include_top=False, weights=None,
                                        input_shape=(None, None, 3))
        if weights is not None:
            path = imagenet_weights_path() if weights == "imagenet" else weights
            if not Path(path).is_file():
                raise VGGWeightsError(f"No VGG19 weights file at {path}")
            if str(path).endswith(".npy"):
                load_authors_npy(base, path)
            else:
                base.load_weights(path)
        self.features = self._truncate_before_relu(base)
        self.features.trainable = False

    def _truncate_before_relu(self, base):
        """VGG19's layers up to `block4_conv4` without its ReLU, in this model's dtype policy
        (`keras.applications` builds them in the global one)."""
        inputs = keras.Input((None, None, 3))
        x = inputs
        for layer in base.layers[1:]:
            config = {**layer.get_config(), "dtype": self.dtype_policy}
            if layer.name == "block4_conv4":
                config.update(activation=None, name="block4_conv4_linear")
            copy = type(layer).from_config(config)
            x = copy(x)
            copy.set_weights(layer.get_weights())
            if layer.name == "block4_conv4":
                break
        return keras.Model(inputs, x, name="vgg19_conv4_4")

    def call(self, images):
        x = (tf.cast(images, self.compute_dtype) + 1.0) * 127.5
        if self.channel_order == "rgb":
            x = tf.reverse(x, axis=[-1])
        x = x - tf.constant(CAFFE_BGR_MEAN, dtype=x.dtype)
        return self.features(x)

    def get_config(self):
        config = super().get_config()
        config.update({"weights": self.weights_source, "channel_order": self.channel_order})
        return config
