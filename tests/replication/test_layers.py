"""``cli/`` and ``api/`` hold no task logic: they use the replication layer only through its
surface (``dersonlake.replication`` and its ``status`` names), so what a task does can only live
in ``replication/``. Parsed from the source (every ``import``, at any depth), so a lazy import
inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

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
