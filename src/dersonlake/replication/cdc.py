"""A bounded CDC run: the binlog from the task's checkpoint (or a start position) to a stop position
(by default the source's position when the run starts), into DMS CDC files, then a checkpoint.

This is the seed's ``delta=true``: run on a schedule, it keeps the lake current and nothing idles.

* Changes of committed transactions (rolled-back ones never reach us) wait per table, each with
  its own transaction's commit time (``TimestampColumnName`` and ``$AR_H_COMMIT_TIMESTAMP``), and
  are converted to Arrow together, many transactions at once: when a flush is due
  (``CdcMaxBatchInterval`` since the oldest of them was committed, or about ``CdcMinFileSize`` of
  them, estimated from the bytes per row of the table's last conversion), before every checkpoint,
  before a DDL of the table, and at ``CHUNK`` changes. Converting per transaction cost ~1.4 ms
  whatever its size, 60% of a run of single-row transactions (docs/benchmarks.md, CDC). A
  transaction of more than ``CHUNK`` changes of one table is converted in chunks as it streams
  (bounded memory); its changes converted before its commit carry the statement time, since the
  commit time is not known yet.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from dersonlake.config import S3Settings
from dersonlake.errors import BadInput, OperationFailed
from dersonlake.lake import CdcTableWriter, Storage, layout
from dersonlake.mapping import Plan, TablePlan, transform_batch
from dersonlake.replication import cdc_ddl, iceberg_sync, status
from dersonlake.replication.cdc_ddl import table_from_json, table_to_json
from dersonlake.replication.full_load import lake_schema
from dersonlake.replication.handoff import HandoffMarks, TableHandoff
from dersonlake.replication.store import ReplicationStore
from dersonlake.sources import (
    BinlogPosition,
    BinlogReader,
    Catalog,
    Change,
    Checkpoint,
    Commit,
    ConnectionParams,
    Ddl,
    Item,
    Table,
    changes_to_batch,
    column_read,
    discover_catalog,
)

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
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)  # source table -> its definition
    saved: float = 0.0  # when (epoch seconds): a full load after it has the newer definitions

    def to_json(self) -> str:
        p = self.position
        doc = {"file": p.file, "pos": p.pos, "gtid": p.gtid, "stems": self.stems, "schemas": self.schemas}
        return json.dumps({**doc, "saved": self.saved}, sort_keys=True)

    def to_document(self) -> dict[str, Any]:
        """The ``cdc`` part of the lake's checkpoint document (``dersonlake.lake_checkpoint``)."""
        return json.loads(self.to_json())

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CdcCheckpoint:
        """From the lake's checkpoint document: its ``cdc`` details, or (format 1, or written by the
        intake after an AWS DMS task) just its ``RecoveryCheckpoint``."""
        if doc.get("cdc"):
            return cls.from_json(json.dumps(doc["cdc"]))
        return cls(BinlogPosition.parse(doc["RecoveryCheckpoint"]), saved=float(doc.get("saved_at", 0.0)))

    @classmethod
    def from_json(cls, text: str) -> CdcCheckpoint:
        doc = json.loads(text)
        return cls(
            BinlogPosition(doc["file"], doc["pos"], doc.get("gtid")),
            dict(doc.get("stems", {})),
            dict(doc.get("schemas", {})),
            float(doc.get("saved", 0.0)),
        )


class CdcState:
    """The CDC part of the replication store: the checkpoint and the uncovered file records."""

    def __init__(self, store: ReplicationStore) -> None:
        self.store = store

    def checkpoint(self, arn: str) -> CdcCheckpoint | None:
        row = self.store.task(arn)
        extra = json.loads(row["extra"] or "{}") if row else {}
        return CdcCheckpoint.from_json(extra["cdc_checkpoint"]) if "cdc_checkpoint" in extra else None

    def clear(self, arn: str) -> None:
        """Forget the task's checkpoint (a fresh start reads from a new position)."""
        self.store.clear_cdc_checkpoint(arn)

    def intend(self, arn: str, key: str) -> None:
        self.store.intend_cdc_file(arn, key)

    def uncovered(self, arn: str) -> list[str]:
        return self.store.cdc_files(arn)

    def forget(self, arn: str, keys: list[str]) -> None:
        self.store.forget_cdc_files(arn, keys)

    def in_lake(self, arn: str) -> bool:
        """Whether the task's checkpoint was also saved in the lake (by this version): one that
        was not was written by an older version, and is moved into the lake."""
        row = self.store.task(arn)
        return bool(row and json.loads(row["extra"] or "{}").get("checkpoint_in_lake"))

    def save(
        self,
        arn: str,
        cp: CdcCheckpoint,
        counts: dict[tuple[str, str], dict[str, int]],
        *,
        in_lake: bool = False,
    ) -> None:
        """One transaction: the checkpoint, the statistics it covers, and forgetting the covered files."""
        self.store.save_cdc_checkpoint(arn, str(cp.position), cp.to_json(), counts, in_lake=in_lake)


def _split_key_updates(
    changes: list[Change], stamps: list[datetime | None], key: tuple[str, ...]
) -> list[tuple[Change, datetime | None]]:
    """A primary-key update becomes ``D`` (old key, before-image) then ``U`` (new key, after-image),
    both with the update's commit time (``stamps``, one per change).

    DMS writes only the ``U``, leaving the old key in every consumer's merged table; with the ``D``
    a consumer that upserts by key and applies deletes ends with the source's rows.
    """
    pairs = list(zip(changes, stamps, strict=True))
    if not key:
        return pairs
    out: list[tuple[Change, datetime | None]] = []
    for c, s in pairs:
        if c.op == "U" and c.before and c.after and any(c.before.get(k) != c.after.get(k) for k in key):
            out.append((replace(c, op="D", after=None), s))
        out.append((c, s))
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
    pending: list[Change] = field(default_factory=list)  # not converted yet, in binlog order
    times: list[datetime] = field(default_factory=list)  # commit times of pending's committed head
    since: float | None = None  # when the oldest change not in a committed file was committed
    row_bytes: float = 0.0  # Arrow bytes per lake row at the last conversion (0: none yet)
    handoff: TableHandoff | None = None  # drops the changes the LOAD files already hold
    verify: bool = True  # check the next row image's columns against ``source`` (start, after DDL)
    known: list[Table] = field(default_factory=list)  # every definition seen this run, oldest first


class CdcCapture:
    """One capture pass of task ``arn``'s CDC phase: ``run()`` reads the binlog up to ``stop``
    into CDC files and checkpoints (``cdc_stream.CdcStream`` streams instead)."""

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
        replan: Callable[[Catalog], Plan] | None = None,
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
        self.replan = replan  # the mapping over another catalog: for DDL (None: DDL suspends the table)
        self._seq = 0
        self.batch_commits = True  # False: convert at every commit (bench/cdc.py's "before")
        self._stems: dict[str, str] = {}  # newest names of tables dropped during this run
        self._batch_files: dict[str, list[str]] = defaultdict(
            list
        )  # source table -> keys since the checkpoint
        # Saves a checkpoint once its files are committed: (checkpoint, files by source table,
        # counts). The task runner's (hooks, lake, store); None: the replication store only.
        self.on_commit: (
            Callable[[CdcCheckpoint, dict[str, list[str]], dict[tuple[str, str], dict[str, int]]], None]
            | None
        ) = None
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
        outcome = CdcOutcome(checkpoint=cp)
        tables = self._tables(cp, outcome)
        reader = self._reader(tables, cp.position)
        for item in self._items(reader, tables):
            if isinstance(item, Change):
                t = tables.get((item.schema, item.table))
                if t is None or t.plan.source in outcome.suspended:
                    continue
                if t.verify and not self._conform(t, item, outcome):
                    continue
                t.pending.append(item)
                if len(t.pending) >= CHUNK:
                    outcome.changes += self._write(t)
            elif isinstance(item, Commit):
                self._committed(tables, item, outcome)
                outcome.transactions += 1
                if any(self.flush_due(t) for t in tables.values()):
                    outcome.checkpoint = self._checkpoint(tables, item.position, outcome)
            elif isinstance(item, Ddl):
                self._ddl(item, tables, outcome, reader)
            elif isinstance(item, Checkpoint):
                outcome.checkpoint = self._checkpoint(tables, item.position, outcome)
        return outcome

    def _committed(self, tables: dict[tuple[str, str], _Table], item: Commit, outcome: CdcOutcome) -> None:
        """The changes of the transaction ``item`` ends get its commit time; convert those due."""
        now = self.clock()
        for t in tables.values():
            new = len(t.pending) - len(t.times)
            if new <= 0:
                continue
            t.times.extend([item.commit_time] * new)
            if t.since is None:
                t.since = now
            limit = self.s3.CdcMinFileSize * 1024
            if not self.batch_commits or not t.row_bytes or len(t.pending) * t.row_bytes >= limit:
                outcome.changes += self._write(t)

    def flush_due(self, t: _Table) -> bool:
        """Whether ``t``'s changes (pending or in open files) have waited ``CdcMaxBatchInterval``."""
        if t.since is not None and self.clock() - t.since >= self.s3.CdcMaxBatchInterval:
            return True
        return t.writer.flush_due()

    def _flush(self, t: _Table, outcome: CdcOutcome) -> None:
        """Convert ``t``'s pending changes and commit its open files."""
        if t.pending:
            outcome.changes += self._write(t)
        committed = t.writer.flush()
        self._batch_files[t.plan.source].extend(f.key for f in committed)
        outcome.files += len(committed)
        t.since = None

    def _reader(self, tables: dict[tuple[str, str], _Table], start: BinlogPosition) -> BinlogReader:
        """The binlog read: bounded up to ``stop`` (``cdc_stream`` streams instead)."""
        return BinlogReader(self.endpoint, [t.source for t in tables.values()], start, stop=self.stop)

    def _items(self, reader: BinlogReader, tables: dict[tuple[str, str], _Table]) -> Iterator[Item]:
        """The items to apply, in order (``cdc_stream`` decides which heartbeats checkpoint)."""
        return iter(reader)

    def _tables(self, cp: CdcCheckpoint, outcome: CdcOutcome) -> dict[tuple[str, str], _Table]:
        """The captured tables, each with the definition the lake has (kept with the checkpoint after
        a DDL, else the one the full load read, else the catalog's): a table altered or dropped since
        is still read from the binlog as it was. Tables suspended by an earlier run stay so until
        reloaded; dropped ones are not captured again until created again."""
        out = {}
        handoff = HandoffMarks(self.store)
        marks, loaded = handoff.load(self.arn), handoff.definitions(self.arn)
        states = {f"{r['schema_name']}.{r['table_name']}": r for r in self.store.table_stats(self.arn)}
        lake = {name: table for name, (table, _at) in loaded.items()}
        for name, doc in cp.schemas.items():  # the newer of the checkpoint's and the full load's
            if name not in loaded or loaded[name][1] <= cp.saved:
                lake[name] = table_from_json(doc)
        if self.replan is None:  # the lake's definitions need the mapping re-resolved: the catalog's
            lake = {}
        candidates: list[tuple[TablePlan, Table]] = []
        for t in self.plan.tables:
            now = self.catalog.table(t.source_schema, t.source_table)
            kept = lake.pop(t.source, None)
            plan = self._replan(kept) if kept is not None else None
            if plan is not None and kept is not None:
                candidates.append((plan, kept))
            elif now is not None and t.kind != "view":
                candidates.append((t, now))
        for name, source in lake.items():  # gone from the catalog now: dropped (or renamed) later
            row = states.get(name)
            plan = (
                self._replan(source) if row is None or row["state"] != status.TABLE_DOES_NOT_EXIST else None
            )
            if plan is not None:
                candidates.append((plan, source))
        for t, source in candidates:
            row = states.get(t.source)
            if row is not None and row["state"] == status.TABLE_ERROR:
                outcome.suspended[t.source] = row["error"] or "suspended"
                continue
            if row is None:
                self._register(t.source_schema, t.source_table)
            writer = self._writer(t, source, cp.stems.get(t.target))
            handoff_filter = TableHandoff.build(
                source, t.source_key_columns, marks.get((t.source_schema, t.source_table), [])
            )
            out[(t.source_schema, t.source_table)] = _Table(
                t, source, writer, handoff=handoff_filter, known=[source]
            )
        return out

    def _writer(self, t: TablePlan, source: Table, last_stem: str | None) -> CdcTableWriter:
        read = pa.schema([column_read(source.column(c)).field for c in t.source_columns])
        return CdcTableWriter(
            self.storage,
            self.s3,
            t.target_schema,
            t.target_table,
            lake_schema(t, read),
            last_stem=last_stem,
            clock=self.clock,
            on_name=lambda key: self.state.intend(self.arn, key),
        )

    def _replan(self, source: Table) -> TablePlan | None:
        """The mapping's plan for ``source`` as defined now (None: not selected, or no replan)."""
        if self.replan is None:
            return None
        try:
            plan = self.replan(Catalog(tables=(source,), server_version=self.catalog.server_version))
        except BadInput as exc:  # FailOnNoTablesCaptured: the rules do not select it
            log.debug("%s is not selected: %s", source.qualified, exc)
            return None
        return plan.table(source.schema, source.name)

    def _write(self, t: _Table) -> int:
        """Convert ``t``'s pending changes into its writer (committed ones with their commit times,
        a big transaction's head with its statement times); returns how many the writer kept."""
        stamps: list[datetime | None] = [*t.times, *[None] * (len(t.pending) - len(t.times))]
        changes, t.pending, t.times = _split_key_updates(t.pending, stamps, t.plan.source_key_columns), [], []
        if t.handoff is not None:
            changes = [(c, s) for c, s in changes if not t.handoff.skip(c)]
            if not changes:
                return 0
        columns = [t.source.column(c) for c in t.plan.source_columns]
        batch = changes_to_batch(
            t.source, columns, [c for c, _s in changes], commit_times=[s for _c, s in changes]
        )
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
        t.row_bytes = out.nbytes / out.num_rows
        kept = t.writer.add(out, ops, times)
        counts = self._counts[(t.plan.source_schema, t.plan.source_table)]
        for op in ops:
            counts[_COUNTERS[op]] += 1
        return kept

    # -- DDL during CDC (cdc_ddl; dms.md §4.4) -----------------------------------------------------

    def _ddl(
        self, item: Ddl, tables: dict[tuple[str, str], _Table], outcome: CdcOutcome, reader: BinlogReader
    ) -> None:
        """Apply a DDL statement to the captured tables it names, per ChangeProcessingDdlHandlingPolicy.

        It arrives as its own transaction, so only committed changes of the table are pending: they
        are converted with the old definition and the table's open files committed before anything
        else happens.
        """
        kind, what = cdc_ddl.classify(item.sql)
        if kind == cdc_ddl.CREATE:
            self._create(item, tables, reader)
            return
        names = cdc_ddl.dropped_tables(item.sql, item.schema) if kind == cdc_ddl.DROP else []
        for key in names or [(item.schema, item.table or "")]:
            t = tables.get(key)
            if t is None or t.plan.source in outcome.suspended:
                continue
            if t.handoff is not None and t.handoff.first is not None and item.position <= t.handoff.first:
                continue  # before the table's (re)load read it: its LOAD files already reflect it
            if t.pending:  # its changes before the DDL, converted with the old definition
                outcome.changes += self._write(t)
            self._counts[key]["ddls"] += 1
            settings = self.plan.settings
            policy = {
                cdc_ddl.ALTER: ("HandleSourceTableAltered", settings.handle_source_table_altered),
                cdc_ddl.TRUNCATE: ("HandleSourceTableTruncated", settings.handle_source_table_truncated),
                cdc_ddl.DROP: ("HandleSourceTableDropped", settings.handle_source_table_dropped),
            }.get(kind)
            sql = " ".join(item.sql.split())[:160]
            if policy is None:
                self._suspend(
                    t,
                    f"{what} is not supported during CDC ({sql} at {item.position}); reload the table",
                    outcome,
                )
            elif not policy[1]:
                self._suspend(
                    t,
                    f"{what} at {item.position} and ChangeProcessingDdlHandlingPolicy.{policy[0]} "
                    f"is false ({sql}); reload the table",
                    outcome,
                )
            elif kind == cdc_ddl.ALTER:
                self._alter(t, item, outcome)
            elif kind == cdc_ddl.TRUNCATE and settings.error_behavior.apply_error_fail_on_truncation_ddl:
                raise OperationFailed(
                    f"{t.plan.source} was truncated at {item.position} and "
                    "ErrorBehavior.ApplyErrorFailOnTruncationDdl is true: the task stops"
                )
            else:  # TRUNCATE and DROP on S3: the table's objects are deleted (dms.md §2, §3)
                self._flush(t, outcome)
                removed = self.storage.delete_prefix(
                    layout.table_prefix(t.plan.target_schema, t.plan.target_table)
                )
                log.info(
                    "%s: %s at %s: removed its %d lake object(s)", t.plan.source, what, item.position, removed
                )
                if kind == cdc_ddl.DROP:
                    iceberg_sync.table_dropped(self.storage, t.plan)
                else:
                    iceberg_sync.table_truncated(self.storage, t.plan, t.source, item.position)
                if kind == cdc_ddl.DROP:
                    if t.writer.last_stem:
                        self._stems[t.plan.target] = t.writer.last_stem
                    del tables[key]
                    self.store.set_table(self.arn, *key, state=status.TABLE_DOES_NOT_EXIST)

    def _alter(self, t: _Table, item: Ddl, outcome: CdcOutcome) -> None:
        """New columns from the catalog (checked against the next row image), a new plan, new files."""
        now = discover_catalog(self.endpoint, [t.plan.source_schema]).table(
            t.plan.source_schema, t.plan.source_table
        )
        if now is not None:
            t.known.append(now)
        self._retable(t, now or t.source, outcome)
        t.verify = True

    def _conform(self, t: _Table, change: Change, outcome: CdcOutcome) -> bool:
        """The first row image after the start or a DDL shows the table's columns at that point: when
        they differ from the definition in use (the table was altered again later), rebuild it."""
        t.verify = False
        names = list(change.row)
        if cdc_ddl.same_columns(t.source, names):
            return True
        now = discover_catalog(self.endpoint, [t.plan.source_schema]).table(
            t.plan.source_schema, t.plan.source_table
        )
        # a name's type: the definition in use, the source's now, then older ones (dropped columns)
        source = cdc_ddl.table_for_image(t.source, names, now, *reversed(t.known))
        if source is None:
            self._suspend(
                t,
                f"binlog rows at {change.position} have columns {names} whose types neither the lake's "
                "definition nor the source's now knows (altered more than once since the checkpoint); "
                "reload the table",
                outcome,
            )
            return False
        return self._retable(t, source, outcome)

    def _retable(self, t: _Table, source: Table, outcome: CdcOutcome) -> bool:
        plan = self._replan(source)
        if plan is None:
            self._suspend(
                t,
                f"the new definition of {source.qualified} cannot be mapped "
                f"({'no replan given' if self.replan is None else 'the rules no longer select it'}); "
                "reload the table",
                outcome,
            )
            return False
        self._flush(t, outcome)  # what came before, with the definition it was read with
        t.writer = self._writer(plan, source, t.writer.last_stem)
        t.plan, t.source = plan, source
        log.info(
            "%s: new definition (%s); new CDC files carry it",
            source.qualified,
            ", ".join(c.name for c in source.columns),
        )
        return True

    def _create(self, item: Ddl, tables: dict[tuple[str, str], _Table], reader: BinlogReader) -> None:
        """A table created during CDC that the selection rules match is captured from its CREATE on."""
        key = (item.schema, item.table or "")
        if key in tables:  # selected since the run started (it exists now): captured already
            self._counts[key]["ddls"] += 1
            return
        if not item.table:
            return
        source = discover_catalog(self.endpoint, [item.schema]).table(*key)
        plan = self._replan(source) if source is not None and source.kind == "table" else None
        if plan is None:
            return
        writer = self._writer(plan, source, self._stems.get(plan.target) or self._state_stem(plan.target))
        tables[key] = _Table(plan, source, writer, known=[source])
        reader.capture_table(*key)
        self._register(*key)
        self._counts[key]["ddls"] += 1
        log.info(
            "%s: created at %s and selected by the rules: captured from here on", plan.source, item.position
        )

    def _register(self, schema: str, table: str) -> None:
        """A statistics row for a table CDC captures without a full load (created during CDC)."""
        self.store.register_cdc_table(self.arn, schema, table, status.TABLE_COMPLETED)

    def _state_stem(self, target: str) -> str | None:
        cp = self.state.checkpoint(self.arn)
        return cp.stems.get(target) if cp else None

    def _suspend(self, t: _Table, why: str, outcome: CdcOutcome) -> None:
        """TableErrorPolicy SUSPEND_TABLE: the table stops (``Table error``) until reloaded; others go on."""
        self._flush(t, outcome)  # what it captured before the DDL is right: keep it
        outcome.suspended[t.plan.source] = why
        t.pending.clear()
        t.times.clear()
        self.store.set_table(
            self.arn, t.plan.source_schema, t.plan.source_table, state=status.TABLE_ERROR, error=why
        )
        log.error("%s: %s", t.plan.source, why)

    def _checkpoint(
        self, tables: dict[tuple[str, str], _Table], position: BinlogPosition, outcome: CdcOutcome
    ) -> CdcCheckpoint:
        for t in tables.values():  # every change up to ``position`` into committed files first
            self._flush(t, outcome)
        stems = {t.plan.target: t.writer.last_stem for t in tables.values() if t.writer.last_stem}
        previous = outcome.checkpoint.stems if outcome.checkpoint else {}
        schemas = {t.plan.source: table_to_json(t.source) for t in tables.values()}
        cp = CdcCheckpoint(position, {**previous, **self._stems, **stems}, schemas, time.time())
        counts = {k: dict(v) for k, v in self._counts.items()}
        iceberg_sync.batch_committed(  # the files are committed; the checkpoint is not saved yet
            self.storage,
            self.s3,
            [(t.plan, t.source) for t in tables.values()],
            self.state.uncovered(self.arn),
            position,
        )
        if self.on_commit is not None:
            self.on_commit(cp, {k: list(v) for k, v in self._batch_files.items() if v}, counts)
        else:
            self.state.save(self.arn, cp, counts)
        self._counts.clear()
        self._batch_files.clear()
        return cp
