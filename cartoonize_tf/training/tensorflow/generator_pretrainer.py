"""Generator pretraining: L1 to the input photo, or to a paired target (a teacher's cartoon)."""

import keras
import tensorflow as tf

from cartoonize_tf.models.pipeline import cartoon_from_raw
from cartoonize_tf.training.losses import reconstruction_loss
from cartoonize_tf.training.tensorflow.gradients import apply_gradients, replica_share


class GeneratorPretrainer(keras.Model):
    """Trains a generator alone on an L1 loss: `mean |G(photo) - target|`.

    With batches of photos in [-1, 1] the target is the photo itself: the
    authors' initialisation stage before the GAN. With `(photos, targets)`
    batches it learns a paired mapping, such as a teacher renderer's cartoons.
    A generator with a cel-shading stage is trained through it: the loss is
    taken on what inference draws (output guided filter, then the stage)
    against the target shaded by the same stage, so the teacher says where
    regions and edges are and the network learns on which side of each tone
    and line they fall. A stage that keeps the photo's colour (`photo_radius`)
    gives both the photo's colour above its window, so the loss then says
    nothing about colour at that scale; one that inks the photo's lines
    (`line_rule="ink"`) draws the same lines on both. `compile` takes one
    optimiser.

    Args:
        generator: a `UNetGenerator`.
        edge_weight: weight of an added L1 loss between the horizontal and
            vertical differences of output and target; it rewards flat areas
            and sharp outlines where the target has them (0: off).
        **kwargs: standard `keras.Model` arguments.

    Example:
        >>> import numpy as np
        >>> from cartoonize_tf.models.generator import UNetGenerator
        >>> photos = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
        >>> photo_batches = tf.data.Dataset.from_tensors(photos).repeat()
        >>> pretrainer = GeneratorPretrainer(UNetGenerator())
        >>> pretrainer.compile(optimizer=keras.optimizers.Adam(2e-4, 0.5, 0.99))
        >>> history = pretrainer.fit(photo_batches, steps_per_epoch=2, verbose=0)
        >>> int(pretrainer.train_steps)
        2
    """

    def __init__(self, generator, edge_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.edge_weight = float(edge_weight)
        self.train_steps = keras.Variable(0, dtype="int64", trainable=False, name="train_steps",
                                          aggregation="only_first_replica")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        self.built = True  # the generator is its only part

    def compile(self, optimizer, **kwargs):
        if self.generator.dtype_policy.name == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        super().compile(optimizer=optimizer, **kwargs)

    def build_optimizers(self):
        """Creates the optimiser slots now (needed before restoring a checkpoint)."""
        self.optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return [self.l1_tracker]

    def train_step(self, data):
        photos, targets = data if isinstance(data, tuple) else (data, data)
        with tf.GradientTape() as tape:
            output = tf.cast(self.generator(photos, training=True), tf.float32)
            if self.generator.cel_shading_layer is not None:
                output = cartoon_from_raw(self.generator, photos, output)
                targets = self.generator.cel_shading_layer(targets, photo=photos)
            loss = reconstruction_loss(output, targets, self.edge_weight)
            scaled = self.optimizer.scale_loss(replica_share(loss))
        apply_gradients(self.optimizer, tape, scaled, self.generator.trainable_variables)
        self.l1_tracker.update_state(loss)
        self.train_steps.assign_add(1)
        return {"l1": self.l1_tracker.result()}

    def call(self, photos, training=False):
        return self.generator(photos, training=training)
