"""The full-load phase: every table of the plan into LOAD files, in parallel, resumable.

Work is split into *units*: a whole table, or one segment of a table with ``parallel-load``. Up to
``MaxFullLoadSubTasks`` units run at once, started in load order (higher ``load-order`` first). A
unit streams Arrow batches from the source, applies the mapping's transformations, adds the DMS
columns and writes rotating LOAD files.

Crash safety: every object name is recorded in the store *before* it is committed, and a unit is
marked finished only after its last file is committed. ``resume-processing`` therefore deletes
exactly the objects an unfinished unit may have left and loads that unit again, so no row appears
twice and no partial file survives a kill at any instant.

Errors follow ``ErrorBehavior``: a lost connection is recoverable (retried with the throttled
backoff of ``RecoverableError*``); anything else is a table error, which suspends the table
(``TableErrorPolicy=SUSPEND_TABLE``: the others finish) or stops the task (``STOP_TASK``).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from dersonlake.config import S3Settings
from dersonlake.errors import OperationFailed
from dersonlake.lake import CommittedFile, ObjectWriter, Storage, dms_columns, layout
from dersonlake.mapping import Plan, Segment, TablePlan, full_load_headers, transform_batch
from dersonlake.replication import iceberg_sync, status
from dersonlake.replication.handoff import HandoffMarks
from dersonlake.replication.prefetch import prefetch
from dersonlake.replication.store import ReplicationStore
from dersonlake.sources import (
    Catalog,
    ChunkSnapshot,
    ConnectionParams,
    SnapshotQuery,
    Table,
    current_position,
    key_range,
    quote_ident,
    read_batches,
)

log = logging.getLogger("dersonlake.TARGET_LOAD")
STATS_INTERVAL = 1.0  # seconds between statistics updates of a running unit
# A table split into key ranges loads as units named RANGE_PREFIX + n (never a mapping segment's name).
RANGE_PREFIX = "~range"
SPLIT_ROWS = 500_000  # estimated rows per key range of a split table (see _split)
# Units at once: MaxFullLoadSubTasks is the upper bound, and one per core the most that paid here.
# A unit already keeps about three threads busy (the server's, connectorx's reader, our writer), and
# each running unit holds ~40-50 MB of connectorx buffers whatever its chunk size. On 2 cores
# (bench/multi_schema.py's 22 tables, interleaved runs): 8 units peaked at 380-430 MB and were no
# faster than 4 (305-326 MB) or 2 (276-284 MB, the same time within the noise); docs/benchmarks.md.
UNITS_PER_CORE = 1
_INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}

_CONNECTION_WORDS = (
    "lost connection",
    "can't connect",
    "connection refused",
    "connection reset",
    "broken pipe",
    "server has gone away",
    "timed out",
    "os error 111",
    "os error 104",
    "2003",
    "2006",
    "2013",
    "shutdown in progress",
    "unexpected eof",
    "connection closed",
)


class Progress(Protocol):
    """What the full load reports as it goes (the CLI draws bars from it; tests record it)."""

    def table_started(self, table: TablePlan, estimated_rows: int) -> None: ...

    def rows_loaded(self, table: TablePlan, rows: int) -> None: ...

    def file_committed(self, table: TablePlan, file: CommittedFile) -> None: ...

    def table_finished(self, table: TablePlan, state: str, rows: int, error: str | None) -> None: ...


# Optional on a Progress (older ones lack it): ``load_planned(tables)`` hears, before any table
# starts, every table this run loads with its estimated rows, so a view can show the whole task.


class NoProgress:
    def load_planned(self, tables: list[tuple[TablePlan, int]]) -> None:
        pass

    def table_started(self, table: TablePlan, estimated_rows: int) -> None:
        pass

    def rows_loaded(self, table: TablePlan, rows: int) -> None:
        pass

    def file_committed(self, table: TablePlan, file: CommittedFile) -> None:
        pass

    def table_finished(self, table: TablePlan, state: str, rows: int, error: str | None) -> None:
        pass


@dataclass(frozen=True)
class Unit:
    """A table, or one segment of it, loaded as one piece of work."""

    table: TablePlan
    source: Table
    segment: Segment | None

    @property
    def name(self) -> str:
        return self.segment.name if self.segment else ""


@dataclass
class LoadOutcome:
    tables_loaded: int = 0
    tables_errored: int = 0
    rows: int = 0
    files: int = 0
    failure: str | None = None  # set when the task must fail (STOP_TASK or retries exhausted)


@dataclass
class _TableProgress:
    """How far one table's load units have got (a table split into key ranges has several)."""

    units_left: int
    started: bool = False
    files: Any = field(default_factory=lambda: itertools.count(1))  # LOAD numbers shared by key ranges
    rows: int = 0
    failed: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class TaskStopped(Exception):
    """Raised inside a unit when the task is stopping (another unit failed it, or a stop request)."""


class FullLoad:
    """One full-load phase of task ``arn``. ``run()`` returns when every unit is done or the task fails."""

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
        start_type: str = status.START_REPLICATION,
        progress: Progress | None = None,
        task_start: datetime | None = None,
        chunk_rows: int = 100_000,
        batch_rows: int = 10_000,
        sleep: Callable[[float], None] = time.sleep,
        split_rows: int = SPLIT_ROWS,
    ) -> None:
        self.arn = arn
        self.plan = plan
        self.catalog = catalog
        self.endpoint = endpoint
        self.storage = storage
        self.s3 = s3
        self.store = store
        self.start_type = start_type
        self.progress = progress or NoProgress()
        self.task_start = task_start or datetime.now(UTC)
        self.chunk_rows = chunk_rows
        self.split_rows = split_rows
        cores = os.cpu_count() or 2
        self.workers = max(1, min(plan.settings.max_full_load_subtasks, UNITS_PER_CORE * cores))
        self.batch_rows = max(1, min(batch_rows, plan.settings.commit_rate))
        self.sleep = sleep
        self.errors = plan.settings.error_behavior
        self.handoff = HandoffMarks(store)
        self._stop = threading.Event()
        self._data_errors: dict[str, int] = {}
        self._outcome = LoadOutcome()
        self._lock = threading.Lock()
        self._binlog_file: str | None = None  # looked up once per load (binlog_file())

    def stop(self) -> None:
        """Ask the running units to stop at their next batch (StopReplicationTask)."""
        self._stop.set()

    # -- orchestration ------------------------------------------------------------------------------

    def run(self) -> LoadOutcome:
        resume = self.start_type == status.RESUME_PROCESSING
        tables = [(t, self._source_table(t)) for t in self.plan.tables]
        self.store.reset_tables(
            self.arn,
            [(t.source_schema, t.source_table, t.load_order, s.approx_rows) for t, s in tables],
            keep_finished=resume,
        )
        rows = {(r["schema_name"], r["table_name"]): r for r in self.store.table_stats(self.arn)}
        units: list[Unit] = []
        runs: dict[str, _TableProgress] = {}
        for plan_table, source in tables:
            row = rows[(plan_table.source_schema, plan_table.source_table)]
            pending = self._prepare(plan_table, source, row, resume)
            if pending is None:  # completed in an earlier run
                self._outcome.tables_loaded += 1
                continue
            if not pending:
                self._finish_table(plan_table, _TableProgress(0))
                continue
            runs[plan_table.source] = _TableProgress(len(pending))
            units += pending
        planned = getattr(self.progress, "load_planned", None)
        if planned is not None:
            tables_left = {u.table.source: (u.table, u.source.approx_rows) for u in units}
            planned(list(tables_left.values()))
        if units:
            units = schedule(units)
            workers = max(1, min(self.workers, len(units)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="full-load") as pool:
                futures = [pool.submit(self._run_unit, u, runs[u.table.source]) for u in units]
                for f in futures:
                    f.result()
        return self._outcome

    def _source_table(self, plan_table: TablePlan) -> Table:
        table = self.catalog.table(plan_table.source_schema, plan_table.source_table)
        if table is None:
            raise OperationFailed(f"table {plan_table.source} disappeared from the source")
        return table

    def _prepare(self, plan_table: TablePlan, source: Table, row: Any, resume: bool) -> list[Unit] | None:
        """Clean the target for this run; the units still to load (None: the table is complete).

        A table whose prep is pending (fresh start, or a resume of one killed before the prep) gets
        TargetTablePrepMode applied and loads in full; otherwise (resume) the objects its unfinished
        units may have committed are deleted and only those units load again.
        """
        schema, name = plan_table.source_schema, plan_table.source_table
        prefix = layout.table_prefix(plan_table.target_schema, plan_table.target_table)
        self.storage.clean_staging(prefix)  # staged files; on S3 a killed writer's multipart uploads
        segments: list[Segment | None] = list(plan_table.segments) or [None]
        lost = resume and not row["prep_pending"] and self._lost_objects(plan_table, prefix)
        if resume and row["state"] == status.TABLE_COMPLETED and not lost:
            return None
        # a fresh start (or lost objects): remove the earlier run's objects, then say so durably
        if row["prep_pending"] or lost:
            self.store.clear_segments(self.arn, schema, name)
            self.handoff.clear(self.arn, schema, name)
            prep = self.plan.settings.target_table_prep_mode
            if lost or prep in ("DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD"):  # lost: what is left of ours
                removed = self.storage.delete_prefix(prefix)
                if removed:
                    log.info(
                        "%s: removed %d existing objects (%s)",
                        plan_table.target,
                        removed,
                        self.plan.settings.target_table_prep_mode,
                    )
            self.store.set_table(self.arn, schema, name, prep_pending=0)
            return self._units(plan_table, source)
        for keys in self.store.unfinished_files(self.arn, schema, name).values():
            self.storage.delete(keys)
            self.store.forget_files(self.arn, keys)
        done = self.store.finished_segments(self.arn, schema, name)
        if any(n.startswith(RANGE_PREFIX) for n in done):  # key ranges: reload the table whole,
            # as DMS reloads a table it had not finished (ranges of a new run may split elsewhere)
            self.storage.delete([k for _rows, files in done.values() for k in files])
            self.store.clear_segments(self.arn, schema, name)
            self.store.set_table(self.arn, schema, name, full_load_rows=0)
            return self._units(plan_table, source)
        loaded = sum(rows for rows, _files in done.values())
        self.store.set_table(self.arn, schema, name, full_load_rows=loaded)
        return [Unit(plan_table, source, s) for s in segments if (s.name if s else "") not in done]

    def _units(self, plan_table: TablePlan, source: Table) -> list[Unit]:
        """The units of a fresh load of the table: its mapping segments, or key ranges of a big
        table (split_units), or the whole table."""
        if plan_table.segments:
            return [Unit(plan_table, source, s) for s in plan_table.segments]
        return [Unit(plan_table, source, s) for s in self._split(plan_table, source)]

    def _split(self, t: TablePlan, source: Table) -> list[Segment | None]:
        """Key ranges for a table of more than ``2 * split_rows`` estimated rows whose key starts
        with an integer column: a big table read as one unit ran alone at the end of a load while
        the other workers were idle (bench/multi_schema.py: its 2.84M-row table took the whole
        task's time). At most as many ranges as units run at once, split evenly over MIN..MAX of the first
        key column; keyset chunking goes on inside each range."""
        parts = min(self.workers, source.approx_rows // max(self.split_rows, 1))
        key = list(t.source_key_columns)
        column = source.column(key[0]) if key else None
        if parts < 2 or column is None or column.data_type.lower() not in _INTEGER_TYPES:
            return [None]
        try:
            lo, hi = key_range(self.endpoint, source, key[0], t.where, t.params)
        except OperationFailed as exc:  # the unit meets the same problem, with its retries
            log.info("%s: not split (%s)", t.source, exc)
            return [None]
        if lo is None or hi - lo + 1 < parts:
            return [None]
        bounds = [lo + (hi - lo + 1) * i // parts for i in range(1, parts)]
        q = quote_ident(key[0])
        base = f"({t.where}) AND " if t.where else ""
        out: list[Segment | None] = []
        for i in range(parts):
            conds, params = [], list(t.params)
            if i > 0:
                conds.append(f"{q} >= %s")
                params.append(bounds[i - 1])
            if i < parts - 1:
                conds.append(f"{q} < %s")
                params.append(bounds[i])
            where = base + " AND ".join(conds)
            out.append(Segment(f"{RANGE_PREFIX}{i + 1}", None, "", where, tuple(params)))
        log.info("%s: loading in %d key ranges of %s", t.source, parts, key[0])
        return out

    def _lost_objects(self, plan_table: TablePlan, prefix: str) -> bool:
        """Resume trusts no local record blindly: are objects recorded as finished gone from the lake
        (a bucket emptied between runs)? One listing per table; then the table loads again in full."""
        done = self.store.finished_segments(self.arn, plan_table.source_schema, plan_table.source_table)
        recorded = {key for _rows, files in done.values() for key in files}
        if not recorded:
            return False
        missing = sorted(recorded - {o.key for o in self.storage.list(prefix)})
        if missing:
            log.warning(
                "%s: %d object(s) recorded as loaded are missing from the lake (%s%s); reloading the table",
                plan_table.source,
                len(missing),
                missing[0],
                ", ..." if len(missing) > 1 else "",
            )
        return bool(missing)

    # -- one unit -----------------------------------------------------------------------------------

    def _run_unit(self, unit: Unit, run: _TableProgress) -> None:
        t = unit.table
        with run.lock:
            first, run.started = not run.started, True
        if first:
            self.store.set_table(
                self.arn,
                t.source_schema,
                t.source_table,
                state=status.TABLE_FULL_LOAD,
                full_load_start=time.time(),
            )
            self.progress.table_started(t, unit.source.approx_rows)
            self.handoff.define(self.arn, unit.source)
        error: str | None = None
        try:
            self._with_retries(unit, run)
        except TaskStopped:
            error = "task stopped"
        except Exception as exc:  # a table error: policy decides
            error = _message(exc)
            log.error("%s%s failed: %s", t.source, f" segment {unit.name}" if unit.name else "", error)
            if self.errors.table_error_policy == "STOP_TASK" or isinstance(exc, _Fatal):
                self._fail(f"{t.source}: {error}")
        with run.lock:
            run.units_left -= 1
            if error and not run.failed:
                run.failed = error
            last = run.units_left == 0
        if last:
            self._finish_table(t, run)

    def _with_retries(self, unit: Unit, run: _TableProgress) -> None:
        attempt = 0
        delay = float(self.errors.recoverable_error_interval)
        while True:
            try:
                self._load_unit(unit, run)
                return
            except OperationFailed as exc:
                if not _is_connection_error(exc):
                    raise
                attempt += 1
                limit = self.errors.recoverable_error_count
                throttled_out = (
                    self.errors.recoverable_error_throttling
                    and self.errors.recoverable_error_stop_retry_after_throttling_max
                    and delay >= self.errors.recoverable_error_throttling_max
                )
                if (limit >= 0 and attempt > limit) or throttled_out:
                    raise _Fatal(f"{exc} (gave up after {attempt - 1} retries)") from None
                log.warning("%s: %s; retry %d in %.0fs", unit.table.source, exc, attempt, delay)
                self._drop_unit_files(unit)
                self._wait(delay)
                if self.errors.recoverable_error_throttling:
                    delay = min(delay * 2, float(self.errors.recoverable_error_throttling_max))

    def _wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < end:
            self.sleep(min(0.2, max(0.0, end - time.monotonic())))
        if self._stop.is_set():
            raise TaskStopped()

    def _drop_unit_files(self, unit: Unit) -> None:
        t = unit.table
        keys = self.store.unfinished_files(self.arn, t.source_schema, t.source_table).get(unit.name, [])
        if keys:
            self.storage.delete(keys)
            self.store.forget_files(self.arn, keys)

    def _load_unit(self, unit: Unit, run: _TableProgress) -> None:
        t, seg = unit.table, unit.segment
        query = SnapshotQuery(
            table=unit.source,
            columns=[unit.source.column(c) for c in t.source_columns],
            where=unit.segment.where if unit.segment else t.where,
            params=unit.segment.params if unit.segment else t.params,
            key=t.source_key_columns,
            partition=unit.segment.partition if unit.segment else None,
            mark_snapshot="mariadb" in self.catalog.server_version.lower(),
        )
        marks: list[ChunkSnapshot] = []
        file_schema = self._file_schema(t, query.schema)
        if not t.source_key_columns:
            log.warning(
                "%s has no primary key or NOT NULL unique key: one long streaming read (bounded memory); "
                "define-primary-key or parallel-load would split it",
                t.source,
            )
        ranged = seg is not None and seg.name.startswith(RANGE_PREFIX)
        counter = run.files if ranged else iter(range(1, 0xFFFFFFFF))  # ranges share the table's names
        if ranged:
            seg = None  # named and placed as the whole table; the range only selects the rows

        def next_key() -> str:
            key = layout.load_key(
                t.target_schema,
                t.target_table,
                next(counter),
                self.s3.extension,
                folder=seg.folder if seg else None,
                prefix=seg.file_prefix if seg else "",
            )
            self.store.intend_file(self.arn, t.source_schema, t.source_table, unit.name, key)
            return key

        def committed(file: CommittedFile) -> None:
            self.progress.file_committed(t, file)

        writer = ObjectWriter(
            self.storage,
            self.s3,
            file_schema,
            next_key,
            max_bytes=self.s3.MaxFileSize * 1024,
            on_commit=committed,
        )
        rows = flushed = 0  # rows written by this unit / of them, already counted in the store
        last_flush = time.monotonic()
        try:
            batches = read_batches(
                self.endpoint,
                query,
                chunk_rows=self.chunk_rows,
                batch_rows=self.batch_rows,
                on_snapshot=marks.append,
                binlog_file=self._binlog() if query.mark_snapshot else None,
            )
            for batch in prefetch(batches):
                if self._stop.is_set():
                    raise TaskStopped()
                now = datetime.now(UTC)
                self._count_truncations(t, batch)
                out = self._transform(t, batch, full_load_headers(now))
                if out is None:
                    continue
                stamp = self.task_start if self.s3.UseTaskStartTimeForFullLoadTimestamp else now
                out = dms_columns.decorate(
                    out, self.s3, dms_columns.LOAD, timestamps=stamp.replace(tzinfo=None)
                )
                writer.write(pa.RecordBatch.from_arrays(out.columns, schema=file_schema))
                rows += out.num_rows
                self.progress.rows_loaded(t, out.num_rows)
                if time.monotonic() - last_flush >= STATS_INTERVAL:  # statistics readable while running
                    self.store.add_table_counts(
                        self.arn, t.source_schema, t.source_table, full_load_rows=rows - flushed
                    )
                    flushed, last_flush = rows, time.monotonic()
            files = writer.close()
        except BaseException:
            writer.abort()
            if flushed:  # the unit starts over: its rows no longer count
                self.store.add_table_counts(
                    self.arn, t.source_schema, t.source_table, full_load_rows=-flushed
                )
            raise
        if rows > flushed:
            self.store.add_table_counts(
                self.arn, t.source_schema, t.source_table, full_load_rows=rows - flushed
            )
        # before the unit counts as finished: a crash in between loads the unit (and marks) again
        self.handoff.replace(self.arn, t.source_schema, t.source_table, unit.name, marks)
        self.store.finish_segment(
            self.arn, t.source_schema, t.source_table, unit.name, rows, [f.key for f in files]
        )
        with run.lock:
            run.rows += rows
        with self._lock:
            self._outcome.rows += rows
            self._outcome.files += len(files)

    def _binlog(self) -> str:
        """Any binlog file name of the source ("" without a binlog or the privilege), once per load."""
        with self._lock:
            if self._binlog_file is None:
                try:
                    self._binlog_file = current_position(self.endpoint).file
                except OperationFailed as exc:
                    log.info("reading without snapshot positions (%s)", exc)
                    self._binlog_file = ""
            return self._binlog_file

    def _count_truncations(self, t: TablePlan, batch: pa.RecordBatch) -> None:
        """Limited LOB mode truncates at LobMaxSize (the mapping layer logs it); count it per table too."""
        if t.lob.mode != "limited" or not t.lob.max_size_kb:
            return
        limit = t.lob.max_size_kb * 1024
        cut = sum(
            pc.sum(pc.greater(pc.binary_length(batch.column(c)), limit)).as_py() or 0
            for c in t.lob.columns
            if c in batch.schema.names
        )
        if cut:
            self.store.add_table_counts(self.arn, t.source_schema, t.source_table, truncated_lobs=cut)

    def _transform(
        self, t: TablePlan, batch: pa.RecordBatch, headers: dict[str, Any]
    ) -> pa.RecordBatch | None:
        """The mapping's output for ``batch``; rows whose conversion fails are data errors.

        A failing batch is bisected until the failing rows are single, so one bad value costs
        O(log n) extra conversions; each bad row goes to ``DataErrorPolicy`` (dms.md §2).
        """
        try:
            return transform_batch(t, batch, headers=headers)
        except (pa.ArrowException, ValueError, ArithmeticError, TypeError) as exc:
            if batch.num_rows <= 1:
                self._data_error(t, batch, exc)
                return None
        half = batch.num_rows // 2
        parts = [
            self._transform(t, batch.slice(0, half), headers),
            self._transform(t, batch.slice(half), headers),
        ]
        kept = [p for p in parts if p is not None and p.num_rows]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else pa.Table.from_batches(kept).combine_chunks().to_batches()[0]

    def _data_error(self, t: TablePlan, row: pa.RecordBatch, exc: BaseException) -> None:
        """One record that cannot be converted: skip it (IGNORE_RECORD, LOG_ERROR), or suspend the table
        / stop the task; DataErrorEscalationCount errors escalate to DataErrorEscalationPolicy."""
        policy = self.errors.data_error_policy
        with self._lock:
            count = self._data_errors.get(t.source, 0) + 1
            self._data_errors[t.source] = count
        self.store.add_table_counts(self.arn, t.source_schema, t.source_table, error_rows=1)
        key = {k: row.column(k)[0].as_py() for k in t.source_key_columns if k in row.schema.names}
        message = f"{t.source}: record {key or '(no key)'} cannot be converted: {_message(exc)}"
        escalation = self.errors.data_error_escalation_count
        if escalation and count >= escalation:
            policy = self.errors.data_error_escalation_policy
            message += f" ({count} data errors reached DataErrorEscalationCount)"
        if policy == "STOP_TASK":
            raise _Fatal(message)
        if policy == "SUSPEND_TABLE":
            raise _DataError(message)
        if policy == "LOG_ERROR" and count <= 20:
            log.error("%s; record skipped (DataErrorPolicy LOG_ERROR)", message)

    def _file_schema(self, t: TablePlan, read: pa.Schema) -> pa.Schema:
        return dms_columns.file_schema(lake_schema(t, read), self.s3, dms_columns.LOAD)

    def _finish_table(self, t: TablePlan, run: _TableProgress) -> None:
        state = status.TABLE_ERROR if run.failed else status.TABLE_COMPLETED
        if not run.failed:  # its files are committed; the table is not marked complete yet
            iceberg_sync.table_loaded(
                self.storage, self.s3, t, self.catalog.table(t.source_schema, t.source_table)
            )
        fields: dict[str, Any] = {"state": state, "full_load_end": time.time()}
        if run.failed:
            fields["error"] = run.failed
        self.store.set_table(self.arn, t.source_schema, t.source_table, **fields)
        with self._lock:
            if run.failed:
                self._outcome.tables_errored += 1
            else:
                self._outcome.tables_loaded += 1
        self.progress.table_finished(t, state, run.rows, run.failed)

    def _fail(self, message: str) -> None:
        with self._lock:
            if self._outcome.failure is None:
                self._outcome.failure = message
        self._stop.set()


def schedule(units: list[Unit]) -> list[Unit]:
    """The order units start in: ``load-order`` first (higher first, as DMS), then the biggest
    tables first by the catalog's row estimate, so the longest unit does not start last and run
    alone on a machine whose other workers are idle (measured on bench/multi_schema.py's database:
    its 2.84M-row table decides the total). The sort is stable: equal units keep the plan's order."""
    return sorted(units, key=lambda u: (-u.table.load_order, -u.source.approx_rows))


def lake_schema(t: TablePlan, read: pa.Schema) -> pa.Schema:
    """The lake columns of ``t`` (without Op/timestamp); a column copied from a DATETIME keeps the
    reader's fractional-digits metadata, so CSV prints it as the source does."""
    fields = []
    for col in t.columns:
        f = pa.field(col.name, col.arrow_type)
        if col.source is not None and read.get_field_index(col.source) >= 0:
            src = read.field(col.source)
            if src.metadata and src.type.equals(col.arrow_type):
                f = f.with_metadata(src.metadata)
        fields.append(f)
    return pa.schema(fields)


class _Fatal(OperationFailed):
    """Recoverable errors exhausted, or a STOP_TASK policy: the task fails."""


class _DataError(Exception):
    """A record error under SUSPEND_TABLE: the table is suspended."""


def _is_connection_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in _CONNECTION_WORDS)


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
