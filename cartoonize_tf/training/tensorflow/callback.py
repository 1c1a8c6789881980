"""The one Keras callback of a TensorFlow run: it hands each step of `fit` to the `RunLoop`."""

import keras


class KerasMetrics:
    """The losses of `fit`'s logs for the `RunLoop`: Keras's metrics already average them
    since their last reset, so the means are the latest logs, then the metrics are reset."""

    def __init__(self, model):
        self.model = model
        self.logs = {}

    def add(self, logs):
        self.logs = logs

    def take_means(self):
        means = {name: float(value) for name, value in self.logs.items()}
        for metric in self.model.metrics:
            metric.reset_state()
        return means


class LoopCallback(keras.callbacks.Callback):
    """Calls `loop.after_step` after each batch of `fit`, and ends `fit` when it says stop, so
    `fit`, XLA and distribution strategies stay while the loop body is the JAX run's."""

    def __init__(self, loop):
        super().__init__()
        self.loop = loop

    def on_train_batch_end(self, batch, logs=None):
        if self.loop.after_step(logs or {}):
            self.model.stop_training = True
