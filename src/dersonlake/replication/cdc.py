"""A bounded CDC run: the binlog from the task's checkpoint (or a start position) to a stop position
(by default the source's position when the run starts), into DMS CDC files, then a checkpoint.

This is the seed's ``delta=true``: run on a schedule, it keeps the lake current and nothing idles.

* Changes are converted per committed transaction (rolled-back ones never reach us), with the
  commit time as ``TimestampColumnName`` and ``$AR_H_COMMIT_TIMESTAMP``. A transaction of more than
  ``CHUNK`` changes of one table is converted in chunks as it streams (bounded memory); those chunks
  carry the statement time, since the commit time is not known yet.
* A primary-key update is written as ``D`` of the old key then ``U`` of the new one (DMS writes only
  the ``U``, which leaves the old key in every consumer's merged table).
* The mapping's filters are evaluated on the row image, as DMS does (dms.md §1.1: filter only on
  columns that do not change, or rows drift in and out of the selection).
* Crash safety: every CDC object name is recorded before its file is written; a checkpoint (binlog
  position + each table's last file name) is saved only after the files it covers are committed, in
  the same transaction that forgets those records. A run killed at any instant leaves at most
  uncovered files, which the next run deletes before reading from the checkpoint again, so no change
  appears twice and none is lost.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from dersonlake.config.s3_settings import S3Settings
from dersonlake.lake.cdc_writer import CdcTableWriter
from dersonlake.lake.storage import Storage
from dersonlake.mapping import Plan, TablePlan, transform_batch
from dersonlake.replication.full_load import lake_schema
from dersonlake.replication.handoff import HandoffMarks, TableHandoff
from dersonlake.replication.store import ReplicationStore
from dersonlake.sources.catalog import Catalog, Table
from dersonlake.sources.mysql.binlog_batches import changes_to_batch
from dersonlake.sources.mysql.binlog_items import Change, Checkpoint, Commit, Ddl
from dersonlake.sources.mysql.binlog_position import BinlogPosition
from dersonlake.sources.mysql.binlog_reader import BinlogReader
from dersonlake.sources.mysql.connection import ConnectionParams
from dersonlake.sources.mysql.snapshot import column_read

log = logging.getLogger("dersonlake.TARGET_APPLY")

CHUNK = 20_000  # changes of one table converted at once inside a big transaction
_OPERATIONS = {"I": "INSERT", "U": "UPDATE", "D": "DELETE"}
_COUNTERS = {"I": "inserts", "U": "updates", "D": "deletes"}


@dataclass(frozen=True)
class CdcCheckpoint:
    """Where the next run starts: a binlog position (after a whole transaction) and, per lake table,
    the newest CDC file name (so new names keep increasing after a restart)."""

    position: BinlogPosition
    stems: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        p = self.position
        return json.dumps({"file": p.file, "pos": p.pos, "gtid": p.gtid, "stems": self.stems}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CdcCheckpoint:
        doc = json.loads(text)
        return cls(BinlogPosition(doc["file"], doc["pos"], doc.get("gtid")), dict(doc.get("stems", {})))


class CdcState:
    """The CDC part of the replication store: the checkpoint and the uncovered file records."""

    def __init__(self, store: ReplicationStore) -> None:
        self.store = store
        with store.transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS cdc_files (task_arn TEXT NOT NULL, key TEXT NOT NULL,"
                " PRIMARY KEY (task_arn, key))"
            )

    def checkpoint(self, arn: str) -> CdcCheckpoint | None:
        row = self.store.task(arn)
        extra = json.loads(row["extra"] or "{}") if row else {}
        return CdcCheckpoint.from_json(extra["cdc_checkpoint"]) if "cdc_checkpoint" in extra else None

    def intend(self, arn: str, key: str) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO cdc_files VALUES (?, ?)", (arn, key))

    def uncovered(self, arn: str) -> list[str]:
        return [r["key"] for r in self.store.query("SELECT key FROM cdc_files WHERE task_arn = ?", (arn,))]

    def forget(self, arn: str, keys: list[str]) -> None:
        with self.store.transaction() as db:
            db.executemany("DELETE FROM cdc_files WHERE task_arn = ? AND key = ?", [(arn, k) for k in keys])

    def save(self, arn: str, cp: CdcCheckpoint, counts: dict[tuple[str, str], dict[str, int]]) -> None:
        """One transaction: the checkpoint, the statistics it covers, and forgetting the covered files."""
        now = time.time()
        with self.store.transaction() as db:
            row = db.execute("SELECT extra FROM tasks WHERE arn = ?", (arn,)).fetchone()
            extra = json.loads(row["extra"] or "{}")
            extra["cdc_checkpoint"] = cp.to_json()
            db.execute(
                "UPDATE tasks SET recovery_checkpoint = ?, extra = ? WHERE arn = ?",
                (str(cp.position), json.dumps(extra), arn),
            )
            for (schema, table), c in counts.items():
                sets = ", ".join(f"{k} = {k} + ?, applied_{k} = applied_{k} + ?" for k in c)
                values = [v for v in c.values() for _ in (0, 1)]
                db.execute(
                    f"UPDATE table_stats SET {sets}, last_update = ? WHERE task_arn = ? AND schema_name = ?"
                    " AND table_name = ?",
                    [*values, now, arn, schema, table],
                )
            db.execute("DELETE FROM cdc_files WHERE task_arn = ?", (arn,))


def _split_key_updates(changes: list[Change], key: tuple[str, ...]) -> list[Change]:
    """A primary-key update becomes ``D`` (old key, before-image) then ``U`` (new key, after-image).

    DMS writes only the ``U``, leaving the old key in every consumer's merged table; with the ``D``
    a consumer that upserts by key and applies deletes ends with the source's rows.
    """
    if not key:
        return changes
    out: list[Change] = []
    for c in changes:
        if c.op == "U" and c.before and c.after and any(c.before.get(k) != c.after.get(k) for k in key):
            out.append(replace(c, op="D", after=None))
        out.append(c)
    return out


@dataclass
class CdcOutcome:
    changes: int = 0
    files: int = 0
    transactions: int = 0
    checkpoint: CdcCheckpoint | None = None
    suspended: dict[str, str] = field(default_factory=dict)  # "schema.table" -> why


@dataclass
class _Table:
    plan: TablePlan
    source: Table
    writer: CdcTableWriter
    pending: list[Change] = field(default_factory=list)
    handoff: TableHandoff | None = None  # drops the changes the LOAD files already hold


class CdcRun:
    """One bounded CDC run of task ``arn``; ``run()`` reads up to ``stop`` and checkpoints."""

    def __init__(
        self,
        *,
        arn: str,
        plan: Plan,
        catalog: Catalog,
        endpoint: ConnectionParams,
        storage: Storage,
        s3: S3Settings,
        store: ReplicationStore,
        start: BinlogPosition | None = None,
        stop: BinlogPosition | None = None,
        clock: Any = time.time,
    ) -> None:
        self.arn = arn
        self.plan = plan
        self.catalog = catalog
        self.endpoint = endpoint
        self.storage = storage
        self.s3 = s3
        self.store = store
        self.state = CdcState(store)
        self.start = start
        self.stop = stop
        self.clock = clock
        self._seq = 0
        self._counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def run(self) -> CdcOutcome:
        cp = self.state.checkpoint(self.arn)
        if cp is None:
            if self.start is None:
                raise ValueError("a first CDC run needs a start position")
            cp = CdcCheckpoint(self.start)
        leftovers = self.state.uncovered(self.arn)
        if leftovers:  # files of a run that died before its checkpoint: their changes are read again
            self.storage.delete(leftovers)
            self.state.forget(self.arn, leftovers)
            log.info("removed %d CDC file(s) written after the last checkpoint", len(leftovers))
        tables = self._tables(cp)
        outcome = CdcOutcome(checkpoint=cp)
        reader = BinlogReader(self.endpoint, [t.source for t in tables.values()], cp.position, stop=self.stop)
        for item in reader:
            if isinstance(item, Change):
                t = tables.get((item.schema, item.table))
                if t is None or t.plan.source in outcome.suspended:
                    continue
                t.pending.append(item)
                if len(t.pending) >= CHUNK:
                    outcome.changes += self._write(t, None)
            elif isinstance(item, Commit):
                outcome.changes += sum(self._write(t, item.commit_time) for t in tables.values() if t.pending)
                outcome.transactions += 1
                if any(t.writer.flush_due() for t in tables.values()):
                    outcome.checkpoint = self._checkpoint(tables, item.position, outcome)
            elif isinstance(item, Ddl):
                self._ddl(item, tables, outcome)
            elif isinstance(item, Checkpoint):
                outcome.checkpoint = self._checkpoint(tables, item.position, outcome)
        return outcome

    def _tables(self, cp: CdcCheckpoint) -> dict[tuple[str, str], _Table]:
        out = {}
        marks = HandoffMarks(self.store).load(self.arn)
        for t in self.plan.tables:
            source = self.catalog.table(t.source_schema, t.source_table)
            if source is None or t.kind == "view":
                continue
            read = pa.schema([column_read(source.column(c)).field for c in t.source_columns])
            writer = CdcTableWriter(
                self.storage,
                self.s3,
                t.target_schema,
                t.target_table,
                lake_schema(t, read),
                last_stem=cp.stems.get(t.target),
                clock=self.clock,
                on_name=lambda key: self.state.intend(self.arn, key),
            )
            handoff = TableHandoff.build(
                source, t.source_key_columns, marks.get((t.source_schema, t.source_table), [])
            )
            out[(t.source_schema, t.source_table)] = _Table(t, source, writer, handoff=handoff)
        return out

    def _write(self, t: _Table, commit_time: datetime | None) -> int:
        changes, t.pending = _split_key_updates(t.pending, t.plan.source_key_columns), []
        if t.handoff is not None:
            changes = [c for c in changes if not t.handoff.skip(c)]
            if not changes:
                return 0
        columns = [t.source.column(c) for c in t.plan.source_columns]
        batch = changes_to_batch(t.source, columns, changes, commit_time=commit_time)
        data, ops = batch.data, batch.op.to_pylist()
        times = [v.replace(tzinfo=UTC) for v in batch.timestamp.to_pylist()]
        positions = batch.position.to_pylist()
        if t.plan.filters:  # evaluated on the row image, as DMS does
            keep = [t.plan.passes(row) for row in data.to_pylist()]
            data = data.filter(pa.array(keep))
            ops, times, positions = (
                [v for v, k in zip(xs, keep, strict=True) if k] for xs in (ops, times, positions)
            )
        if not data.num_rows:
            return 0
        seqs = []
        for stamp in times:
            self._seq += 1
            seqs.append(f"{int(stamp.timestamp() * 1_000_000):016d}{self._seq:019d}")
        text_times = [s.strftime("%Y-%m-%d %H:%M:%S.%f") for s in times]
        headers = {
            "AR_H_OPERATION": [_OPERATIONS[o] for o in ops],
            "AR_H_TIMESTAMP": text_times,
            "AR_H_COMMIT_TIMESTAMP": text_times,
            "AR_H_STREAM_POSITION": positions,
            "AR_H_CHANGE_SEQ": seqs,
            "AR_H_USER": "",
        }
        out = transform_batch(t.plan, data, headers=headers)
        kept = t.writer.add(out, ops, times)
        counts = self._counts[(t.plan.source_schema, t.plan.source_table)]
        for op in ops:
            counts[_COUNTERS[op]] += 1
        return kept

    def _ddl(self, item: Ddl, tables: dict[tuple[str, str], _Table], outcome: CdcOutcome) -> None:
        t = tables.get((item.schema, item.table or ""))
        if t is None:
            return
        self._counts[(item.schema, item.table or "")]["ddls"] += 1
        # Schema changes during CDC are not handled yet: the table is suspended, as DMS does for DDL
        # it cannot apply, and the others go on.
        why = f"DDL during CDC is not supported yet ({item.sql.strip()[:120]}); reload the table"
        outcome.suspended[t.plan.source] = why
        t.pending.clear()
        self.store.set_table(
            self.arn, t.plan.source_schema, t.plan.source_table, state="Table error", error=why
        )
        log.error("%s: %s", t.plan.source, why)

    def _checkpoint(
        self, tables: dict[tuple[str, str], _Table], position: BinlogPosition, outcome: CdcOutcome
    ) -> CdcCheckpoint:
        for t in tables.values():
            outcome.files += len(t.writer.flush())
        stems = {t.plan.target: t.writer.last_stem for t in tables.values() if t.writer.last_stem}
        previous = outcome.checkpoint.stems if outcome.checkpoint else {}
        cp = CdcCheckpoint(position, {**previous, **stems})
        counts = {k: dict(v) for k, v in self._counts.items()}
        self.state.save(self.arn, cp, counts)
        self._counts.clear()
        return cp
