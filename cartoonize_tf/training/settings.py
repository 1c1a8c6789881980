"""One training run's settings: built once from the command's options, read by both backends."""

import json
from dataclasses import asdict, dataclass, field, fields

from cartoonize_tf.training.options import gan_sides, pretraining_sides
from cartoonize_tf.utils.files import atomic_output

COMMANDS = ("pretrain", "train")


@dataclass(frozen=True)
class RunSettings:
    """What a `pretrain` or `train` run needs, free of argparse and of any backend.

    `command` is "pretrain" (the generator alone, L1 to the photo or, `paired`,
    to its cartoon) or "train" (the White-box GAN). Options of the other
    command keep their defaults.
    """

    command: str  # "pretrain" or "train"
    data_dir: str  # folder holding the training images' side folders (photo_scenery/, ...)
    output_dir: str  # run folder: checkpoints/, logs/, settings.json, generator.keras
    steps: int  # train up to this step count (a resumed run counts its earlier steps)
    patch_size: int = 256  # side of the random square crops, in pixels
    batch_size: int = 16  # crops per step, all replicas together
    flip: bool = False  # mirror crops left-right at random
    resume: bool = False  # go on from the latest checkpoint in `output_dir`
    learning_rate: float = 2e-4  # Adam's learning rate, for G and D alike (unitless)
    seed: int | None = None  # seed for weights, crops and draws; None: unseeded
    save_every: int = 1000  # steps between checkpoints (0: no periodic checkpoint)
    log_every: int = 100  # steps between TensorBoard scalars (losses averaged over them)
    sample_every: int = 1000  # steps between TensorBoard sample images (0: never)
    progress: bool = True  # show the progress bar
    precision: str = "auto"  # compute type (`PRECISION_CHOICES`); the weights stay float32
    distribute: str = "none"  # `DISTRIBUTE_CHOICES`: one device, all local GPUs, or TF_CONFIG's workers
    pretrained: str | None = None  # generator.keras (or a run folder) to start G from; None: random
    # pretrain
    paired: bool = False  # L1 to the cartoon of the same file name, not to the photo itself
    edge_weight: float = 0.0  # weight of the L1 of pixel differences beside the plain L1 (0: off)
    cel_shading: bool = False  # train through a CelShading stage, saved with the generator
    # train
    superpixel: str = "simple"  # the structure target's segmentation (`SUPERPIXEL_MODES`)
    # VGG19's weights: "imagenet", an .h5 or .npy path, "none" (random), or "pixels" (no VGG)
    vgg_weights: str = "imagenet"
    loss_weights: dict = field(default_factory=dict)  # {loss term: weight} overriding DEFAULT_LOSS_WEIGHTS
    xla: str = "auto"  # compile the G and D updates with XLA: "on", "off" or "auto" (GPU only)

    def __post_init__(self):
        if self.command not in COMMANDS:
            raise ValueError(f"command must be one of {COMMANDS}, got {self.command!r}")

    @classmethod
    def from_options(cls, options):
        """From an argparse namespace (or any object with the option names as attributes,
        `command` included)."""
        values = {f.name: getattr(options, f.name) for f in fields(cls)
                  if hasattr(options, f.name)}
        values["loss_weights"] = dict(getattr(options, "loss_weight", ()))
        values["progress"] = not getattr(options, "no_progress", False)
        return cls(**values)

    @property
    def sides(self):
        """The data folders' sides the run reads (`photo`, `cartoon`, `teacher`)."""
        if self.command == "pretrain":
            return pretraining_sides(self.paired)
        return gan_sides(self.loss_weights)

    @property
    def name(self):
        return "pretraining" if self.command == "pretrain" else "training"

    def write(self, path):
        """Records the settings in `path` (a run's `settings.json`), atomically."""
        with atomic_output(path) as temporary:
            temporary.write_text(json.dumps(asdict(self), indent=2, default=str))
