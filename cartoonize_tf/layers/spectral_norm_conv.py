"""A convolution whose kernel is divided by its spectral norm in every forward pass."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class SpectralNormConv2D(keras.layers.Layer):
    """2-D convolution with spectral normalisation computed inside the forward pass.

    The trainable variable is the raw kernel `W`. Each call reshapes it to
    `[-1, filters]`, runs one power iteration from the persistent vector `u`
    (`v = l2norm(u W^T)`, `u_hat = l2norm(v W)`, both without gradient),
    estimates `sigma = v W u_hat^T` and convolves with `W / sigma`, so the
    gradient for `W` includes the `sigma` term. This is the authors'
    `conv_spectral_norm`; `keras.layers.SpectralNormalization` differs (it
    writes `W / sigma` into the kernel and differentiates for that).

    The kernel is divided by `sigma` in every call, in training or not. With
    `training=True` the call also stores `u_hat` in `u`, which the authors'
    graph does on each run of the layer (in their generator update too, so
    call a discriminator with `training=True` wherever a training step uses it).

    Args:
        filters: number of output channels.
        kernel_size: an int or a pair `(height, width)`.
        strides: an int or a pair; "SAME" padding as in TF1's `tf.nn.conv2d`.
        activation: activation applied after the bias (name or callable), or None.
        kernel_initializer: initialiser of `W`; the authors' `tf.get_variable`
            default is Glorot uniform.
        bias_initializer: initialiser of the bias (zeros, as theirs).
        u_initializer: initialiser of `u`, shape `[1, filters]` (theirs: standard normal).
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
        >>> import numpy as np
        >>> images = np.zeros((2, 16, 24, 3), np.float32)
        >>> conv = SpectralNormConv2D(32, 3, strides=2, activation="leaky_relu")
        >>> tuple(conv(images, training=True).shape)  # [N, H/2, W/2, 32]; u advanced once
        (2, 8, 12, 32)

    Reference:
        Miyato et al., "Spectral Normalization for Generative Adversarial
        Networks", ICLR 2018; Wang and Yu, `train_code/layers.py` of
        White-box Cartoonization, CVPR 2020.
    """

    def __init__(self, filters, kernel_size, strides=1, activation=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 u_initializer="random_normal", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.u_initializer = keras.initializers.get(u_initializer)

    def build(self, input_shape):
        # Kept in the variable dtype inside `call` (no autocast): the power iteration
        # and the division run in float32 also under mixed precision.
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, input_shape[-1], self.filters),
            initializer=self.kernel_initializer, name="kernel", autocast=False)
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                    name="bias")
        # Every replica computes the same u_hat (it depends on W and u only).
        self.u = self.add_weight(shape=(1, self.filters), initializer=self.u_initializer,
                                 name="u", trainable=False, autocast=False,
                                 aggregation="only_first_replica")

    def normalized_kernel(self, training=False):
        """`W / sigma(W)` after one power iteration; with `training`, `u` keeps its result."""
        kernel = ops.convert_to_tensor(self.kernel)
        matrix = ops.reshape(kernel, (-1, self.filters))
        u = ops.convert_to_tensor(self.u)
        v_hat = ops.stop_gradient(l2_normalize(ops.matmul(u, ops.transpose(matrix))))
        u_hat = ops.stop_gradient(l2_normalize(ops.matmul(v_hat, matrix)))
        sigma = ops.matmul(ops.matmul(v_hat, matrix), ops.transpose(u_hat))
        if training:
            self.u.assign(u_hat)
        return kernel / sigma

    def call(self, inputs, training=False):
        kernel = ops.cast(self.normalized_kernel(training=training), inputs.dtype)
        outputs = ops.conv(inputs, kernel, strides=self.strides, padding="same")
        outputs = outputs + ops.cast(self.bias, outputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        spatial = [None if size is None else -(-size // stride)
                   for size, stride in zip(input_shape[1:3], self.strides, strict=True)]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "u_initializer": keras.initializers.serialize(self.u_initializer),
        })
        return config


def l2_normalize(x):
    """`x / ||x||` over its last axis, as `tf.nn.l2_normalize` (norms floored at 1e-6)."""
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))


def _pair(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return pair
