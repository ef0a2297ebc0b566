"""Which alerts were sent: one SQLite file (``derson_home()/alerts.sqlite``) shared by processes.

It makes alerts happen once: the watcher in ``serve`` and the one in ``derson-lake run`` see the
same failed execution, and the first to record its key sends it. ``since`` is when alerting
started on this machine: failures older than that are history, not news.

This module is the file's one owner: its schema (``MIGRATIONS``, version in ``PRAGMA
user_version``) and every query. ``derson-lake status`` reads it from another process with
``recent_alerts`` (read-only).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dersonlake.notify.alert import Alert
from dersonlake.readonly_db import read_only
from dersonlake.sqlite_schema import Migration, check_not_newer, migrate, script

FILE_KIND = "alert log"
# Files from before versions were kept (user_version 0) have exactly these tables: IF NOT EXISTS.
MIGRATIONS = [
    Migration(
        1,
        "alerts sent, and meta (when alerting started)",
        script(
            """
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, owner TEXT, subject TEXT NOT NULL,
    payload TEXT NOT NULL, result TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)
"""
        ),
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


class AlertLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        try:
            migrate(self._db, self.path, FILE_KIND, MIGRATIONS)
        except BaseException:
            self._db.close()
            raise
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('since', ?)", (repr(time.time()),))

    @property
    def since(self) -> float:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'since'").fetchone()
        return float(row["value"])

    def claim(self, alert: Alert) -> bool:
        """Record ``alert``; False when its key was recorded before (already sent)."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO alerts (key, ts, kind, owner, subject, payload) VALUES (?,?,?,?,?,?)",
                (alert.key, alert.time, alert.kind, alert.owner, alert.subject, json.dumps(alert.to_json())),
            )
            return cur.rowcount == 1

    def record_result(self, key: str, result: dict[str, str]) -> None:
        with self._lock:
            self._db.execute("UPDATE alerts SET result = ? WHERE key = ?", (json.dumps(result), key))

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(frozen=True)
class SentAlert:
    """An alert as ``status`` lists it."""

    ts: float
    kind: str
    owner: str | None
    subject: str


def recent_alerts(path: str | Path, owner: str | None, limit: int) -> list[SentAlert]:
    """The newest ``limit`` alerts (only ``owner``'s when given), read-only: empty when no alert log
    exists or its table is not there yet; a log from a newer derson-lake is refused."""
    with read_only(Path(path)) as conn:
        if conn is None:
            return []
        check_not_newer(conn, path, FILE_KIND, SCHEMA_VERSION)
        sql, params = "SELECT ts, kind, owner, subject FROM alerts", []
        if owner is not None:
            sql, params = sql + " WHERE owner = ?", [owner]
        try:
            rows = conn.execute(sql + " ORDER BY ts DESC LIMIT ?", [*params, limit]).fetchall()
        except sqlite3.OperationalError:  # being created right now
            return []
    return [SentAlert(r["ts"], r["kind"], r["owner"], r["subject"]) for r in rows]
