"""`MetricsLog`: the losses of a run in `log.jsonl` and in TensorBoard, without TensorFlow."""

import json
import subprocess
import sys

from helpers import summary_tags

from cartoonize_tf.training.jax.checkpoints import JaxRunFolder
from cartoonize_tf.training.metrics import MetricsLog


def test_each_entry_goes_to_the_jsonl_and_to_tensorboard(tmp_path):
    folder = JaxRunFolder(tmp_path)
    metrics = MetricsLog(folder)
    metrics.write(10, 2.5, {"l1": 0.25})
    metrics.write(20, 2.0, {"l1": 0.125})
    lines = [json.loads(line) for line in folder.log.read_text().splitlines()]
    assert lines == [{"step": 10, "steps_per_second": 2.5, "l1": 0.25},
                     {"step": 20, "steps_per_second": 2.0, "l1": 0.125}]
    assert summary_tags(folder.logs) == {"loss/l1", "speed/steps_per_second"}


def test_the_log_is_written_where_tensorflow_cannot_be_imported(tmp_path):
    # TensorBoard uses TensorFlow's file layer when it imports, and its own otherwise.
    code = ("import sys\n"
            "sys.modules['tensorflow'] = None  # any import of it fails\n"
            "from cartoonize_tf.training.jax.checkpoints import JaxRunFolder\n"
            "from cartoonize_tf.training.metrics import MetricsLog\n"
            f"MetricsLog(JaxRunFolder({str(tmp_path)!r})).write(1, 1.0, {{'l1': 0.5}})\n"
            )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"KERAS_BACKEND": "numpy", "PATH": ""}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert any((tmp_path / "logs").iterdir())
