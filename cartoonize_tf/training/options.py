"""Names, settings and errors of the training runs, free of TensorFlow (`--help`, the JAX trainer)."""

# The authors' optimiser for G and D (train.py): TF1's Adam epsilon is 1e-8, Keras's 1e-7.
ADAM = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-8}
DISTRIBUTE_CHOICES = ("none", "mirrored", "multiworker")
XLA_CHOICES = {"auto": "auto", "on": True, "off": False}
# The generator loss: the paper's weights; "teacher" and "teacher_edges" (this project's optional
# paired terms: L1 to a teacher's cartoon of the same photo, and to its pixel differences) are off.
DEFAULT_LOSS_WEIGHTS = {"total_variation": 1e4, "surface": 0.1, "texture": 1.0,
                        "content": 200.0, "structure": 200.0, "teacher": 0.0,
                        "teacher_edges": 0.0}
GENERATOR_FILE = "generator.keras"


class RunError(RuntimeError):
    """A training run cannot start as asked; the message says what to do."""


def settings_record(args):
    """The command's options as a JSON-friendly dict, for `settings.json`."""
    return {k: v for k, v in vars(args).items() if k != "handler"}
