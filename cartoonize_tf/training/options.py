"""Names, settings and errors of the training runs, free of TensorFlow (`--help`, the JAX trainer)."""

from cartoonize_tf.utils.cpu_flags import has_native_bfloat16

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
# --precision: the Keras dtype policy each name trains under. The weights and the saved
# generator stay float32; only float16 needs loss scaling (bfloat16 has float32's range).
PRECISION_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16",
                      "float16": "mixed_float16"}
PRECISION_CHOICES = ("auto", *PRECISION_POLICIES)


class RunError(RuntimeError):
    """A training run cannot start as asked; the message says what to do."""


def resolve_precision(name, has_gpu=False, cpu_bfloat16=None):
    """The precision that `--precision name` trains in: `auto` becomes bfloat16 on a GPU or
    on a CPU with native bfloat16 units, float32 elsewhere (emulated bfloat16 is slower)."""
    if name not in PRECISION_CHOICES:
        raise RunError(f"--precision must be one of {', '.join(PRECISION_CHOICES)}, got {name!r}")
    if name != "auto":
        return name
    if cpu_bfloat16 is None:
        cpu_bfloat16 = has_native_bfloat16()
    return "bfloat16" if has_gpu or cpu_bfloat16 else "float32"


def pretraining_sides(paired):
    """The data sides `pretrain` reads: photos, and their paired cartoons with `--paired`."""
    return ("photo", "cartoon") if paired else ("photo",)


def gan_sides(loss_weights):
    """The data sides `train` reads: photos and cartoons, and teachers when a teacher term is on."""
    uses_teacher = loss_weights.get("teacher") or loss_weights.get("teacher_edges")
    return ("photo", "cartoon", "teacher") if uses_teacher else ("photo", "cartoon")
