"""Replication state in SQLite: tasks, per-table statistics, finished load segments, checkpoints.

It is the engine's memory across processes and crashes: a task writes its status and statistics
here while it runs (WAL mode, so ``derson-lake status`` and the API server read them at the same
time), and ``resume-processing`` reads back which segments were already committed to the lake.
Every write is one short transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    arn TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    owner TEXT,
    migration_type TEXT NOT NULL,
    status TEXT NOT NULL,
    stop_reason TEXT,
    last_failure TEXT,
    table_mappings TEXT NOT NULL,
    settings TEXT NOT NULL,
    source_endpoint_arn TEXT,
    target_endpoint_arn TEXT,
    instance_arn TEXT,
    cdc_start_position TEXT,
    cdc_start_time REAL,
    cdc_stop_position TEXT,
    recovery_checkpoint TEXT,
    created REAL NOT NULL,
    start_date REAL,
    fresh_start_date REAL,
    stop_date REAL,
    full_load_start REAL,
    full_load_finish REAL,
    pid INTEGER,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS table_stats (
    task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    state TEXT NOT NULL,
    load_order INTEGER NOT NULL DEFAULT 0,
    full_load_rows INTEGER NOT NULL DEFAULT 0,
    estimated_rows INTEGER NOT NULL DEFAULT 0,
    inserts INTEGER NOT NULL DEFAULT 0,
    updates INTEGER NOT NULL DEFAULT 0,
    deletes INTEGER NOT NULL DEFAULT 0,
    ddls INTEGER NOT NULL DEFAULT 0,
    applied_inserts INTEGER NOT NULL DEFAULT 0,
    applied_updates INTEGER NOT NULL DEFAULT 0,
    applied_deletes INTEGER NOT NULL DEFAULT 0,
    applied_ddls INTEGER NOT NULL DEFAULT 0,
    truncated_lobs INTEGER NOT NULL DEFAULT 0,
    error_rows INTEGER NOT NULL DEFAULT 0,
    full_load_start REAL,
    full_load_end REAL,
    reloaded INTEGER NOT NULL DEFAULT 0,
    prep_pending INTEGER NOT NULL DEFAULT 0,
    last_update REAL,
    error TEXT,
    PRIMARY KEY (task_arn, schema_name, table_name)
);
CREATE TABLE IF NOT EXISTS load_segments (
    task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    segment TEXT NOT NULL,
    rows INTEGER NOT NULL,
    files TEXT NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (task_arn, schema_name, table_name, segment)
);
CREATE TABLE IF NOT EXISTS load_files (
    task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    segment TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (task_arn, key)
);
CREATE TABLE IF NOT EXISTS endpoints (
    arn TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    endpoint_type TEXT NOT NULL,
    engine_name TEXT NOT NULL,
    params TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
    arn TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    created REAL NOT NULL
);
"""

TABLE_COUNTERS = (
    "full_load_rows",
    "inserts",
    "updates",
    "deletes",
    "ddls",
    "applied_inserts",
    "applied_updates",
    "applied_deletes",
    "applied_ddls",
    "truncated_lobs",
    "error_rows",
)


class ReplicationStore:
    """One SQLite file shared by the tasks of this machine (``derson_home()/replication.sqlite``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store written by an earlier version up to this schema (columns only ever added)."""
        have = {r["name"] for r in self._db.execute("PRAGMA table_info(table_stats)")}
        if "prep_pending" not in have:
            self._db.execute("ALTER TABLE table_stats ADD COLUMN prep_pending INTEGER NOT NULL DEFAULT 0")
        tasks = {r["name"] for r in self._db.execute("PRAGMA table_info(tasks)")}
        for column in ("cdc_latency_source", "cdc_latency_target"):  # CDC metrics (cdc_metrics.py)
            if column not in tasks:
                self._db.execute(f"ALTER TABLE tasks ADD COLUMN {column} REAL")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- tasks ---------------------------------------------------------------------------------

    def insert_task(self, row: dict[str, Any]) -> None:
        row = {"created": time.time(), **row}
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.transaction() as db:
            db.execute(f"INSERT INTO tasks ({cols}) VALUES ({marks})", list(row.values()))

    def update_task(self, arn: str, **fields: Any) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(f"UPDATE tasks SET {sets} WHERE arn = ?", [*fields.values(), arn])

    def task(self, arn: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM tasks WHERE arn = ? OR identifier = ?", (arn, arn))
        return rows[0] if rows else None

    def tasks(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM tasks ORDER BY created")

    def delete_task(self, arn: str) -> None:
        with self.transaction() as db:
            for table in ("load_segments", "load_files", "table_stats"):
                db.execute(f"DELETE FROM {table} WHERE task_arn = ?", (arn,))
            db.execute("DELETE FROM tasks WHERE arn = ?", (arn,))

    # -- table statistics -------------------------------------------------------------------------

    def reset_tables(self, arn: str, tables: list[tuple[str, str, int, int]], *, keep_finished: bool) -> None:
        """Register the plan's tables (schema, table, load order, estimated rows) as ``Before load``.

        ``keep_finished`` (resume) keeps completed tables and the segments already committed. A fresh
        start forgets the earlier run's files in the same transaction that marks every table
        ``prep_pending``: until the table's prep (TargetTablePrepMode) has removed those files, a
        resume knows it must do that first.
        """
        now = time.time()
        with self.transaction() as db:
            if not keep_finished:
                db.execute("DELETE FROM load_segments WHERE task_arn = ?", (arn,))
                db.execute("DELETE FROM load_files WHERE task_arn = ?", (arn,))
                db.execute("DELETE FROM table_stats WHERE task_arn = ?", (arn,))
            for schema, table, order, estimate in tables:
                db.execute(
                    "INSERT INTO table_stats (task_arn, schema_name, table_name, state, load_order,"
                    " estimated_rows, last_update, prep_pending) VALUES (?, ?, ?, 'Before load', ?, ?, ?, 1)"
                    " ON CONFLICT (task_arn, schema_name, table_name) DO UPDATE SET"
                    " load_order = excluded.load_order, estimated_rows = excluded.estimated_rows,"
                    " state = CASE WHEN table_stats.state = 'Table completed' THEN table_stats.state"
                    " ELSE 'Before load' END, error = CASE WHEN table_stats.state = 'Table completed'"
                    " THEN table_stats.error ELSE NULL END",
                    (arn, schema, table, order, estimate, now),
                )

    def register_cdc_tables(self, arn: str, tables: list[tuple[str, str, int]]) -> None:
        """The tables of a ``cdc`` task (no full load): ``Table completed`` from the start, as DMS
        lists them, so their change counters have a row to add to."""
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO table_stats (task_arn, schema_name, table_name, state, load_order,"
                " last_update) VALUES (?, ?, ?, 'Table completed', ?, ?)"
                " ON CONFLICT (task_arn, schema_name, table_name) DO NOTHING",
                [(arn, schema, table, order, now) for schema, table, order in tables],
            )

    def set_table(self, arn: str, schema: str, table: str, **fields: Any) -> None:
        fields["last_update"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(
                f"UPDATE table_stats SET {sets} WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                [*fields.values(), arn, schema, table],
            )

    def add_table_counts(self, arn: str, schema: str, table: str, **deltas: int) -> None:
        unknown = set(deltas) - set(TABLE_COUNTERS)
        if unknown:
            raise ValueError(f"unknown counters {sorted(unknown)}")
        sets = ", ".join(f"{k} = {k} + ?" for k in deltas)
        with self.transaction() as db:
            db.execute(
                f"UPDATE table_stats SET {sets}, last_update = ? "
                "WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                [*deltas.values(), time.time(), arn, schema, table],
            )

    def table_stats(self, arn: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT * FROM table_stats WHERE task_arn = ? ORDER BY load_order DESC, schema_name, table_name",
            (arn,),
        )

    # -- load segments (resume) -----------------------------------------------------------------

    def finish_segment(
        self, arn: str, schema: str, table: str, segment: str, rows: int, files: list[str]
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO load_segments VALUES (?, ?, ?, ?, ?, ?, ?)",
                (arn, schema, table, segment, rows, json.dumps(files), time.time()),
            )

    def finished_segments(self, arn: str, schema: str, table: str) -> dict[str, tuple[int, list[str]]]:
        rows = self.query(
            "SELECT segment, rows, files FROM load_segments"
            " WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
            (arn, schema, table),
        )
        return {r["segment"]: (r["rows"], json.loads(r["files"])) for r in rows}

    def clear_segments(self, arn: str, schema: str, table: str) -> None:
        with self.transaction() as db:
            for name in ("load_segments", "load_files"):
                db.execute(
                    f"DELETE FROM {name} WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                    (arn, schema, table),
                )

    def mark_for_reload(self, arn: str, schema: str, table: str) -> None:
        """ReloadTables: the table's segments forgotten, its prep pending again, ``Table is being
        reloaded`` until the reload loads it."""
        with self.transaction() as db:
            for name in ("load_segments", "load_files"):
                db.execute(
                    f"DELETE FROM {name} WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                    (arn, schema, table),
                )
            db.execute(
                "UPDATE table_stats SET state = 'Table is being reloaded', prep_pending = 1,"
                " full_load_rows = 0, reloaded = 0, last_update = ?"
                " WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                (time.time(), arn, schema, table),
            )

    def intend_file(self, arn: str, schema: str, table: str, segment: str, key: str) -> None:
        """Record ``key`` *before* it is committed, so a resume after a crash at any instant knows
        every object the unfinished segment may have left in the lake."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO load_files VALUES (?, ?, ?, ?, ?)", (arn, schema, table, segment, key)
            )

    def unfinished_files(self, arn: str, schema: str, table: str) -> dict[str, list[str]]:
        """Objects recorded for segments of the table that never finished, by segment."""
        rows = self.query(
            "SELECT f.segment, f.key FROM load_files f WHERE f.task_arn = ? AND f.schema_name = ?"
            " AND f.table_name = ? AND NOT EXISTS (SELECT 1 FROM load_segments s"
            " WHERE s.task_arn = f.task_arn AND s.schema_name = f.schema_name"
            " AND s.table_name = f.table_name AND s.segment = f.segment)"
            " ORDER BY f.key",
            (arn, schema, table),
        )
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r["segment"], []).append(r["key"])
        return out

    def forget_files(self, arn: str, keys: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM load_files WHERE task_arn = ? AND key = ?", [(arn, k) for k in keys])
