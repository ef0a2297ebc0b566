"""A read-only snapshot of the replication store, for monitoring: metrics, ``status``, alerts.

It reads each snapshot with ``replication.store.read_snapshot`` (the file opened read-only)
instead of sharing a ``ReplicationStore``: the store is written by other processes (``derson-lake
load``, ``stream``, the server's DMS worker), and a reader that never writes can neither block them
nor create or migrate a store that is not its own. A missing file is an empty snapshot.

CDC latency (``CDCLatencySource`` / ``CDCLatencyTarget``, dms.md §5.6) is read from the ``tasks``
columns ``cdc_latency_source`` / ``cdc_latency_target`` (seconds) when the store has them; a
store without them reports no latency rather than a guessed one.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from dersonlake.processes import pid_alive
from dersonlake.replication import status
from dersonlake.replication.store import read_snapshot

LATENCY_COLUMNS = ("cdc_latency_source", "cdc_latency_target")


@dataclass(frozen=True)
class TableStat:
    """One row of ``table_stats`` with the names DescribeTableStatistics uses, in snake case."""

    schema: str
    table: str
    state: str
    full_load_rows: int
    error_rows: int
    inserts: int
    updates: int
    deletes: int
    ddls: int
    applied_inserts: int
    applied_updates: int
    applied_deletes: int
    applied_ddls: int
    full_load_start: float | None
    full_load_end: float | None
    last_update: float | None
    error: str | None

    @property
    def captured(self) -> int:
        """Changes read from the source (CDCThroughputRowsSource's rows)."""
        return self.inserts + self.updates + self.deletes + self.ddls

    @property
    def applied(self) -> int:
        """Changes written to the target (CDCThroughputRowsTarget's rows)."""
        return self.applied_inserts + self.applied_updates + self.applied_deletes + self.applied_ddls

    @property
    def suspended(self) -> bool:
        return self.state == status.TABLE_ERROR


@dataclass(frozen=True)
class TaskStat:
    """A replication task as monitoring sees it; ``status`` already accounts for a dead process."""

    arn: str
    identifier: str
    owner: str
    migration_type: str
    status: str
    stop_reason: str | None
    last_failure: str | None
    start_date: float | None
    stop_date: float | None
    full_load_start: float | None
    full_load_finish: float | None
    progress_percent: int
    latency_source: float | None = None
    latency_target: float | None = None
    tables: list[TableStat] = field(default_factory=list)


def read_tasks(path: str | Path, owner: str | None = None) -> list[TaskStat]:
    """Every task in the store at ``path`` (only ``owner``'s when given), with its tables."""
    snapshot = read_snapshot(path)
    have, tables = snapshot.task_columns, snapshot.tables
    out = []
    for row in snapshot.tasks:
        if owner is not None and row["owner"] != owner:
            continue
        rows = tables.get(row["arn"], [])
        latency = [row[c] if c in have else None for c in LATENCY_COLUMNS]
        out.append(
            TaskStat(
                arn=row["arn"],
                identifier=row["identifier"],
                owner=row["owner"] or "",
                migration_type=row["migration_type"],
                status=effective_status(row),
                stop_reason=row["stop_reason"],
                last_failure=row["last_failure"],
                start_date=row["start_date"],
                stop_date=row["stop_date"],
                full_load_start=row["full_load_start"],
                full_load_finish=row["full_load_finish"],
                progress_percent=status.task_stats(row, rows)["FullLoadProgressPercent"],
                latency_source=latency[0],
                latency_target=latency[1],
                tables=[_table(r) for r in rows],
            )
        )
    return out


def effective_status(row: sqlite3.Row) -> str:
    """``failed`` for a task whose process is gone while it says it runs (as ``task.reconcile``
    would record it), without writing to the store."""
    if row["status"] in (status.STARTING, status.RUNNING, status.STOPPING):
        pid = row["pid"]
        if pid and not pid_alive(pid):
            return status.FAILED
    return row["status"]


def _table(r: sqlite3.Row) -> TableStat:
    return TableStat(
        schema=r["schema_name"],
        table=r["table_name"],
        state=r["state"],
        full_load_rows=r["full_load_rows"],
        error_rows=r["error_rows"],
        inserts=r["inserts"],
        updates=r["updates"],
        deletes=r["deletes"],
        ddls=r["ddls"],
        applied_inserts=r["applied_inserts"],
        applied_updates=r["applied_updates"],
        applied_deletes=r["applied_deletes"],
        applied_ddls=r["applied_ddls"],
        full_load_start=r["full_load_start"],
        full_load_end=r["full_load_end"],
        last_update=r["last_update"],
        error=r["error"],
    )


def full_load_seconds(t: TableStat, now: float | None = None) -> float:
    """How long the table's full load has run (to its end, or to now while it runs)."""
    if t.full_load_start is None:
        return 0.0
    end = t.full_load_end if t.full_load_end is not None else (now or time.time())
    return max(end - t.full_load_start, 0.0)
