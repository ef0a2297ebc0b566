"""Schema versions of the SQLite files: ``PRAGMA user_version`` and ordered migrations.

Each SQLite file has one owner module that holds its DDL as a list of ``Migration``; the file's
``user_version`` says how many of them it has had. Opening a file runs the missing ones, each in
its own ``BEGIN IMMEDIATE`` transaction with the version bump, so a crash leaves the file at a
known version and two processes opening it at once migrate it once (the second sees the version
the first committed).

Files written before versions were kept have ``user_version`` 0 but may hold any of the tables
and columns the released code created lazily, so every migration is idempotent (``IF NOT
EXISTS``, ``add_column`` checks the column first): an old file and a new one end in the same
layout, without losing a row. A file whose version is newer than the code knows was written by a
newer derson-lake: it is refused (``StoreTooNew``), never read or written by guesswork.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dersonlake import __version__
from dersonlake.errors import OperationFailed


@dataclass(frozen=True)
class Migration:
    """The step from ``version - 1`` to ``version``: ``apply`` runs inside the step's transaction."""

    version: int
    what: str
    apply: Callable[[sqlite3.Connection], None]


class StoreTooNew(OperationFailed):
    """The file was written by a newer derson-lake (its schema version is unknown here)."""


def script(sql: str) -> Callable[[sqlite3.Connection], None]:
    """A migration that runs the ``;``-separated statements of ``sql`` (no ``;`` inside one).

    ``executescript`` would commit the step's transaction first, so each statement runs alone.
    """

    def apply(conn: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)

    return apply


def add_column(table: str, column: str, declaration: str) -> Callable[[sqlite3.Connection], None]:
    """A migration adding ``column`` to ``table`` unless a file written before versions has it."""

    def apply(conn: sqlite3.Connection) -> None:
        if column not in columns(conn, table):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    return apply


def steps(*parts: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    """Several migration parts as one step."""

    def apply(conn: sqlite3.Connection) -> None:
        for part in parts:
            part(conn)

    return apply


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The column names of ``table`` (empty when there is no such table)."""
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_newer(conn: sqlite3.Connection, path: str | Path, kind: str, current: int) -> int:
    """The file's schema version; ``StoreTooNew`` naming the file when it is newer than ``current``."""
    version = user_version(conn)
    if version > current:
        raise StoreTooNew(
            f"{path} was written by a newer derson-lake ({kind} schema version {version}; "
            f"derson-lake {__version__} knows versions up to {current}): upgrade derson-lake to "
            "open it, or move the file away to start afresh"
        )
    return version


def migrate(conn: sqlite3.Connection, path: str | Path, kind: str, migrations: Sequence[Migration]) -> int:
    """Bring the file of ``conn`` (autocommit mode) to the last of ``migrations``; its version.

    ``migrations`` are numbered 1, 2, ... in order. ``kind`` names the store in the error for a
    file newer than this code.
    """
    current = len(migrations)
    for i, m in enumerate(migrations, 1):
        if m.version != i:
            raise ValueError(
                f"{kind} migrations must be numbered 1..{current} in order; {m.version} is {i}th"
            )
    if check_not_newer(conn, path, kind, current) == current:
        return current
    for m in migrations:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have migrated meanwhile.
            if check_not_newer(conn, path, kind, current) < m.version:
                m.apply(conn)
                conn.execute(f"PRAGMA user_version = {m.version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return current
