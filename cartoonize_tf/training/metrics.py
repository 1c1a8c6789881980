"""A run's losses as both backends report them: `log.jsonl` and TensorBoard scalars."""

import json


class MetricsLog:
    """A run's losses, one entry per logging interval, on both backends: a line of `log.jsonl`
    (the step, the speed and each loss's mean) and TensorBoard scalars (`loss/<name>`,
    `speed/steps_per_second`) in `logs/`, through TensorBoard's own writer, which works
    without TensorFlow."""

    def __init__(self, folder):
        from tensorboard.summary import Writer

        self.path = folder.log
        self.writer = Writer(str(folder.logs))

    def write(self, step, steps_per_second, values):
        with open(self.path, "a") as file:
            file.write(json.dumps({"step": step, "steps_per_second": steps_per_second, **values})
                       + "\n")
        for name, value in values.items():
            self.writer.add_scalar(f"loss/{name}", value, step)
        self.writer.add_scalar("speed/steps_per_second", steps_per_second, step)
        self.writer.flush()
