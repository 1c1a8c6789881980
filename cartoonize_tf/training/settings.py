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

    command: str
    data_dir: str
    output_dir: str
    steps: int
    patch_size: int = 256
    batch_size: int = 16
    flip: bool = False
    resume: bool = False
    learning_rate: float = 2e-4
    seed: int | None = None
    save_every: int = 1000
    log_every: int = 100
    sample_every: int = 1000
    progress: bool = True
    precision: str = "auto"
    distribute: str = "none"
    pretrained: str | None = None
    # pretrain
    paired: bool = False
    edge_weight: float = 0.0
    cel_shading: bool = False
    # train
    superpixel: str = "simple"
    vgg_weights: str = "imagenet"
    loss_weights: dict = field(default_factory=dict)
    xla: str = "auto"

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
