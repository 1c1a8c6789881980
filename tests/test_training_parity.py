"""One GAN training step against the authors' own (`../shared/reference/authors_train_golden*`).

Their `train.py` ran one generator update and then one discriminator update on
pinned inputs, weights, colour-shift draws and a random VGG19, and saved the
losses, the gradients and the variables after each Adam step. The same step
runs here through `WhiteBoxCartoonGAN.generator_update` and
`discriminator_update`, on every `authors_train_golden*` folder of the reference
root (the test id names it). Sizes, counts and names all come from the files.

What holds on every set and thread count: the losses, the spectral-norm vectors,
and the optimizer, checked by applying the project's Adam to the golden
gradients (not to its own: Adam's first step is about lr * sign(g) for tiny |g|,
so a round-off sign flip of a near-zero gradient becomes a full step). The raw
gradients are compared on the first set only: on the 96 px set the two sides'
outputs (both within 7e-7 of float64) pick different winners in four near-tied
VGG max-pool windows, which moves the gradients by 4e-4 of their largest value
(the reference README measures it); a comparison blind to such tie flips is
issue 23's open part.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
from helpers import REFERENCE_DIR

from cartoonize_tf.models.authors_checkpoint import (
    authors_variable_layers,
    load_authors_checkpoint,
)
from cartoonize_tf.models.vgg_features import VGGFeatures
from cartoonize_tf.training.builders import build_gan

GOLDEN = "authors_train_golden"
GOLDEN_SETS = sorted(path.name for path in REFERENCE_DIR.glob(f"{GOLDEN}*")
                     if (path / "expected.npz").is_file()) or [GOLDEN]
# The authors' scopes: `disc_blur` judges the surface representation, `disc_gray` the texture.
SURFACE_SCOPE, TEXTURE_SCOPE = "disc_blur", "disc_gray"
# The order of the losses in `expected.npz`, as the project's metric names.
GENERATOR_LOSSES = ("total_variation", "surface_g", "texture_g", "content", "structure",
                    "generator_loss")
DISCRIMINATOR_LOSSES = ("surface_d", "texture_d", "discriminator_loss")
# Float32 round-off, each measured on both golden sets at default threads and at one thread.
# Losses and gradients: relative to the largest magnitude of each loss or gradient array.
LOSS_TOLERANCE = 1e-5
GRADIENT_TOLERANCE = 1e-4
# Spectral-norm vectors after one power iteration, each on its own (unit) scale.
WEIGHT_TOLERANCE = 1e-5
# The project's Adam on the golden gradients against TF1's, relative to the model's largest
# weight: measured at most 8.1e-7 (the same inputs; only the order of float32 operations
# differs).
OPTIMIZER_TOLERANCE = 1e-6


def relative_error(actual, expected, scale=None):
    """max |actual - expected| / scale, by default scale = max |expected| (1 if that is 0)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected)) if scale is None else scale
    return float(np.max(np.abs(actual - expected)) / (scale if scale > 0 else 1.0))


def weight_errors(actual, expected):
    """`{name: error}` of a model's weights, each relative to the model's largest weight."""
    scale = max(np.max(np.abs(value)) for value in expected.values())
    return {name: relative_error(actual[name], expected[name], scale) for name in expected}


def worst(errors):
    """The largest error and its name, for assertion messages."""
    name = max(errors, key=errors.get)
    return errors[name], name


def generator_variables(generator):
    """`{authors' TF1 name: Keras variable}` of the generator."""
    names = {}
    for scope, conv in authors_variable_layers(generator).items():
        names[f"generator/{scope}/weights:0"] = conv.kernel
        names[f"generator/{scope}/biases:0"] = conv.bias
    return names


def discriminator_variables(discriminator, scope):
    """`{authors' TF1 name: Keras variable}`: `<scope>/<conv>/{kernel,bias,u}:0`."""
    return {f"{scope}/{layer.name}/{variable.name}:0": variable
            for layer in discriminator.convs for variable in layer.weights}


def discriminator_shape(expected, scope):
    """(first-stage filters, number of stages) of the golden's discriminator `scope`."""
    stages = {int(m.group(1)) for key in expected
              if (m := re.fullmatch(rf"init:{scope}/conv(\d+)_1/kernel:0", key))}
    return expected[f"init:{scope}/conv0_1/kernel:0"].shape[-1], len(stages)


def assign_initial_values(variables, expected):
    stored = {key.removeprefix("init:") for key in expected if key.startswith("init:")}
    assert set(variables) <= stored, sorted(set(variables) - stored)
    for name, variable in variables.items():
        variable.assign(expected[f"init:{name}"])


@pytest.fixture(scope="module", params=GOLDEN_SETS)
def step(reference_dir, request):
    directory = reference_dir / request.param
    if not (directory / "expected.npz").is_file():
        pytest.skip(f"no {request.param} under {reference_dir}")
    return {**run_golden_step(directory), "golden": request.param}


def first_set_only(step):
    if step["golden"] != GOLDEN_SETS[0]:
        pytest.skip("raw gradients and own-step weights: first golden set only (see the "
                    "module docstring)")


def followed(path):
    """`path`, or the file it names when it is a symbolic link that a copy kept as a small
    text file holding the link's target (the 96 px set's VGG is a link to the 64 px one's)."""
    if path.stat().st_size < 1024:
        target = path.parent / path.read_text().strip()
        if target.is_file():
            return target
    return path


def run_golden_step(directory):
    """Runs the generator update, then the discriminator update, as the golden did."""
    inputs = dict(np.load(directory / "inputs.npz"))
    expected = dict(np.load(directory / "expected.npz"))

    first = expected["init:generator/Conv/weights:0"]
    blocks = {m.group(1) for key in expected
              if (m := re.fullmatch(r"init:generator/block_(\d+)/conv1/weights:0", key))}
    generator = load_authors_checkpoint(directory / "generator_checkpoint",
                                        channels=first.shape[-1], num_blocks=len(blocks))
    g_variables = generator_variables(generator)
    for name, variable in g_variables.items():  # the checkpoint and `init:` agree
        np.testing.assert_array_equal(variable.numpy(), expected[f"init:{name}"])

    channels, stages = discriminator_shape(expected, SURFACE_SCOPE)
    assert discriminator_shape(expected, TEXTURE_SCOPE) == (channels, stages)
    vgg = VGGFeatures(weights=str(followed(directory / "vgg19_random.npy")),
                      channel_order=generator.channel_order)
    # The project's own GAN, as train.py builds it (the authors' Adam included); only the
    # generator is the golden's BGR one, and every starting weight is theirs.
    gan = build_gan(vgg, generator, discriminator_channels=channels,
                    discriminator_stages=stages, xla=False)
    d_variables = {**discriminator_variables(gan.surface_discriminator, SURFACE_SCOPE),
                   **discriminator_variables(gan.texture_discriminator, TEXTURE_SCOPE)}
    assign_initial_values(d_variables, expected)

    # The golden's draws are in b, g, r order, before their normalisation.
    shift_g = dict(zip("bgr", map(float, inputs["shift_g"])))
    shift_d = dict(zip("bgr", map(float, inputs["shift_d"])))
    photos, cartoons, superpixels = (tf.constant(inputs[key])
                                     for key in ("photos", "cartoons", "superpixels"))

    g_results, g_gradients = gan.generator_update(photos, superpixels, shift_weights=shift_g,
                                                  return_gradients=True)
    g_after = {name: variable.numpy() for name, variable in g_variables.items()}
    d_results, d_gradients = gan.discriminator_update(photos, cartoons, shift_weights=shift_d,
                                                      return_gradients=True)
    return {
        "expected": expected,
        "g_losses": [float(g_results[name]) for name in GENERATOR_LOSSES],
        "d_losses": [float(d_results[name]) for name in DISCRIMINATOR_LOSSES],
        "ggrad": {name: g_gradients[v.path].numpy() for name, v in g_variables.items()},
        "dgrad": {name: d_gradients[v.path].numpy() for name, v in d_variables.items()
                  if v.trainable},
        "gafter": g_after,
        "g_final": {name: variable.numpy() for name, variable in g_variables.items()},
        "dafter": {name: variable.numpy() for name, variable in d_variables.items()},
        "g_optimizer": gan.generator_optimizer.get_config(),
        "d_optimizer": gan.discriminator_optimizer.get_config(),
    }


def assert_losses_match(names, actual, expected):
    assert len(expected) == len(names)
    errors = {name: relative_error(value, wanted)
              for name, value, wanted in zip(names, actual, expected)}
    assert worst(errors)[0] < LOSS_TOLERANCE, worst(errors)


def test_generator_losses_match(step):
    assert_losses_match(GENERATOR_LOSSES, step["g_losses"], step["expected"]["g_losses"])


def assert_gradients_match(gradients, expected, prefix):
    """Every golden `<prefix><name>` gradient is computed here, each within tolerance."""
    errors = {name: relative_error(gradient, expected[f"{prefix}{name}"])
              for name, gradient in gradients.items()}
    assert {f"{prefix}{name}" for name in errors} == {
        key for key in expected if key.startswith(prefix)}
    assert worst(errors)[0] < GRADIENT_TOLERANCE, worst(errors)


def test_generator_gradients_match(step):
    first_set_only(step)
    assert_gradients_match(step["ggrad"], step["expected"], "ggrad:")


def test_discriminator_step_leaves_the_generator_alone(step):
    for name, value in step["g_final"].items():
        np.testing.assert_array_equal(value, step["gafter"][name])


def test_discriminator_losses_match(step):
    assert_losses_match(DISCRIMINATOR_LOSSES, step["d_losses"], step["expected"]["d_losses"])


def test_discriminator_gradients_are_for_the_raw_kernels(step):
    first_set_only(step)
    assert_gradients_match(step["dgrad"], step["expected"], "dgrad_raw:")


def test_spectral_norm_vectors_after_the_discriminator_step_match(step):
    """Every `u` (a unit vector, not trained: one power iteration per call), on its own scale."""
    assert {f"dafter:{name}" for name in step["dafter"]} == {
        key for key in step["expected"] if key.startswith("dafter:")}
    errors = {name: relative_error(step["dafter"][name], step["expected"][f"dafter:{name}"])
              for name in step["dafter"] if name.endswith("/u:0")}
    assert errors and worst(errors)[0] < WEIGHT_TOLERANCE, worst(errors)


def adam_on_golden_gradients(config, expected, names, gradient_prefix):
    """`{name: weight}` after the project's optimizer (`config`) takes one step from the golden's
    initial weights with the golden's gradients."""
    import keras

    variables = [tf.Variable(expected[f"init:{name}"]) for name in names]
    optimizer = keras.optimizers.Adam.from_config(config)
    optimizer.apply([tf.constant(expected[f"{gradient_prefix}{name}"]) for name in names],
                    variables)
    return {name: variable.numpy() for name, variable in zip(names, variables)}


def test_the_generator_optimizer_matches_on_the_golden_gradients(step):
    expected = step["expected"]
    names = sorted(step["gafter"])
    after = adam_on_golden_gradients(step["g_optimizer"], expected, names, "ggrad:")
    errors = weight_errors(after, {name: expected[f"gafter:{name}"] for name in names})
    assert worst(errors)[0] < OPTIMIZER_TOLERANCE, worst(errors)


def test_the_discriminator_optimizer_matches_on_the_golden_gradients(step):
    expected = step["expected"]
    names = sorted(name for name in step["dafter"] if not name.endswith("/u:0"))
    after = adam_on_golden_gradients(step["d_optimizer"], expected, names, "dgrad_raw:")
    for scope in (SURFACE_SCOPE, TEXTURE_SCOPE):
        errors = weight_errors({n: v for n, v in after.items() if n.startswith(f"{scope}/")},
                               {name: expected[f"dafter:{name}"] for name in names
                                if name.startswith(f"{scope}/")})
        assert worst(errors)[0] < OPTIMIZER_TOLERANCE, worst(errors)
