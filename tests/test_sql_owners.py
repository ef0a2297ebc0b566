"""Each SQLite file's SQL lives in its owner module only (issue #12): no other module writes SQL.

The scan reads every module of ``src/dersonlake`` with ``ast`` and looks for string literals that
are SQL statements (``SELECT ... FROM``, ``INSERT INTO``, ``UPDATE x SET``, ``DELETE FROM``,
``CREATE/ALTER/DROP TABLE|INDEX|VIEW``; docstrings and bare keywords such as a change's
``"INSERT"`` operation are not statements). A statement in a module not listed below fails the
test: add a named method to the file's owner instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import dersonlake

SRC = Path(dersonlake.__file__).parent

# The owner of each SQLite file: its schema (migrations) and every query against it.
SQLITE_OWNERS = {
    "replication/store.py": "replication.sqlite",
    "replication/store_schema.py": "replication.sqlite (its migrations' DDL)",
    "states/store.py": "the Step Functions store",
    "states/store_schema.py": "the Step Functions store (its migrations' DDL)",
    "scheduler/store.py": "schedule.sqlite",
    "notify/history.py": "alerts.sqlite",
    "sqlite_schema.py": "no file: the shared migration runner (PRAGMA user_version, ALTER TABLE ADD COLUMN)",
}

# SQL that is not against a SQLite file of ours, each with why it is where it is.
NOT_OUR_SQLITE = {
    # An in-memory SQLite database that evaluates DMS transformation expressions: no file, no
    # schema to own; the SQL is the user's expression wrapped in SELECT.
    "mapping/expressions.py": "in-memory SQLite for expression evaluation",
    # The source side: queries against the user's MySQL/MariaDB server.
    "mapping/plan.py": "the full-load SELECT against the MySQL source",
    "sources/mysql/binlog_client.py": "MySQL source: server version and binlog checksum",
    "sources/mysql/catalog.py": "MySQL source: information_schema",
    "sources/mysql/connection.py": "MySQL source: TestConnection's SELECT 1",
    "sources/mysql/preflight.py": "MySQL source: readiness checks",
    "sources/mysql/snapshot.py": "MySQL source: chunked full-load reads",
    "api/dashboard/lake_iceberg.py": "MySQL source: row counts shown beside the lake's",
    # The sandbox: a private MariaDB server the demo and the tests fill.
    "sandbox/seed.py": "MariaDB sandbox: the demo schema and its rows",
    "sandbox/server.py": "MariaDB sandbox: server version and accounts",
    "cli/demo_cmd.py": "MariaDB sandbox: the demo's changes and row counts",
}

STATEMENT = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|\bSELECT\s+(?:\d|\?|\(|VERSION\(|CURRENT_USER\()"
    r"|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b"
    r"|\bREPLACE\s+INTO\b"
    r"|\bUPDATE\s+[\w.`\"]+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|ALTER|DROP)\s+(?:TEMP\w*\s+)?(?:TABLE|INDEX|VIEW)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?[A-Za-z_`\"]"
)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with each ``{...}`` as ``x`` (a name, a column list)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
    return None


def sql_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every SQL statement literal in the module (f-strings as a whole)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip |= {id(v) for v in node.values}
    found = []
    for node in ast.walk(tree):
        text = None if id(node) in skip else _text(node)
        if text is not None and STATEMENT.search(text):
            found.append((node.lineno, text))
    return found


def test_sql_lives_only_in_the_owner_modules():
    allowed = SQLITE_OWNERS.keys() | NOT_OUR_SQLITE.keys()
    stray = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name in allowed:
            continue
        stray += [f"{name}:{line}: {text.strip()[:80]!r}" for line, text in sql_literals(path)]
    assert not stray, "SQL outside its owner module (add a named method to the owner):\n" + "\n".join(stray)


def test_the_allowed_modules_exist_and_hold_sql():
    """A stale entry would let a new module of that name in unchecked."""
    for name in SQLITE_OWNERS.keys() | NOT_OUR_SQLITE.keys():
        path = SRC / name
        assert path.is_file(), name
        assert sql_literals(path), f"{name} holds no SQL any more: drop it from the list"


def test_only_owners_open_sqlite_files():
    """``sqlite3.connect`` only in the owners, the read-only opener and the in-memory evaluator."""
    openers = {*SQLITE_OWNERS, "readonly_db.py", "mapping/expressions.py"}
    stray = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name not in openers and "sqlite3.connect" in path.read_text():
            stray.append(name)
    assert not stray, f"modules opening SQLite files of their own: {stray}"


def test_the_scan_finds_sql_it_must(tmp_path):
    """The detector itself: statements found, bare keywords and docstrings not."""
    module = tmp_path / "m.py"
    module.write_text(
        '"""A docstring that says SELECT x FROM y is fine."""\n'
        'OPS = ("INSERT", "UPDATE", "DELETE", "DROP TABLE")\n'
        'a = "SELECT * FROM tasks WHERE arn = ?"\n'
        'b = "INSERT OR REPLACE INTO t VALUES (?)"\n'
        'c = f"UPDATE tasks SET {sets} WHERE arn = ?"\n'
        'd = f"DELETE FROM {table} WHERE x = ?"\n'
        'e = "CREATE TABLE IF NOT EXISTS t (a)"\n'
        'f = f"ALTER TABLE {t} ADD COLUMN c"\n'
    )
    assert sorted(line for line, _ in sql_literals(module)) == [3, 4, 5, 6, 7, 8]
