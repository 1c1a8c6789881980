"""The package's import graph: subpackages import one way, nothing imports the command line."""

import ast
from pathlib import Path

from helpers import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "cartoonize_tf"
# What each subpackage may import besides itself and `contract`, the exported model's
# contract, which every one may import and which imports nothing (docs/layout.md draws it).
GROUND_FLOOR = "contract"
ALLOWED = {
    GROUND_FLOOR: set(),
    "utils": set(),
    "whitebox": set(),
    "layers": {"whitebox"},
    "models": {"layers"},
    "export": {"models", "whitebox", "utils"},
    "inference": {"export", "models", "whitebox", "utils"},
    "data": {"utils", "whitebox"},
    # whitebox: the JAX trainer's host superpixels; data: both drivers build their data
    "training": {"models", "layers", "whitebox", "utils", "data"},
    "serving": {"utils"},
    "cli": {"utils", "whitebox", "layers", "models", "export", "inference", "data", "training",
            "serving"},
}
# Inside training: a backend-neutral core and one room per backend. The core imports no room
# (but `TRAINING_ENTRY`, which picks this process's); a room does not import the other.
TRAINING_ROOMS = ("tensorflow", "jax")
TRAINING_ENTRY = "cartoonize_tf.training.runs"
# Inside serving: a shared core and one room per front end, composed by serving/server.py. The
# core imports no front end; a front end does not import the other.
SERVING_CORE, SERVING_FRONT_ENDS = "core", ("rest", "grpc")


def module_name(path):
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path):
    """Every `cartoonize_tf` module a file imports, at any depth (function-level included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cartoonize_tf"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("cartoonize_tf"))
    return found


def import_graph():
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {m for m in imported_modules(path) if m in modules and m != name}
            for name, path in modules.items()}


def subpackage(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else None


def test_every_module_sits_in_a_subpackage():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], f"modules outside a subpackage: {loose}"


def test_subpackages_import_only_downstream():
    wrong = []
    for module, imports in import_graph().items():
        source = subpackage(module)
        for target in imports:
            destination = subpackage(target)
            if source and destination and destination != source \
                    and destination not in ALLOWED[source] \
                    and (destination != GROUND_FLOOR or source == GROUND_FLOOR):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_contract_loads_no_tensorflow():
    """Importing every contract module loads neither TensorFlow nor Keras."""
    import subprocess
    import sys

    modules = sorted(m for m in import_graph() if subpackage(m) == GROUND_FLOOR)
    code = (f"import sys; import {', '.join(modules)}; "
            "print(sorted({'tensorflow', 'keras', 'tf_keras'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(PROJECT_ROOT), check=True)
    assert len(modules) > 1 and result.stdout.strip() == "[]"


def training_room(module):
    """"tensorflow" or "jax" for a module in that room of `training`, else None."""
    parts = module.split(".")
    return parts[2] if parts[1:2] == ["training"] and parts[2:3] and parts[2] in TRAINING_ROOMS \
        else None


def test_the_training_core_imports_no_backend_room():
    wrong = []
    for module, imports in import_graph().items():
        if subpackage(module) != "training" or module == TRAINING_ENTRY:
            continue
        wrong += [f"{module} -> {target}" for target in imports
                  if training_room(target) not in (None, training_room(module))]
    assert wrong == []


def serving_room(module):
    """"core", "rest" or "grpc" for a module in that room of `serving`, else None."""
    parts = module.split(".")
    return parts[2] if parts[1:2] == ["serving"] and parts[2:3] and \
        parts[2] in (SERVING_CORE, *SERVING_FRONT_ENDS) else None


def test_the_serving_core_imports_no_front_end_and_front_ends_not_each_other():
    graph = import_graph()
    rooms = {serving_room(module) for module in graph} - {None}
    assert rooms == {SERVING_CORE, *SERVING_FRONT_ENDS}
    wrong = []
    for module, imports in graph.items():
        source = serving_room(module)
        if source is None:
            continue
        wrong += [f"{module} -> {target}" for target in imports
                  if serving_room(target) not in (None, SERVING_CORE, source)]
    assert wrong == []


def test_no_import_cycle():
    graph = import_graph()
    visiting, done, cycles = set(), set(), []

    def visit(module, trail):
        visiting.add(module)
        for target in sorted(graph[module]):
            if target in visiting:
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in done:
                visit(target, trail + [target])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_the_allowed_graph_has_no_cycle_either():
    # A guard on ALLOWED itself: a two-way permission would let a cycle in.
    for source, targets in ALLOWED.items():
        for target in targets:
            assert source not in ALLOWED[target], f"{source} <-> {target}"


def test_help_loads_no_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from cartoonize_tf.cli.main import build_parser; build_parser(); "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(PROJECT_ROOT), check=True)
    assert result.stdout.strip() == "False"


def test_ruff_is_clean():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
