"""Edge-preserving guided filter (He et al., 2010) as a Keras layer."""

import keras


def box_mean(x, radius):
    """Mean over a (2r+1)x(2r+1) window, counting only pixels inside the image.

    Average pooling with "same" padding divides by the number of valid pixels under
    the window, so no normaliser the size of the image is ever built: the graph
    stays free of image-sized constants (this matters for fixed-size TFLite). A row
    pass then a column pass: the valid counts factor, so the two equal the square
    window at 2(2r+1) instead of (2r+1)^2 additions per pixel.
    """
    size = 2 * radius + 1
    rows = keras.ops.average_pool(x, pool_size=(1, size), strides=1, padding="same")
    return keras.ops.average_pool(rows, pool_size=(size, 1), strides=1, padding="same")


def guided_filter(x, y, radius, eps):
    """Filters `y` with guide `x`; both are NHWC float tensors of the same size.

    `x` has one channel or as many as `y`. Equals the authors' box-filter
    formulation (zero-padded box sums divided by the box sum of ones).
    """
    mean_x = box_mean(x, radius)
    mean_y = box_mean(y, radius)
    cov_xy = box_mean(x * y, radius) - mean_x * mean_y
    var_x = box_mean(x * x, radius) - mean_x * mean_x
    a = cov_xy / (var_x + eps)
    b = mean_y - a * mean_x
    return box_mean(a, radius) * x + box_mean(b, radius)


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class GuidedFilter(keras.layers.Layer):
    """Guided filter: smooths an input while following the edges of a guide.

    Called as `layer([guide, input])`. Differentiable, works at any height and
    width, and holds no weights.

    Args:
        radius: window radius in pixels; the window is `2 * radius + 1` wide.
        eps: regularisation; larger values smooth more across weak edges.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
        >>> import numpy as np
        >>> photo, output = np.random.default_rng(0).uniform(-1, 1, (2, 1, 32, 32, 3)).astype(np.float32)
        >>> smooth = GuidedFilter(radius=1, eps=5e-3)([photo, output])  # output along photo's edges
        >>> surface = GuidedFilter(radius=5, eps=0.2)([output, output])  # edge-preserving blur
        >>> tuple(smooth.shape), bool(np.std(surface) < np.std(output))
        ((1, 32, 32, 3), True)

    Reference:
        He, Sun and Tang, "Guided Image Filtering", ECCV 2010.
    """

    def __init__(self, radius=1, eps=1e-2, **kwargs):
        super().__init__(**kwargs)
        if int(radius) != radius or radius < 1:
            raise ValueError(f"radius must be a positive integer, got {radius!r}")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.radius = int(radius)
        self.eps = float(eps)

    def call(self, inputs):
        guide, image = inputs
        return guided_filter(guide, image, self.radius, self.eps)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        config = super().get_config()
        config.update({"radius": self.radius, "eps": self.eps})
        return config
