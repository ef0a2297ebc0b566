"""``cli/`` and ``api/`` hold no task logic: they use the replication layer only through its
surface (``dersonlake.replication`` and its ``status`` names), so what a task does can only live
in ``replication/``. Parsed from the source (every ``import``, at any depth), so a lazy import
inside a function counts too.

The same holds for every layer (``test_every_layer_is_used_only_through_its_surface``): other layers
import ``dersonlake.<layer>`` and the names in its ``__all__``, or one of ``SURFACE_SUBMODULES``;
tests may reach inside."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dersonlake.replication as replication

SRC = Path(__file__).resolve().parents[2] / "src" / "dersonlake"
ALLOWED = {"dersonlake.replication", "dersonlake.replication.status"}


def _replication_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [
                f"{node.module}.{a.name}" for a in node.names if node.module == "dersonlake"
            ]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.startswith("dersonlake.replication")]
    return found


def test_cli_and_api_import_only_the_replication_surface():
    reaching = [
        f"{path.relative_to(SRC)}:{line}: {name}"
        for package in ("cli", "api")
        for path in sorted((SRC / package).rglob("*.py"))
        for line, name in _replication_imports(path)
        if name not in ALLOWED
    ]
    assert not reaching, "cli/ and api/ reach into replication internals:\n" + "\n".join(reaching)


def test_the_replication_surface_names_the_task_runner():
    for name in ("ReplicationTask", "StartRequest", "TaskResources", "CommitHook", "owner_task", "api_task"):
        assert name in replication.__all__ and hasattr(replication, name), name


def test_the_old_runners_are_gone():
    for gone in ("cdc_runner.py",):
        assert not (SRC / "replication" / gone).exists()
    assert not (SRC / "cli" / "cdc_task.py").exists()
    assert "def run_task" not in (SRC / "replication" / "task.py").read_text()


def test_replication_does_not_know_the_sandbox():
    """The private MariaDB is the CLI's and serve's: they pass ``sandbox_params`` to the owner's
    task; replication itself never imports it (a sandbox owner without it fails clearly)."""
    reaching = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in sorted((SRC / "replication").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom | ast.Import)
        and any(
            name.startswith("dersonlake.sandbox")
            for name in (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            )
        )
    ]
    assert not reaching, "replication/ imports the sandbox:\n" + "\n".join(reaching)


# --- Every layer: other layers import only its surface ---------------------------------------

LAYERS = (
    "api",
    "cli",
    "config",
    "cron",
    "intake",
    "lake",
    "mapping",
    "notify",
    "replication",
    "sandbox",
    "scheduler",
    "sources",
    "states",
)

# Submodules other layers may import besides ``dersonlake.<layer>``, each with the reason.
SURFACE_SUBMODULES = {
    # DMS's statuses, stop reasons and describe views: a namespace of constants used as
    # ``status.RUNNING``; re-exported as ``replication.status`` too.
    "dersonlake.replication.status": "a namespace of DMS constants and views",
    # The function ``current_state`` shares its module's name: once a test (or anything) imports
    # the submodule, the package attribute is the module, shadowing a lazy re-export of the function.
    "dersonlake.lake.current_state": "name clash: function current_state in module current_state",
    # The sample schema: its function ``seed`` shares the module's name, and
    # ``from dersonlake.sandbox import seed`` already means the module (tests use it so).
    "dersonlake.sandbox.seed": "name clash: function seed in module seed",
}


def _surface(layer: str) -> set[str]:
    """The names in ``dersonlake.<layer>.__all__``, read from the source (no import)."""
    tree = ast.parse((SRC / layer / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def _module_of(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def cross_layer_violations(source: str, path: Path) -> list[str]:
    """Imports in ``source`` (the file ``path`` under ``src/dersonlake``) that reach below another
    layer's surface: a module deeper than ``dersonlake.<layer>`` (other than ``SURFACE_SUBMODULES``),
    or a name from ``dersonlake.<layer>`` that is not in its ``__all__``."""
    rel = path.relative_to(SRC).parts
    if len(rel) < 2:
        return []  # a shared top-level module (errors.py, logs.py, ...), not a layer
    own = rel[0]
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        imported: list[tuple[str, str | None]] = []  # (module, name imported from it)
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            if module == "dersonlake":
                imported = [(f"dersonlake.{a.name}", None) for a in node.names]
            else:
                imported = [(module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            imported = [(a.name, None) for a in node.names]
        for module, name in imported:
            parts = module.split(".")
            if parts[0] != "dersonlake" or len(parts) < 2 or parts[1] not in LAYERS or parts[1] == own:
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            if len(parts) > 2:
                if module not in SURFACE_SUBMODULES:
                    found.append(f"{where}: {module} (import from dersonlake.{parts[1]})")
            elif name is not None and name != "*" and name not in _surface(parts[1]):
                found.append(f"{where}: {name} is not in dersonlake.{parts[1]}.__all__")
    return found


def test_every_layer_is_used_only_through_its_surface():
    reaching = [
        violation
        for path in sorted(SRC.rglob("*.py"))
        for violation in cross_layer_violations(path.read_text(), path)
    ]
    assert not reaching, "imports reach below another layer's surface:\n" + "\n".join(reaching)


def test_the_surface_check_catches_a_reach_inside():
    path = SRC / "replication" / "cdc.py"
    assert cross_layer_violations("from dersonlake.lake.storage import Storage\n", path)
    assert cross_layer_violations("def f():\n    import dersonlake.sources.mysql.connection\n", path)
    assert cross_layer_violations("from dersonlake.lake import storage\n", path)
    assert cross_layer_violations("from dersonlake.sources import mysql\n", path)
    assert not cross_layer_violations("from dersonlake.lake import Storage, layout\n", path)
    assert not cross_layer_violations("from dersonlake.replication.store import ReplicationStore\n", path)
    assert not cross_layer_violations(
        "from dersonlake.replication.status import RUNNING\n", SRC / "cli" / "x.py"
    )


def test_the_surface_submodules_exist():
    for module in SURFACE_SUBMODULES:
        assert (SRC.parent / (module.replace(".", "/") + ".py")).exists(), module


@pytest.mark.parametrize("layer", LAYERS)
def test_every_name_of_a_surface_exists(layer):
    package = importlib.import_module(f"dersonlake.{layer}")
    assert package.__doc__, layer
    names = getattr(package, "__all__", [])
    assert set(names) == _surface(layer), "__all__ is read from the source as one literal list"
    assert set(names) <= set(dir(package)), f"dir(dersonlake.{layer}) lacks {set(names) - set(dir(package))}"
    missing = [name for name in names if not hasattr(package, name)]
    assert not missing, f"dersonlake.{layer}.__all__ names what it lacks: {missing}"


def _modules_after(statement: str) -> list[str]:
    probe = (
        f"import sys\n{statement}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyiceberg', 'pyarrow', 'boto3', 'moto'}))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip())


@pytest.mark.parametrize("module", ["dersonlake.lake", "dersonlake.sources"])
def test_the_lake_and_sources_surfaces_load_no_heavy_modules(module):
    """Their names that need pyarrow/pyiceberg (or pymysql) load on first use, not with the package."""
    assert _modules_after(f"import {module}") == []


def test_the_command_line_starts_without_the_heavy_modules():
    assert _modules_after("import dersonlake.cli.main") == []
