"""Where each live row of a table is: primary key -> (data file, row position), in SQLite.

Position deletes need the file and position of the row a change replaces. Finding them by reading
the key columns of every data file costs the size of the table on every batch; this index makes it
cost the batch: one indexed lookup per changed key.

The index is a cache of one snapshot (``snapshot_id``): it is marked with a snapshot only after
the Iceberg commit it describes, and when it is missing or describes another snapshot (a crash
between the two, a table written by someone else) it is rebuilt from the table itself, so it can
never be the reason for a wrong table, only for a slower batch.

Keys: a single integer column is stored as an SQLite integer; any other key (several columns,
text, decimals, dates, unsigned BIGINT) as the ``repr`` of its Python values, which is the same
for the same Arrow values whichever file they come from.

This module is the index file's one owner: its schema (``MIGRATIONS``, version in ``PRAGMA
user_version``; a file from a newer derson-lake is refused) and every query.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from dersonlake.sqlite_schema import Migration, migrate, script

FILE_KIND = "Iceberg key index"
# Files from before versions were kept (user_version 0) have exactly these tables: IF NOT EXISTS.
MIGRATIONS = [
    Migration(
        1,
        "meta (the snapshot described), files, rows (key -> file, position)",
        script(
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);"
            "CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL);"
            "CREATE TABLE IF NOT EXISTS rows (k PRIMARY KEY, f INTEGER NOT NULL, p INTEGER NOT NULL)"
            " WITHOUT ROWID"
        ),
    ),
]

_SMALL_INTS = (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32())


def key_values(rows: pa.Table, key: Sequence[str]) -> list:
    """One comparable value per row of ``rows`` for its ``key`` columns (see the module doc)."""
    if len(key) == 1 and rows.schema.field(key[0]).type in _SMALL_INTS:
        return rows.column(key[0]).to_pylist()
    columns = [rows.column(k).to_pylist() for k in key]
    return [repr(t) for t in zip(*columns, strict=True)]


_OPEN: dict[Path, KeyIndex] = {}
_OPEN_LOCK = threading.Lock()


class KeyIndex:
    """The key index of one Iceberg table (a file of its own, see the module doc).

    ``KeyIndex.open(path)`` keeps one connection per file for the process: closing an SQLite WAL
    database checkpoints it, which cost as much as the batch's own lookups."""

    @classmethod
    def open(cls, path: Path) -> KeyIndex:
        with _OPEN_LOCK:
            index = _OPEN.get(path)
            if index is None or not path.exists():
                index = _OPEN[path] = cls(path)
            return index

    @classmethod
    def forget(cls, path: Path) -> None:
        """Close and delete the index file (its table was dropped or created anew)."""
        with _OPEN_LOCK:
            index = _OPEN.pop(path, None)
        if index is not None:
            index.db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # a batch's keys are random: its lookups touch pages all over a table-sized B-tree
        self.db.execute("PRAGMA mmap_size=1073741824")
        self.db.execute("PRAGMA cache_size=-131072")
        try:
            migrate(self.db, path, FILE_KIND, MIGRATIONS)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        """Kept open for the next batch (see ``open``)."""

    @property
    def snapshot_id(self) -> int | None:
        """The snapshot the index describes (None: none, it must be rebuilt before use)."""
        row = self.db.execute("SELECT v FROM meta WHERE k = 'snapshot'").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    @contextmanager
    def transaction(self) -> Iterator[KeyIndex]:
        self.db.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def invalidate(self) -> None:
        """Forget which snapshot the index describes (before rewriting it in several steps)."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot', NULL)")

    def clear(self) -> None:
        self.db.execute("DELETE FROM rows")
        self.db.execute("DELETE FROM files")

    def mark(self, snapshot_id: int | None) -> None:
        value = None if snapshot_id is None else str(snapshot_id)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot', ?)", (value,))

    def locate(self, keys: list) -> tuple[list[str], list[int]]:
        """The (file path, position) of the live row of each of ``keys`` that has one."""
        paths = dict(self.db.execute("SELECT id, path FROM files"))
        found = self.db.execute(
            "SELECT f, p FROM rows WHERE k IN (SELECT value FROM json_each(?))", (json.dumps(keys),)
        ).fetchall()
        return [paths[f] for f, _p in found], [p for _f, p in found]

    def remove(self, keys: list) -> None:
        self.db.execute("DELETE FROM rows WHERE k IN (SELECT value FROM json_each(?))", (json.dumps(keys),))

    def add_file(self, path: str, keys: list, deleted: frozenset[int] = frozenset()) -> None:
        """The rows of data file ``path`` (keys in row order), but those at ``deleted`` positions."""
        file_id = self.db.execute("INSERT INTO files (path) VALUES (?)", (path,)).lastrowid
        if deleted:
            keys = [None if p in deleted else k for p, k in enumerate(keys)]
        self.db.execute(  # json_each's key is the array index: the row's position in the file
            "INSERT OR REPLACE INTO rows SELECT value, ?, key FROM json_each(?) WHERE value IS NOT NULL",
            (file_id, json.dumps(keys)),
        )
