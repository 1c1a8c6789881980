"""The body of a training run, written once for both backends.

A backend's driver runs the steps (JAX: a plain loop; TensorFlow: `model.fit`
through one thin callback) and hands each step's losses to a `RunLoop`, which
does everything else: the progress bar, the losses in `MetricsLog`, the sample
grids, the checkpoint cadence, Ctrl-C and SIGTERM, and the final save with its
one error message.
"""

import logging
import time

import numpy as np
from tqdm import tqdm

from cartoonize_tf.training.metrics import MetricsLog
from cartoonize_tf.training.options import RunError
from cartoonize_tf.training.stopping import StopRequest
from cartoonize_tf.utils.files import atomic_output

logger = logging.getLogger(__name__)


class LossWindow:
    """Each step's losses since the last log line, for steps that return one value each (JAX).

    The values may stay on the device until `take_means` reads them, so a
    step never waits for the one before it.
    """

    def __init__(self):
        self.results = []

    def add(self, results):
        self.results.append(results)

    def take_means(self):
        """Each loss's mean over the window, which is then emptied."""
        results, self.results = self.results, []
        return {name: float(np.mean([float(r[name]) for r in results])) for name in results[0]}


class RunLoop:
    """What happens around the steps of a run, on either backend.

    `with RunLoop(...) as loop:` restores the checkpoint with `--resume` (then
    `loop.step` is its step) and catches Ctrl-C and SIGTERM; the driver trains
    while not `loop.done`, calls `loop.after_step(losses)` after each step, then
    `loop.finish(save_generator)`.

    Args:
        settings: the run's `RunSettings` (steps, resume and the three cadences).
        folder: the run's `RunFolder`.
        checkpoints: the run's `Checkpoints`.
        losses: where each step's losses go until a log line takes their means:
            a `LossWindow`, or anything with the same `add` and `take_means`.
        samples: a `SampleGrids`, or None for no sample images.
    """

    def __init__(self, settings, *, folder, checkpoints, losses, samples=None):
        self.settings = settings
        self.folder = folder
        self.checkpoints = checkpoints
        self.losses = losses
        self.samples = samples
        self.log_every = max(1, settings.log_every)
        self.step = self.saved_step = 0
        self.last_losses = {}

    def __enter__(self):
        if self.settings.resume:
            self.step = self.saved_step = self.checkpoints.restore()
            logger.info("Resumed at step %d from %s", self.step, self.checkpoints.latest())
        if self.step >= self.settings.steps:
            logger.info("Already at step %d of %d: nothing to train.", self.step,
                        self.settings.steps)
        self.first_step = self.step
        self.metrics = MetricsLog(self.folder)
        self.stop = StopRequest().__enter__()
        self.bar = tqdm(total=self.settings.steps, initial=self.step, unit="step",
                        dynamic_ncols=True, disable=not self.settings.progress)
        self.run_start = self.window_start = time.perf_counter()
        self.window_steps = 0
        return self

    def __exit__(self, *exc_info):
        self.bar.close()
        self.stop.__exit__(*exc_info)

    @property
    def done(self):
        """Whether the run is at its last step, or was asked to stop (Ctrl-C, SIGTERM)."""
        return self.step >= self.settings.steps or self.stop.requested

    def after_step(self, losses):
        """Counts a step and hands on its `losses`; writes the log line, the samples and the
        checkpoint when they are due. Returns whether the run should stop here."""
        settings = self.settings
        self.step += 1
        self.window_steps += 1
        self.bar.update(1)
        self.losses.add(losses)
        last = self.step == settings.steps
        if self.step % self.log_every == 0 or last:
            self.write_losses()
        if self.samples is not None and settings.sample_every and (
                self.step % settings.sample_every == 0 or last):
            self.samples.write(self.step)
        if settings.save_every and self.step % settings.save_every == 0:
            self.save_checkpoint()
        return self.done

    def write_losses(self):
        elapsed = time.perf_counter() - self.window_start
        rate = self.window_steps / elapsed if elapsed > 0 else 0.0
        self.last_losses = self.losses.take_means()
        try:
            self.metrics.write(self.step, rate, self.last_losses)
        except OSError as error:
            raise RunError(f"cannot write {self.folder.log}: {error}") from None
        self.bar.set_postfix({**{name: f"{value:.4g}" for name, value in self.last_losses.items()},
                              "steps/s": f"{rate:.2f}"})
        self.window_start = time.perf_counter()
        self.window_steps = 0

    def save_checkpoint(self):
        """Saves the step reached, once (a `RunError` when the disk refuses)."""
        if self.step != self.saved_step:
            self.checkpoints.save(self.step)
            self.saved_step = self.step

    def finish(self, save_generator=None):
        """Ends the run at the step reached; returns that step.

        Writes the losses since the last log line and the checkpoint of the step,
        then, given `save_generator` (a function writing the generator to a path;
        None on a worker that does not write the run), `generator.keras`. A
        generator that cannot be written is a `RunError` saying the checkpoint is
        intact.
        """
        if self.window_steps:
            self.write_losses()
        self.save_checkpoint()
        self.bar.close()
        self.report()
        if save_generator is not None:
            try:
                with atomic_output(self.folder.generator) as temporary:
                    save_generator(temporary)
            except OSError as error:
                raise RunError(f"could not save {self.folder.generator} ({error}); the checkpoint "
                               f"of step {self.step} is intact: free space and run again with "
                               "--resume") from None
        return self.step

    def report(self):
        steps = self.step - self.first_step
        if not steps:
            return
        seconds = time.perf_counter() - self.run_start
        losses = ", ".join(f"{name} {value:.4g}" for name, value in self.last_losses.items())
        logger.info("Trained %d steps in %.1f s (%.2f steps/s, first step included)%s",
                    steps, seconds, steps / seconds, f"; last losses: {losses}" if losses else "")
