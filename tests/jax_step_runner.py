"""Runs JAX training steps in a process of its own: `KERAS_BACKEND=jax python this IN OUT`.

IN (npz) holds the settings (which steps: "gan" or "pretrain", how many), the
weights of a generator (and, for the GAN, two discriminators), a batch and the
colour-shift weights; OUT gets each step's losses and the weights after the last.
"""

import json
import sys

import numpy as np

from cartoonize_tf.training.builders import adam, build_discriminators, build_generator
from cartoonize_tf.training.gan_objectives import GANObjectives
from cartoonize_tf.training.jax.builders import build_pretrain_steps
from cartoonize_tf.training.jax.gan import JaxGANSteps


def pretrain(given, settings, generator):
    steps = build_pretrain_steps(generator, edge_weight=settings["edge_weight"])
    results = [{"l1": float(steps.train_step(given["photos"], given["teachers"])["l1"])}
               for _ in range(settings["steps"])]
    steps.sync_variables()
    return results, (("generator", generator),)


def train_gan(given, settings, generator):
    surface, texture = build_discriminators()
    for name, model in (("surface", surface), ("texture", texture)):
        model.set_weights([given[f"{name}_{i}"] for i in range(len(model.weights))])
    objectives = GANObjectives(generator, surface, texture, None,
                               loss_weights=settings["loss_weights"])
    steps = JaxGANSteps(objectives, adam(), adam())
    results = []
    for _ in range(settings["steps"]):
        step = steps.train_step(given["photos"], given["cartoons"], given["teachers"],
                                shift_weights=(settings["shift_g"], settings["shift_d"]))
        results.append({name: float(value) for name, value in step.items()})
    steps.sync_variables()
    return results, (("generator", generator), ("surface", surface), ("texture", texture))


def main(source, target):
    given = np.load(source)
    settings = json.loads(str(given["settings"]))
    generator = build_generator(channels=settings["channels"], num_blocks=settings["blocks"])
    generator.set_weights([given[f"generator_{i}"] for i in range(len(generator.weights))])
    step = pretrain if settings["mode"] == "pretrain" else train_gan
    results, models = step(given, settings, generator)
    arrays = {f"{name}_{i}": np.asarray(w) for name, model in models
              for i, w in enumerate(model.weights)}
    np.savez(target, results=json.dumps(results), **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
