"""Which alerts were sent: one SQLite file (``derson_home()/alerts.sqlite``) shared by processes.

It makes alerts happen once: the watcher in ``serve`` and the one in ``derson-lake run`` see the
same failed execution, and the first to record its key sends it. ``since`` is when alerting
started on this machine: failures older than that are history, not news.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from dersonlake.notify.alert import Alert

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, owner TEXT, subject TEXT NOT NULL,
    payload TEXT NOT NULL, result TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class AlertLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
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
