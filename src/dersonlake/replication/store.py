"""Replication state in SQLite: tasks, per-table statistics, finished load segments, checkpoints.

It is the engine's memory across processes and crashes: a task writes its status and statistics
here while it runs (WAL mode, so ``derson-lake status`` and the API server read them at the same
time), and ``resume-processing`` reads back which segments were already committed to the lake.
Every write is one short transaction.

This module is the file's one owner: it creates the schema (``store_schema``'s migrations,
version in ``PRAGMA user_version``) and holds every query against it as a named method, for the
CDC, handoff and metrics modules and the DMS API's resources alike. Readers in other processes
(``replication.stats``: metrics, ``status``, alerts) use ``read_snapshot``, which opens the file
read-only.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dersonlake.readonly_db import read_only
from dersonlake.replication.store_schema import FILE_KIND, MIGRATIONS, SCHEMA_VERSION
from dersonlake.sqlite_schema import check_not_newer, columns, migrate

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
        try:
            migrate(self._db, self.path, FILE_KIND, MIGRATIONS)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- tasks ---------------------------------------------------------------------------------

    def insert_task(self, row: dict[str, Any]) -> None:
        row = {"created": time.time(), **row}
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._transaction() as db:
            db.execute(f"INSERT INTO tasks ({cols}) VALUES ({marks})", list(row.values()))

    def update_task(self, arn: str, **fields: Any) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._transaction() as db:
            db.execute(f"UPDATE tasks SET {sets} WHERE arn = ?", [*fields.values(), arn])

    def task(self, arn: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM tasks WHERE arn = ? OR identifier = ?", (arn, arn))
        return rows[0] if rows else None

    def tasks(self) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM tasks ORDER BY created")

    def task_named(self, identifier: str) -> sqlite3.Row | None:
        """The task whose identifier is ``identifier``, in any case (DMS identifiers are not)."""
        rows = self._query("SELECT * FROM tasks WHERE lower(identifier) = lower(?)", (identifier,))
        return rows[0] if rows else None

    def has_task(self, arn: str) -> bool:
        """Whether a task has exactly this ARN (an identifier is not an ARN)."""
        return bool(self._query("SELECT arn FROM tasks WHERE arn = ?", (arn,)))

    def delete_task(self, arn: str) -> None:
        with self._transaction() as db:
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
        with self._transaction() as db:
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
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO table_stats (task_arn, schema_name, table_name, state, load_order,"
                " last_update) VALUES (?, ?, ?, 'Table completed', ?, ?)"
                " ON CONFLICT (task_arn, schema_name, table_name) DO NOTHING",
                [(arn, schema, table, order, now) for schema, table, order in tables],
            )

    def set_table(self, arn: str, schema: str, table: str, **fields: Any) -> None:
        fields["last_update"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._transaction() as db:
            db.execute(
                f"UPDATE table_stats SET {sets} WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                [*fields.values(), arn, schema, table],
            )

    def add_table_counts(self, arn: str, schema: str, table: str, **deltas: int) -> None:
        unknown = set(deltas) - set(TABLE_COUNTERS)
        if unknown:
            raise ValueError(f"unknown counters {sorted(unknown)}")
        sets = ", ".join(f"{k} = {k} + ?" for k in deltas)
        with self._transaction() as db:
            db.execute(
                f"UPDATE table_stats SET {sets}, last_update = ? "
                "WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                [*deltas.values(), time.time(), arn, schema, table],
            )

    def table_stats(self, arn: str) -> list[sqlite3.Row]:
        return self._query(
            "SELECT * FROM table_stats WHERE task_arn = ? ORDER BY load_order DESC, schema_name, table_name",
            (arn,),
        )

    # -- load segments (resume) -----------------------------------------------------------------

    def finish_segment(
        self, arn: str, schema: str, table: str, segment: str, rows: int, files: list[str]
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO load_segments VALUES (?, ?, ?, ?, ?, ?, ?)",
                (arn, schema, table, segment, rows, json.dumps(files), time.time()),
            )

    def finished_segments(self, arn: str, schema: str, table: str) -> dict[str, tuple[int, list[str]]]:
        rows = self._query(
            "SELECT segment, rows, files FROM load_segments"
            " WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
            (arn, schema, table),
        )
        return {r["segment"]: (r["rows"], json.loads(r["files"])) for r in rows}

    def clear_segments(self, arn: str, schema: str, table: str) -> None:
        with self._transaction() as db:
            for name in ("load_segments", "load_files"):
                db.execute(
                    f"DELETE FROM {name} WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                    (arn, schema, table),
                )

    def mark_for_reload(self, arn: str, schema: str, table: str) -> None:
        """ReloadTables: the table's segments forgotten, its prep pending again, ``Table is being
        reloaded`` until the reload loads it."""
        with self._transaction() as db:
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
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO load_files VALUES (?, ?, ?, ?, ?)", (arn, schema, table, segment, key)
            )

    def unfinished_files(self, arn: str, schema: str, table: str) -> dict[str, list[str]]:
        """Objects recorded for segments of the table that never finished, by segment."""
        rows = self._query(
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
        with self._transaction() as db:
            db.executemany("DELETE FROM load_files WHERE task_arn = ? AND key = ?", [(arn, k) for k in keys])

    # -- CDC: checkpoint, uncovered files, metrics --------------------------------------------------

    def clear_cdc_checkpoint(self, arn: str) -> None:
        """Drop ``cdc_checkpoint`` from the task's ``extra`` (and its recovery checkpoint) if it has one."""
        with self._transaction() as db:
            row = db.execute("SELECT extra FROM tasks WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                return
            extra = json.loads(row["extra"] or "{}")
            if extra.pop("cdc_checkpoint", None) is not None:
                db.execute(
                    "UPDATE tasks SET recovery_checkpoint = NULL, extra = ? WHERE arn = ?",
                    (json.dumps(extra), arn),
                )

    def save_cdc_checkpoint(
        self,
        arn: str,
        position: str,
        checkpoint: str,
        counts: dict[tuple[str, str], dict[str, int]],
        *,
        in_lake: bool,
    ) -> None:
        """One transaction: the checkpoint (``position`` as text, ``checkpoint`` as JSON) in the task's
        ``extra``, the change counts it covers added to each table's captured and applied counters,
        and the task's uncovered CDC files forgotten (the checkpoint covers them)."""
        now = time.time()
        with self._transaction() as db:
            row = db.execute("SELECT extra FROM tasks WHERE arn = ?", (arn,)).fetchone()
            extra = json.loads(row["extra"] or "{}")
            extra["cdc_checkpoint"] = checkpoint
            if in_lake:
                extra["checkpoint_in_lake"] = True
            db.execute(
                "UPDATE tasks SET recovery_checkpoint = ?, extra = ? WHERE arn = ?",
                (position, json.dumps(extra), arn),
            )
            for (schema, table), c in counts.items():
                unknown = {k for k in c if k not in TABLE_COUNTERS or f"applied_{k}" not in TABLE_COUNTERS}
                if unknown:
                    raise ValueError(f"unknown counters {sorted(unknown)}")
                sets = ", ".join(f"{k} = {k} + ?, applied_{k} = applied_{k} + ?" for k in c)
                values = [v for v in c.values() for _ in (0, 1)]
                db.execute(
                    f"UPDATE table_stats SET {sets}, last_update = ? WHERE task_arn = ? AND schema_name = ?"
                    " AND table_name = ?",
                    [*values, now, arn, schema, table],
                )
            db.execute("DELETE FROM cdc_files WHERE task_arn = ?", (arn,))

    def register_cdc_table(self, arn: str, schema: str, table: str, state: str) -> None:
        """A statistics row in ``state`` for a table CDC captures without a full load (created during
        CDC); an existing row takes the state and loses its error."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO table_stats (task_arn, schema_name, table_name, state, last_update)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_arn, schema_name, table_name) DO UPDATE SET"
                " state = excluded.state, error = NULL",
                (arn, schema, table, state, time.time()),
            )

    def intend_cdc_file(self, arn: str, key: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO cdc_files VALUES (?, ?)", (arn, key))

    def cdc_files(self, arn: str) -> list[str]:
        return [r["key"] for r in self._query("SELECT key FROM cdc_files WHERE task_arn = ?", (arn,))]

    def forget_cdc_files(self, arn: str, keys: list[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM cdc_files WHERE task_arn = ? AND key = ?", [(arn, k) for k in keys])

    def cdc_metrics(self, arn: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM cdc_metrics WHERE task_arn = ?", (arn,))
        return rows[0] if rows else None

    def save_cdc_metrics(
        self,
        arn: str,
        *,
        latency_source: float,
        latency_target: float,
        rows_source: float,
        rows_target: float,
        incoming: int,
        updated: float,
    ) -> None:
        """The task's metrics, and its latencies on ``tasks`` where ``read_snapshot`` reads them."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO cdc_metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                (arn, latency_source, latency_target, rows_source, rows_target, incoming, updated),
            )
            db.execute(
                "UPDATE tasks SET cdc_latency_source = ?, cdc_latency_target = ? WHERE arn = ?",
                (latency_source, latency_target, arn),
            )

    # -- the full-load -> CDC handoff ------------------------------------------------------------

    def define_handoff_table(self, arn: str, schema: str, table: str, definition: str) -> None:
        """The definition (JSON) the full load read ``schema.table`` with, stamped now."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO handoff_tables VALUES (?, ?, ?, ?, ?)",
                (arn, schema, table, definition, time.time()),
            )

    def handoff_tables(self, arn: str) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM handoff_tables WHERE task_arn = ?", (arn,))

    def replace_handoff_marks(
        self,
        arn: str,
        schema: str,
        table: str,
        segment: str,
        marks: list[tuple[str | None, str, int]],
    ) -> None:
        """The segment's chunk marks ``(after as JSON or None, binlog file, position)``, in chunk
        order, instead of any it had."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM handoff_marks WHERE task_arn = ? AND schema_name = ? AND table_name = ?"
                " AND segment = ?",
                (arn, schema, table, segment),
            )
            db.executemany(
                "INSERT INTO handoff_marks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (arn, schema, table, segment, i, after, file, pos)
                    for i, (after, file, pos) in enumerate(marks)
                ],
            )

    def clear_handoff_marks(self, arn: str, schema: str, table: str) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM handoff_marks WHERE task_arn = ? AND schema_name = ? AND table_name = ?",
                (arn, schema, table),
            )

    def handoff_marks(self, arn: str) -> list[sqlite3.Row]:
        return self._query(
            "SELECT * FROM handoff_marks WHERE task_arn = ? ORDER BY schema_name, table_name, segment, chunk",
            (arn,),
        )

    # -- DMS API: endpoints ------------------------------------------------------------------------

    def insert_endpoint(
        self, arn: str, identifier: str, endpoint_type: str, engine: str, params: str
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO endpoints VALUES (?, ?, ?, ?, ?, ?)",
                (arn, identifier, endpoint_type, engine, params, time.time()),
            )

    def endpoint(self, arn: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM endpoints WHERE arn = ?", (arn,))
        return rows[0] if rows else None

    def endpoints(self) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM endpoints ORDER BY created")

    def endpoint_identifier_taken(self, identifier: str, *, other_than: str | None = None) -> bool:
        """Whether an endpoint (other than the one with ARN ``other_than``) has ``identifier``."""
        if other_than is None:
            return bool(self._query("SELECT 1 FROM endpoints WHERE identifier = ?", (identifier,)))
        return bool(
            self._query("SELECT 1 FROM endpoints WHERE identifier = ? AND arn != ?", (identifier, other_than))
        )

    def update_endpoint(
        self, arn: str, identifier: str, endpoint_type: str, engine: str, params: str
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE endpoints SET identifier = ?, endpoint_type = ?, engine_name = ?, params = ? "
                "WHERE arn = ?",
                (identifier, endpoint_type, engine, params, arn),
            )

    def delete_endpoint(self, arn: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM endpoints WHERE arn = ?", (arn,))

    def tasks_using_endpoint(self, arn: str) -> list[str]:
        """Identifiers of the tasks with ``arn`` as source or target endpoint."""
        rows = self._query(
            "SELECT identifier FROM tasks WHERE source_endpoint_arn = ? OR target_endpoint_arn = ?",
            (arn, arn),
        )
        return [r["identifier"] for r in rows]

    # -- DMS API: replication instances --------------------------------------------------------------

    def insert_instance(self, arn: str, identifier: str, status: str, params: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO instances VALUES (?, ?, ?, ?, ?)", (arn, identifier, status, params, time.time())
            )

    def instance(self, arn: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM instances WHERE arn = ?", (arn,))
        return rows[0] if rows else None

    def instances(self) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM instances ORDER BY created")

    def instance_identifier_taken(self, identifier: str) -> bool:
        return bool(self._query("SELECT 1 FROM instances WHERE identifier = ?", (identifier,)))

    def set_instance_status(self, arn: str, status: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE instances SET status = ? WHERE arn = ?", (status, arn))

    def update_instance(self, arn: str, identifier: str, params: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE instances SET params = ?, identifier = ? WHERE arn = ?", (params, identifier, arn)
            )

    def advance_instances(self, *, gone: str, ready: tuple[str, str]) -> None:
        """In one transaction: instances in status ``gone`` deleted, those in ``ready[0]`` moved to
        ``ready[1]``."""
        with self._transaction() as db:
            db.execute("DELETE FROM instances WHERE status = ?", (gone,))
            db.execute("UPDATE instances SET status = ? WHERE status = ?", (ready[1], ready[0]))

    def tasks_on_instance(self, arn: str) -> list[str]:
        """Identifiers of the tasks that run on the instance ``arn``."""
        return [
            r["identifier"]
            for r in self._query("SELECT identifier FROM tasks WHERE instance_arn = ?", (arn,))
        ]

    # -- DMS API: connections ----------------------------------------------------------------------

    def record_connection(
        self, instance_arn: str, endpoint_arn: str, status: str, message: str | None
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO connections VALUES (?, ?, ?, ?, ?)",
                (instance_arn, endpoint_arn, status, message, time.time()),
            )

    def connection(self, instance_arn: str, endpoint_arn: str) -> sqlite3.Row | None:
        rows = self._query(
            "SELECT * FROM connections WHERE instance_arn = ? AND endpoint_arn = ?",
            (instance_arn, endpoint_arn),
        )
        return rows[0] if rows else None

    def connections(self) -> list[sqlite3.Row]:
        return self._query("SELECT * FROM connections ORDER BY tested")

    def forget_connections(self, *, endpoint_arn: str | None = None, instance_arn: str | None = None) -> None:
        """Drop the connections of an endpoint or of an instance (the one given)."""
        with self._transaction() as db:
            if endpoint_arn is not None:
                db.execute("DELETE FROM connections WHERE endpoint_arn = ?", (endpoint_arn,))
            if instance_arn is not None:
                db.execute("DELETE FROM connections WHERE instance_arn = ?", (instance_arn,))

    # -- DMS API: subnet groups --------------------------------------------------------------------

    def insert_subnet_group(self, identifier: str, description: str, subnet_ids: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO subnet_groups VALUES (?, ?, ?, ?)",
                (identifier, description, subnet_ids, time.time()),
            )

    def update_subnet_group(self, identifier: str, description: str | None, subnet_ids: str) -> None:
        """New subnets (JSON) and, unless None, a new description, in one transaction."""
        with self._transaction() as db:
            if description is not None:
                db.execute(
                    "UPDATE subnet_groups SET description = ? WHERE identifier = ?", (description, identifier)
                )
            db.execute(
                "UPDATE subnet_groups SET subnet_ids = ? WHERE identifier = ?", (subnet_ids, identifier)
            )

    def subnet_group(self, identifier: str) -> sqlite3.Row | None:
        rows = self._query("SELECT * FROM subnet_groups WHERE identifier = ?", (identifier,))
        return rows[0] if rows else None

    def subnet_group_names(self) -> list[str]:
        return [r["identifier"] for r in self._query("SELECT identifier FROM subnet_groups ORDER BY created")]

    def delete_subnet_group(self, identifier: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM subnet_groups WHERE identifier = ?", (identifier,))

    # -- DMS API: resource tags --------------------------------------------------------------------

    def put_tags(self, arn: str, tags: list[tuple[str, str]]) -> None:
        """Set ``(key, value)`` tags on ``arn`` in one transaction (a key's earlier value replaced)."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO resource_tags VALUES (?, ?, ?)", [(arn, k, v) for k, v in tags]
            )

    def remove_tags(self, arn: str, keys: list[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM resource_tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys])

    def tags(self, arn: str) -> dict[str, str]:
        rows = self._query("SELECT key, value FROM resource_tags WHERE arn = ? ORDER BY key", (arn,))
        return {r["key"]: r["value"] for r in rows}

    def drop_tags(self, arn: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM resource_tags WHERE arn = ?", (arn,))

    def has_resource(self, arn: str) -> bool:
        """Whether an endpoint, instance or task has ``arn`` (the resources that carry tags)."""
        for table in ("endpoints", "instances", "tasks"):
            if self._query(f"SELECT 1 FROM {table} WHERE arn = ?", (arn,)):
                return True
        return False


# -- readers in other processes --------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The tasks and their table statistics as one read-only look saw them.

    ``task_columns`` are the columns the file's ``tasks`` table has: a file of an older layout that
    no writer has migrated yet may lack the later ones (the CDC latencies).
    """

    tasks: list[sqlite3.Row] = field(default_factory=list)
    tables: dict[str, list[sqlite3.Row]] = field(default_factory=dict)
    task_columns: frozenset[str] = frozenset()


def read_snapshot(path: str | Path) -> Snapshot:
    """Every task (by creation) and its table statistics (by schema, table), read-only: never creates,
    migrates or locks the file. A missing file, or one without tasks yet, is an empty snapshot; a
    file written by a newer derson-lake is refused (``sqlite_schema.StoreTooNew``)."""
    with read_only(Path(path)) as conn:
        if conn is None:
            return Snapshot()
        check_not_newer(conn, path, FILE_KIND, SCHEMA_VERSION)
        have = frozenset(columns(conn, "tasks"))
        if "arn" not in have:
            return Snapshot()
        tasks = conn.execute("SELECT * FROM tasks ORDER BY created").fetchall()
        tables: dict[str, list[sqlite3.Row]] = {}
        for row in conn.execute("SELECT * FROM table_stats ORDER BY schema_name, table_name"):
            tables.setdefault(row["task_arn"], []).append(row)
    return Snapshot(tasks, tables, have)
