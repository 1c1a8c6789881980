"""Keras callbacks of the training commands: progress, TensorBoard, checkpoints."""

import logging
import time

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

logger = logging.getLogger(__name__)


class TrainingMonitor(keras.callbacks.Callback):
    """A progress bar with losses and steps/s; TensorBoard scalars and photo | output grids.

    Losses are averaged over each logging window (the trackers are reset after
    each write), so the bar and TensorBoard show recent values, not run means.

    Args:
        log_dir: TensorBoard folder.
        first_step, last_step: the step the run starts after and the one it stops at.
        log_every: steps between scalar writes and bar updates of the losses.
        sample_every: steps between sample-image writes (0: never).
        sample_photos: a batch of photos in [-1, 1] for the sample grids.
        render: function mapping photos to outputs in [-1, 1] (the model's view).
        metrics_log: the run's `MetricsLog`, which gets the losses and the speed (None: only
            the progress bar shows them).
    """

    def __init__(self, log_dir, first_step, last_step, log_every=100, sample_every=1000,
                 sample_photos=None, render=None, progress=True, metrics_log=None):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))  # the sample grids
        self.metrics_log = metrics_log
        self.first_step = first_step
        self.last_step = last_step
        self.log_every = max(1, log_every)
        self.sample_every = sample_every
        self.sample_photos = sample_photos
        self.render = render
        self.progress = progress
        self.step = first_step

    def on_train_begin(self, logs=None):
        self.run_start = time.perf_counter()
        self.last_values = {}
        self.bar = tqdm(total=self.last_step, initial=self.first_step, unit="step",
                        dynamic_ncols=True, disable=not self.progress)
        self.window_start = time.perf_counter()
        self.window_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self.window_steps += 1
        self.bar.update(1)
        if self.step % self.log_every == 0 or self.step == self.last_step:
            self.write_scalars(logs or {})
        if self.sample_every and self.sample_photos is not None and (
                self.step % self.sample_every == 0 or self.step == self.last_step):
            self.write_samples()

    def write_scalars(self, logs):
        elapsed = time.perf_counter() - self.window_start
        rate = self.window_steps / elapsed if elapsed > 0 else 0.0
        values = {name: float(value) for name, value in logs.items()}
        self.last_values = values
        if self.metrics_log is not None:
            self.metrics_log.write(self.step, rate, values)
        self.bar.set_postfix({**{k: f"{v:.4g}" for k, v in values.items()}, "steps/s": f"{rate:.2f}"})
        for metric in self.model.metrics:
            metric.reset_state()
        self.window_start = time.perf_counter()
        self.window_steps = 0

    def write_samples(self):
        photos = np.asarray(self.sample_photos, np.float32)
        outputs = np.asarray(self.render(photos), np.float32)
        grid = np.concatenate([photos, outputs], axis=2)  # photo | output, side by side
        grid = np.clip((grid + 1.0) * 127.5, 0, 255).astype(np.uint8)
        with self.writer.as_default(step=self.step):
            tf.summary.image("samples/photo_output", grid, max_outputs=len(grid))

    def on_train_end(self, logs=None):
        self.bar.close()
        self.writer.flush()
        steps = self.step - self.first_step
        seconds = time.perf_counter() - self.run_start
        losses = ", ".join(f"{k} {v:.4g}" for k, v in self.last_values.items())
        logger.info("Trained %d steps in %.1f s (%.2f steps/s, first step included)%s",
                    steps, seconds, steps / seconds,
                    f"; last losses: {losses}" if losses else "")


class CheckpointEvery(keras.callbacks.Callback):
    """Saves the run's `Checkpoints` every `every` steps and at the end (once per step)."""

    def __init__(self, checkpoints, step_variable, every):
        super().__init__()
        self.checkpoints = checkpoints
        self.step_variable = step_variable
        self.every = every
        self.saved_step = None

    def save(self):
        step = int(self.step_variable.numpy())
        if step != self.saved_step:
            self.checkpoints.save(step)
            self.saved_step = step

    def on_train_batch_end(self, batch, logs=None):
        if self.every and int(self.step_variable.numpy()) % self.every == 0:
            self.save()

    def on_train_end(self, logs=None):
        self.save()


class StopWhenAsked(keras.callbacks.Callback):
    """Ends `fit` after the step in which a `StopRequest` was made (Ctrl-C, SIGTERM)."""

    def __init__(self, request):
        super().__init__()
        self.request = request

    def on_train_batch_end(self, batch, logs=None):
        if self.request.requested:
            self.model.stop_training = True
