"""The `>>>` examples in the package's docstrings run and show what they say."""

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cartoonize_tf"


def modules_with_examples():
    """Dotted names of the package's modules whose source holds a `>>>` example."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_examples_are_found():
    assert "cartoonize_tf.inference.cartoonizer" in modules_with_examples()


@pytest.mark.parametrize("name", modules_with_examples())
def test_examples_run(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples name the shipped models from the project folder
    results = doctest.testmod(importlib.import_module(name))
    assert results.attempted > 0, f"{name}: no example ran"
    assert results.failed == 0, f"{name}: {results.failed} examples failed (see the output)"
