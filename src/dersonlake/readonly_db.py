"""Read-only access to another process's SQLite store (metrics, status, dashboards).

A reader must never create, migrate or lock a store it only looks at: ``mode=ro`` fails instead of
creating a missing file, and WAL lets it read while the writer works.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to ``path`` (rows as ``sqlite3.Row``), or None when there is no such file."""
    if not path.exists():
        yield None
        return
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()
