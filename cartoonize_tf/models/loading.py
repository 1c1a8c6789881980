"""Loading a generator from whatever a user points at: a `.keras` file or the authors' checkpoint."""

from pathlib import Path

import keras

from cartoonize_tf.models.generator import UNetGenerator


def load_generator(path):
    """Loads a `UNetGenerator` from a `.keras` file or the authors' TF1 checkpoint."""
    path = Path(path)
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"No model file at {path}")
        model = keras.saving.load_model(path)
        if not isinstance(model, UNetGenerator):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a UNetGenerator")
        return model
    # Reading a TF1 checkpoint needs TensorFlow; a `.keras` file loads on any Keras backend.
    from cartoonize_tf.models.authors_checkpoint import load_authors_checkpoint

    return load_authors_checkpoint(path)


def generator_copy(generator, **config_changes):
    """A built `UNetGenerator` with `generator`'s weights and its config, changed as given
    (`dtype="float32"`, `cel_shading=None`, ...)."""
    copy = UNetGenerator.from_config({**generator.get_config(), **config_changes})
    copy.set_weights(generator.get_weights())
    return copy


def with_rgb_weights(generator):
    """An RGB `UNetGenerator` that draws the same pictures as `generator` (RGB or BGR).

    A BGR generator (the authors' weights) becomes RGB by reversing the input
    channels of its first convolution and the output channels (and biases) of
    its last; every other weight is copied as it is.
    """
    rgb = generator_copy(generator, channel_order="rgb")
    if generator.channel_order == "bgr":
        first, last = rgb.plain_convs[0], rgb.plain_convs[-1]
        first.kernel.assign(first.kernel[:, :, ::-1, :])
        last.kernel.assign(last.kernel[..., ::-1])
        last.bias.assign(last.bias[::-1])
    return rgb
