"""Random grey conversion used for the texture representation."""

import keras
from keras import ops

# Weight ranges of the authors' uniform colour shift, per channel name.
DEFAULT_WEIGHT_RANGES = {"r": (0.199, 0.399), "g": (0.487, 0.687), "b": (0.014, 0.214)}


@keras.saving.register_keras_serializable(package="cartoonize_tf")
class ColorShift(keras.layers.Layer):
    """Turns images into one grey channel with randomly drawn channel weights.

    Called on a list of image batches; one set of weights is drawn per call and
    applied to every batch in the list, so a generated image and a cartoon are
    shifted alike. The weights are divided by their sum.

    Args:
        channel_order: "rgb" or "bgr", the order of the input channels. The
            weight for each channel follows its name, not its position.
        weight_ranges: dict mapping "r", "g", "b" to (low, high) for the
            uniform draw; defaults to the paper's ranges.
        fixed_weights: optional dict "r", "g", "b" -> weight; when given no
            random draw takes place (for tests and evaluation).
        seed: optional integer seed for the draw.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
        >>> import numpy as np
        >>> fake, real = np.random.default_rng(0).uniform(-1, 1, (2, 4, 32, 32, 3)).astype(np.float32)
        >>> fake_grey, real_grey = ColorShift(channel_order="rgb")([fake, real])  # same weights
        >>> tuple(fake_grey.shape), tuple(real_grey.shape)
        ((4, 32, 32, 1), (4, 32, 32, 1))
    """

    def __init__(self, channel_order="rgb", weight_ranges=None, fixed_weights=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        channel_order = channel_order.lower()
        if sorted(channel_order) != ["b", "g", "r"]:
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        self.channel_order = channel_order
        self.weight_ranges = {c: tuple(v) for c, v in (weight_ranges or DEFAULT_WEIGHT_RANGES).items()}
        self.fixed_weights = dict(fixed_weights) if fixed_weights is not None else None
        self.seed = seed
        for table_name, table in (("weight_ranges", self.weight_ranges),
                                  ("fixed_weights", self.fixed_weights)):
            if table is not None:
                check_channel_names(table_name, table)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def draw_weights(self, weights=None):
        """The normalised weights for this call, in input channel order, shape [3].

        `weights` (a dict "r", "g", "b" -> weight before normalisation) takes the
        place of the draw; otherwise `fixed_weights`, otherwise a uniform draw.
        """
        weights = self.fixed_weights if weights is None else weights
        if weights is not None:
            check_channel_names("weights", weights)
            weights = ops.stack([ops.cast(weights[c], "float32") for c in self.channel_order])
        else:
            low = ops.convert_to_tensor([self.weight_ranges[c][0] for c in self.channel_order],
                                        "float32")
            high = ops.convert_to_tensor([self.weight_ranges[c][1] for c in self.channel_order],
                                         "float32")
            weights = keras.random.uniform([3], 0.0, 1.0, seed=self.seed_generator)
            weights = low + weights * (high - low)
        return weights / ops.sum(weights)

    def call(self, images, weights=None):
        """Shifts `images` (a batch or a list of batches) with one set of weights.

        Args:
            images: `[N, H, W, 3]` tensor, or a list of them.
            weights: optional dict "r", "g", "b" -> weight (before normalisation)
                for this call only, e.g. draws made elsewhere; no random draw then.
        """
        single = not isinstance(images, (list, tuple))
        batches = [images] if single else list(images)
        weights = self.draw_weights(weights)
        shifted = [ops.sum(x * ops.cast(weights, x.dtype), axis=-1, keepdims=True)
                   for x in batches]
        return shifted[0] if single else shifted

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            return [tuple(s[:-1]) + (1,) for s in input_shape]
        return tuple(input_shape[:-1]) + (1,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "channel_order": self.channel_order,
            "weight_ranges": {c: list(v) for c, v in self.weight_ranges.items()},
            "fixed_weights": self.fixed_weights,
            "seed": self.seed,
        })
        return config


def check_channel_names(table_name, table):
    """Raises `ValueError` unless `table` has exactly the keys "r", "g", "b"."""
    if set(table) != {"r", "g", "b"}:
        raise ValueError(f"{table_name} needs exactly the keys 'r', 'g', 'b', got {sorted(table)}")
