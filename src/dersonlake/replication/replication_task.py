"""A DMS replication task, run by this process: the one runner every entry point hands a task to.

``derson-lake load`` / ``load --delta`` / ``stream``, the demo, ``derson-lake run`` (through the
local DMS API that DMS-intake calls) and the local DMS API's Start/Stop/Reload all build a
``ReplicationTask`` and call ``start``; nothing else decides phases. What a task does (dms.md §5.3):

* **status**: ``ready|stopped|failed`` -> ``starting`` -> ``running`` -> ``stopped`` (with DMS's
  ``StopReason``) or ``failed`` (``LastFailureMessage``); ``stop()`` -> ``stopping`` -> ``stopped``
  (``Stop Reason NORMAL``). Every status change goes through ``task.record_status``.
* **migration types and phases**: ``full-load`` (full load, then ``FULL_LOAD_ONLY_FINISHED``),
  ``cdc`` (CDC only), ``full-load-and-cdc`` (full load -> cached changes -> CDC).
* **start types**: ``start-replication`` (first run) and ``reload-target`` load everything again;
  ``resume-processing`` finishes an unfinished full load (only the units not committed), else goes
  on with CDC from the checkpoint.
* **the checkpoint**: one per owner and lake (``dersonlake.lake_checkpoint``), read at every CDC
  start whatever wrote it, written only after the files it covers are committed. A full load of a
  task with CDC forgets it first and records where CDC starts (the source's position before the
  load) once the load is committed, so the next run captures every change made since.
* **CdcStartPosition / CdcStartTime** move the checkpoint (files past the old one removed first);
  **CdcStopPosition** (``server_time:`` / ``commit_time:``) ends CDC; without one a bounded run
  (``blocking=False``, the delta runs) reads up to the source's position now and a streaming run
  goes on until ``stop()``.
* **StopTaskCachedChangesNotApplied / Applied**: stop after the full load, or after the changes
  made while it ran.
* **ErrorBehavior**: CDC restarts after recoverable source errors (``RecoverableError*``), each a
  crash recovery from the checkpoint.
* **a purged binlog**: one check (``sources.mysql.binlog_position.require_available``), one
  outcome: the task fails (``FATAL_ERROR``) and the message says a reload is needed and how.
* **statistics**: per table in the replication store (full-load rows, CDC counts), CDC metrics.

Commit hooks (``CommitHook``): called after a batch's files are committed (the full load's, or a
CDC batch's) and before the checkpoint that covers them is saved. Current-state tables (Iceberg)
commit there, at the same points and position as the checkpoint.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from dersonlake import logs
from dersonlake.config import S3Settings
from dersonlake.errors import BadInput, DersonError, OperationFailed
from dersonlake.lake import Storage
from dersonlake.lake_checkpoint import CheckpointStore
from dersonlake.mapping import Plan, TaskSettings, parse_task_settings
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcCheckpoint, CdcOutcome, CdcState
from dersonlake.replication.cdc_metrics import CdcMeter
from dersonlake.replication.cdc_options import CdcStart, CdcStop, parse_start, parse_stop, resolve_start
from dersonlake.replication.cdc_stream import CdcStream, RetriesExhausted, reload_hint, run_with_retries
from dersonlake.replication.full_load import FullLoad, LoadOutcome, Progress
from dersonlake.replication.recoverable import Backoff
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import reconcile, record_status
from dersonlake.sources import BinlogPosition, Catalog, ConnectionParams, current_position, require_available

log = logs.component("TASK_MANAGER")
_log = logging.getLogger("dersonlake.TASK_MANAGER")

FULL_LOAD, CDC, FULL_LOAD_AND_CDC = "full-load", "cdc", "full-load-and-cdc"
MIGRATION_TYPES = (FULL_LOAD, CDC, FULL_LOAD_AND_CDC)


class TaskNotStartable(BadInput):
    """The task's status does not allow a start (DMS: ``InvalidResourceStateFault``)."""


class StartTypeNotAllowed(BadInput):
    """resume-processing / reload-target on a task that never ran (DMS:
    ``InvalidParameterCombinationException``)."""


@dataclass(frozen=True)
class CommittedBatch:
    """What a commit hook is given: files committed to the lake, not yet covered by a checkpoint.

    ``phase`` is ``full-load`` (the load's files; ``position`` is where CDC starts, None for a
    ``full-load`` task) or ``cdc`` (one CDC batch; the lake is current up to ``position``).
    ``files`` and ``changes`` are per source table (``schema.table``): the committed object keys,
    and for CDC the change counts (``inserts``/``updates``/``deletes``/``ddls``)."""

    task_arn: str
    phase: str
    position: BinlogPosition | None
    files: dict[str, list[str]]
    changes: dict[str, dict[str, int]] = field(default_factory=dict)


class CommitHook(Protocol):
    """Called once per committed batch, before its checkpoint is saved; raising fails the task
    (the checkpoint is not saved, so the batch is read again by the next run)."""

    def __call__(self, batch: CommittedBatch) -> None: ...


@dataclass
class TaskResources:
    """Where a task reads and writes, resolved from the owner's files (``owner_tasks.resources``)."""

    owner: str | None
    source: ConnectionParams
    storage: Storage
    s3: S3Settings
    discover: Callable[[], Catalog]
    plan: Callable[[Catalog, str], Plan]  # the mapping over a catalog, for a phase's migration type
    checkpoint: CheckpointStore | None  # the owner's lake checkpoint (None: the task row's only)
    progress: Progress | None = None


@dataclass(frozen=True)
class StartRequest:
    """One ``StartReplicationTask``: the start type and this start's own options."""

    start_type: str
    cdc_start: CdcStart | None = None  # CdcStartPosition / CdcStartTime given now (else the task's)
    stop_at: CdcStop | None = None  # CdcStopPosition given now (else the task's)
    blocking: bool = False  # CDC streams until stop() / stop_at; else it ends at the source's "now"
    stop_after_full_load: bool = False  # ``load`` of a CDC owner: StopTaskCachedChangesNotApplied
    only: frozenset[tuple[str, str]] | None = None  # ReloadTables: load just these tables


@dataclass
class TaskResult:
    arn: str
    identifier: str
    start_type: str
    status: str
    stop_reason: str | None
    full_load: LoadOutcome | None = None
    cdc: CdcOutcome | None = None
    restarts: int = 0
    seconds: float = 0.0
    failure: str | None = None


class ReplicationTask:
    """Task ``arn`` of ``store``, run in this process (see the module docstring)."""

    def __init__(
        self,
        store: ReplicationStore,
        arn: str,
        resources: TaskResources,
        *,
        commit_hooks: Sequence[CommitHook] = (),
        on_running: Callable[[ReplicationTask], None] | None = None,
    ) -> None:
        row = store.task(arn)
        if row is None:
            raise BadInput("no such replication task", value=arn)
        self.store = store
        self.arn = row["arn"]
        self.identifier = row["identifier"]
        self.resources = resources
        self.commit_hooks = list(commit_hooks)
        self.on_running = on_running  # told once the task is ``running`` (e.g. to report its lag)
        self.cdc_running = threading.Event()  # set while the CDC phase reads the binlog
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._load: FullLoad | None = None

    # -- requests from other threads ---------------------------------------------------------------
    def stop(self) -> None:
        """StopReplicationTask: ``stopping`` now, ``stopped`` (NORMAL) at the next safe point."""
        self._stop.set()
        row = self.store.task(self.arn)
        if row is not None and row["status"] in (status.STARTING, status.RUNNING):
            record_status(self.store, self.arn, status.STOPPING)
        with self._lock:
            load = self._load
        if load is not None:
            load.stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the run -----------------------------------------------------------------------------------
    def check_start(self, start_type: str) -> None:
        """Raise ``TaskNotStartable`` / ``StartTypeNotAllowed`` / ``BadInput`` when a start is refused."""
        reconcile(self.store, self.arn)
        row = self.store.task(self.arn)
        if start_type not in status.START_TYPES:
            raise BadInput(
                "not a valid StartReplicationTaskType", value=start_type, allowed=status.START_TYPES
            )
        if row["status"] not in (status.READY, status.STOPPED, status.FAILED):
            raise TaskNotStartable(
                f"Replication task {row['identifier']} is {row['status']}; "
                "only a ready, stopped or failed task can be started",
                value=row["identifier"],
            )
        if start_type != status.START_REPLICATION and row["start_date"] is None:
            raise StartTypeNotAllowed(
                f"{start_type} needs a task that has run before; use start-replication the first time",
                value=start_type,
            )

    def start(self, request: StartRequest) -> TaskResult:
        """Start the task and run it to its end (or ``stop()``) in this thread.

        Raises what ``check_start`` raises before anything changes; after that, a failure is
        recorded on the task (``failed``) and re-raised (``DersonError`` subclasses keep their exit
        code), and the returned result says how the task stopped."""
        self.check_start(request.start_type)
        began = time.monotonic()
        row = self.store.task(self.arn)
        settings = parse_task_settings(row["settings"], file="ReplicationTaskSettings")
        logs.apply_task_severities(row["settings"])  # Logging.LogComponents[].Severity
        now = time.time()
        fresh = request.start_type != status.RESUME_PROCESSING
        log.info("task %s starting (%s)", self.identifier, request.start_type, extra=self._context(row))
        record_status(
            self.store,
            self.arn,
            status.STARTING,
            pid=os.getpid(),
            start_date=now,
            **({"fresh_start_date": now} if fresh else {}),
            **({"cdc_stop_position": str(request.stop_at)} if request.stop_at else {}),
        )
        result = TaskResult(self.arn, self.identifier, request.start_type, status.STARTING, None)
        try:
            self._run(request, settings, result, now)
        except KeyboardInterrupt:
            self._end(result, status.STOPPED, status.STOP_NORMAL)
            raise
        except RetriesExhausted as exc:
            self._fail(result, str(exc), fatal=False)
            raise
        except DersonError as exc:
            self._fail(result, str(exc), fatal=True)
            raise
        except BaseException as exc:
            self._fail(result, f"{type(exc).__name__}: {exc}", fatal=True)
            raise
        finally:
            result.seconds = time.monotonic() - began
        return result

    def _run(self, request: StartRequest, settings: TaskSettings, result: TaskResult, now: float) -> None:
        row = self.store.task(self.arn)
        migration = row["migration_type"]
        if migration not in MIGRATION_TYPES:
            raise BadInput("not a MigrationType", value=migration, allowed=MIGRATION_TYPES)
        cdc = migration != FULL_LOAD
        res = self.resources
        catalog = res.discover()
        res.storage.check_writable()
        full = migration != CDC and (
            not cdc  # a full-load task resumed loads what is left (maybe nothing)
            or request.start_type != status.RESUME_PROCESSING
            or row["full_load_finish"] is None
            or request.only is not None
        )
        until: BinlogPosition | None = None
        some = request.only is not None  # ReloadTables: the checkpoint stays (handoff marks skip)
        if full:
            cdc_from = self._cdc_start_before_load(row, request) if cdc and not some else None
            if not cdc and not some and request.start_type != status.RESUME_PROCESSING:
                self._forget_checkpoint()  # a reloaded lake is not current up to the old one
            record_status(
                self.store,
                self.arn,
                status.RUNNING,
                **(
                    {"full_load_start": time.time(), "full_load_finish": None}
                    if request.start_type != status.RESUME_PROCESSING or row["full_load_start"] is None
                    else {}
                ),
            )
            self._running()
            result.full_load = outcome = self._full_load(request, catalog, now)
            if self.stopping:  # StopReplicationTask: the load's committed units stay for a resume
                self._end(result, status.STOPPED, status.STOP_NORMAL)
                return
            if outcome.failure:  # STOP_TASK, or a table's retries exhausted: reported, not raised
                self._fail(result, outcome.failure, fatal=True)
                return
            if some:
                self._mark_reloaded(request.only or frozenset())
            else:
                self.store.update_task(self.arn, full_load_finish=time.time())
            self._committed_load(catalog, request, cdc_from)
            if not cdc:
                log.info("task %s stopped: full load finished", self.identifier, extra=self._context())
                self._end(result, status.STOPPED, status.STOP_FULL_LOAD_ONLY_FINISHED)
                return
            if not some and (request.stop_after_full_load or settings.stop_task_cached_changes_not_applied):
                # the next run applies the changes cached since the position recorded before the load
                self._end(result, status.STOPPED, status.STOP_AFTER_FULL_LOAD)
                return
            if not some and settings.stop_task_cached_changes_applied:
                until = current_position(res.source)  # the changes made while the load ran, then stop
        else:
            record_status(self.store, self.arn, status.RUNNING)
            self._running()
        if self.stopping:
            self._end(result, status.STOPPED, status.STOP_NORMAL)
            return
        self._cdc(
            request,
            settings,
            catalog,
            result,
            until,
            fresh_cdc=migration == CDC and request.start_type != status.RESUME_PROCESSING,
        )

    # -- full load -----------------------------------------------------------------------------------
    def _cdc_start_before_load(self, row: Any, request: StartRequest) -> BinlogPosition:
        """Where CDC starts after this full load: the source's position before it (nothing made
        during the load is lost). The lake's checkpoint is forgotten first: were the load to fail
        halfway, no delta may apply changes onto a half-loaded lake. A resumed load keeps the
        position its first attempt recorded."""
        state = CdcState(self.store)
        self._settle_uncovered(None)
        if request.start_type == status.RESUME_PROCESSING and row["cdc_start_position"]:
            try:
                return BinlogPosition.parse(row["cdc_start_position"])
            except BadInput:
                pass
        position = current_position(self.resources.source)
        if self.resources.checkpoint is not None:
            self.resources.checkpoint.clear()
        state.clear(self.arn)
        self.store.update_task(self.arn, cdc_start_position=str(position), recovery_checkpoint=None)
        return position

    def _forget_checkpoint(self) -> None:
        """The lake's checkpoint goes (the task's own record stays, marked as saved in the lake)."""
        if self.resources.checkpoint is not None:
            self.resources.checkpoint.clear()

    def _mark_reloaded(self, tables: frozenset[tuple[str, str]]) -> None:
        """ReloadTables done: the tables it completed show ``FullLoadReloaded``."""
        states = {(r["schema_name"], r["table_name"]): r["state"] for r in self.store.table_stats(self.arn)}
        for schema, table in tables:
            if states.get((schema, table)) == status.TABLE_COMPLETED:
                self.store.set_table(self.arn, schema, table, reloaded=1)

    def _full_load(self, request: StartRequest, catalog: Catalog, now: float) -> LoadOutcome:
        plan = self.resources.plan(catalog, FULL_LOAD)
        if request.only is not None:
            plan = _only(plan, request.only)
        load = FullLoad(
            arn=self.arn,
            plan=plan,
            catalog=catalog,
            endpoint=self.resources.source,
            storage=self.resources.storage,
            s3=self.resources.s3,
            store=self.store,
            start_type=status.RESUME_PROCESSING if request.only is not None else request.start_type,
            progress=self.resources.progress,
            task_start=datetime.fromtimestamp(now, UTC),
        )
        with self._lock:
            self._load = load
        if self.stopping:
            load.stop()
        try:
            return load.run()
        finally:
            with self._lock:
                self._load = None

    def _committed_load(
        self, catalog: Catalog, request: StartRequest, cdc_from: BinlogPosition | None
    ) -> None:
        """The full load is committed: tell the hooks, then record where CDC starts."""
        plan = self.resources.plan(catalog, FULL_LOAD)
        files = {
            t.source: [k for _rows, keys in segs.values() for k in keys]
            for t in plan.tables
            if (segs := self.store.finished_segments(self.arn, t.source_schema, t.source_table))
        }
        self._hooks(CommittedBatch(self.arn, FULL_LOAD, cdc_from, files))
        if cdc_from is None:
            return
        old = CdcState(self.store).checkpoint(self.arn)  # keep the newest CDC names: they must grow
        self._save_checkpoint(CdcCheckpoint(cdc_from, old.stems if old else {}, saved=time.time()), {})

    # -- CDC ----------------------------------------------------------------------------------------------
    def _cdc(
        self,
        request: StartRequest,
        settings: TaskSettings,
        catalog: Catalog,
        result: TaskResult,
        until: BinlogPosition | None,
        *,
        fresh_cdc: bool,
    ) -> None:
        res = self.resources
        row = self.store.task(self.arn)
        self._position_checkpoint(row, request, fresh_cdc)
        stop_at = request.stop_at or parse_stop(row["cdc_stop_position"])
        if stop_at is not None and stop_at.kind == "server_time" and not request.blocking:
            # a bounded task waits for its server time, then reads what was committed by then
            # (up to the source's position now): STOPPED_AT_SERVER_TIME
            stop_at.wait(self._stop.is_set)
            blocking, read_stop = False, None
        else:  # a stream, or a commit_time stop ahead: read until it (or stop())
            blocking = request.blocking or (stop_at is not None and _in_future(stop_at))
            read_stop = stop_at
        if row["migration_type"] == CDC:
            plan = res.plan(catalog, CDC)
            self.store.register_cdc_tables(
                self.arn, [(t.source_schema, t.source_table, t.load_order) for t in plan.tables]
            )
        state = CdcState(self.store)
        meter = CdcMeter(self.store, self.arn)

        def make() -> CdcStream:
            now = res.discover()
            stream = CdcStream(
                arn=self.arn,
                plan=res.plan(now, CDC),
                replan=lambda c: res.plan(c, CDC),  # DDL during CDC: the rules over the new definition
                catalog=now,
                endpoint=res.source,
                storage=res.storage,
                s3=res.s3,
                store=self.store,
                stop=until,
                blocking=blocking and until is None,
                stop_at=read_stop,
                stop_requested=self._stop.is_set,
                meter=meter,
            )
            stream.on_commit = self._on_cdc_commit
            return stream

        self.cdc_running.set()
        try:
            done = run_with_retries(
                make,
                params=res.source,
                checkpoint=lambda: state.checkpoint(self.arn).position,
                backoff=Backoff.from_settings(settings.error_behavior),
                stop=self._stop,
                owner=res.owner,
                on_retry=lambda n, wait, cause: self.store.update_task(
                    self.arn, last_failure=f"restart {n}: {cause}"
                ),
            )
        finally:
            self.cdc_running.clear()
            meter.caught_up()
            meter.save(force=True)
        result.cdc, result.restarts = done.outcome, done.restarts
        reason = done.stop_reason or (
            status.STOP_NORMAL
            if self.stopping
            else status.STOP_AFTER_CACHED_EVENTS
            if until is not None
            else (stop_at.stop_reason if stop_at is not None else status.STOP_AT_SERVER_TIME)
        )
        if done.outcome.suspended and result.full_load is not None:
            result.full_load.tables_errored += len(done.outcome.suspended)
        log.info("task %s stopped: %s", self.identifier, reason, extra=self._context())
        self._end(result, status.STOPPED, reason)

    def _position_checkpoint(self, row: Any, request: StartRequest, fresh_cdc: bool) -> None:
        """Put the task's checkpoint where this CDC run starts, from the lake's checkpoint.

        In order: a start position given now (or, at a ``cdc`` task's fresh start, the task's own
        ``CdcStartPosition`` / ``CdcStartTime``), unless it is the lake's checkpoint itself (as
        DMS-intake passes it back); else the lake's checkpoint; else an older version's checkpoint
        in the task row (moved into the lake); else, for a ``cdc`` task, the source's position now.
        """
        res = self.resources
        state = CdcState(self.store)
        start = request.cdc_start
        if start is None and fresh_cdc and (row["cdc_start_position"] or row["cdc_start_time"]):
            when = row["cdc_start_time"]
            start = parse_start(row["cdc_start_position"], None if when is None else str(when))
        lake = self._lake_checkpoint()
        self._settle_uncovered(lake)
        old = lake or state.checkpoint(self.arn)
        if start is not None:
            position = resolve_start(res.source, start)
            if lake is not None and position == lake.position:
                self._save_checkpoint(lake, {})
                return
            require_available(res.source, position, reload_hint=reload_hint(res.owner))
            self._discard_uncovered()
            self._save_checkpoint(CdcCheckpoint(position, old.stems if old else {}, saved=time.time()), {})
            self.store.update_task(
                self.arn,
                cdc_start_position=str(position),
                cdc_start_time=start.time.timestamp() if start.time is not None else None,
            )
            return
        if lake is not None:
            self._save_checkpoint(lake, {})
            return
        if row["migration_type"] != CDC:
            where = res.checkpoint.location if res.checkpoint is not None else "the task"
            how = (
                f"derson-lake load {res.owner} --reload"
                if res.owner
                else "StartReplicationTask reload-target"
            )
            raise OperationFailed(
                f"task {self.identifier} has no CDC checkpoint at {where} (the lake was emptied, or "
                f"a full load did not finish): a reload is needed: {how} loads the tables and "
                "records where CDC starts"
            )
        position = resolve_start(res.source, None)
        self._save_checkpoint(CdcCheckpoint(position, old.stems if old else {}, saved=time.time()), {})

    def _lake_checkpoint(self) -> CdcCheckpoint | None:
        """The lake's checkpoint (None: there is none); an older version's checkpoint kept in the
        replication store under this task is moved into the lake first."""
        store = self.resources.checkpoint
        state = CdcState(self.store)
        if store is None:
            return state.checkpoint(self.arn)
        try:
            doc = store.load()
        except ValueError as exc:
            raise BadInput(str(exc), hint="docs/cdc.md, One task, one checkpoint") from None
        if doc is not None:
            return CdcCheckpoint.from_document(doc)
        legacy = state.checkpoint(self.arn)
        row = self.store.task(self.arn)
        if legacy is not None and not state.in_lake(self.arn):
            _log.warning(
                "task %s: moving its checkpoint %s from the replication store into the lake (%s)",
                row["identifier"],
                legacy.position,
                store.location,
            )
            self._save_checkpoint(legacy, {})
            return legacy
        return None

    def _save_checkpoint(self, cp: CdcCheckpoint, counts: dict[tuple[str, str], dict[str, int]]) -> None:
        """The lake's checkpoint first, then the task's (which forgets the covered file records).

        Killed between the two, the lake says more than the task: ``_settle_uncovered`` then
        knows the recorded files are covered (the lake names this task and a newer position)."""
        if self.resources.checkpoint is not None:
            self.resources.checkpoint.save(str(cp.position), self.arn, cdc=cp.to_document())
        CdcState(self.store).save(self.arn, cp, counts, in_lake=self.resources.checkpoint is not None)

    def _on_cdc_commit(
        self, cp: CdcCheckpoint, files: dict[str, list[str]], counts: dict[tuple[str, str], dict[str, int]]
    ) -> None:
        """A CDC batch is committed (``CdcCapture._checkpoint``): hooks, then the checkpoints."""
        changes = {f"{s}.{t}": dict(c) for (s, t), c in counts.items()}
        self._hooks(CommittedBatch(self.arn, CDC, cp.position, files, changes))
        self._save_checkpoint(cp, counts)

    def _hooks(self, batch: CommittedBatch) -> None:
        for hook in self.commit_hooks:
            hook(batch)

    def _settle_uncovered(self, lake: CdcCheckpoint | None) -> None:
        """CDC files recorded by this owner's tasks and not covered by a checkpoint: removed (their
        changes are read again), unless the lake's checkpoint covers them (the task was killed
        between saving the lake's checkpoint and its own)."""
        state = CdcState(self.store)
        doc_task = self._lake_task() if lake is not None else None
        for task in self._owner_tasks():
            keys = state.uncovered(task)
            if not keys:
                continue
            own = state.checkpoint(task)
            if lake is not None and doc_task == task and (own is None or own.position != lake.position):
                state.forget(task, keys)
                continue
            self.resources.storage.delete(keys)
            state.forget(task, keys)
            _log.info("removed %d CDC file(s) written after the last checkpoint", len(keys))

    def _discard_uncovered(self) -> None:
        state = CdcState(self.store)
        for task in self._owner_tasks():
            keys = state.uncovered(task)
            if keys:
                self.resources.storage.delete(keys)
                state.forget(task, keys)

    def _lake_task(self) -> str | None:
        store = self.resources.checkpoint
        doc = store.load() if store is not None else None
        return doc.get("task") if doc else None

    def _owner_tasks(self) -> list[str]:
        """This task and the other tasks of its owner (one lake, one checkpoint)."""
        owner = self.store.task(self.arn)["owner"]
        tasks = self.store.tasks() if owner else []
        return [self.arn, *(t["arn"] for t in tasks if t["owner"] == owner and t["arn"] != self.arn)]

    def discard_uncovered(self) -> int:
        """Before the task is deleted: remove its CDC files past its last checkpoint.

        A CDC run that failed leaves such files for its next run to remove (their changes are read
        again from the checkpoint); once the task is gone nobody would, and the owner's next task,
        started from the saved checkpoint, would write those changes a second time."""
        state = CdcState(self.store)
        keys = state.uncovered(self.arn)
        if keys:
            self.resources.storage.delete(keys)
            state.forget(self.arn, keys)
            _log.info("removed %d CDC file(s) past the checkpoint of task %s", len(keys), self.arn)
        return len(keys)

    # -- status ---------------------------------------------------------------------------------------
    def _running(self) -> None:
        if self.on_running is not None:
            self.on_running(self)

    def _end(self, result: TaskResult, new_status: str, reason: str) -> None:
        record_status(self.store, self.arn, new_status, stop_reason=reason, stop_date=time.time(), pid=None)
        result.status, result.stop_reason = new_status, reason

    def _fail(self, result: TaskResult, message: str, *, fatal: bool) -> None:
        message = message.splitlines()[0] if message else "failed"
        log.error("task %s failed: %s", self.identifier, message, extra=self._context())
        reason = status.STOP_FATAL_ERROR if fatal else status.STOP_RECOVERABLE_ERROR
        record_status(
            self.store,
            self.arn,
            status.FAILED,
            last_failure=message,
            stop_reason=reason,
            stop_date=time.time(),
            pid=None,
        )
        result.status, result.stop_reason, result.failure = status.FAILED, reason, message

    def _context(self, row: Any = None) -> dict[str, Any]:
        row = row or self.store.task(self.arn)
        return {"owner": row["owner"], "task": row["identifier"]} if row else {}


def _in_future(stop: CdcStop) -> bool:
    return stop.time is not None and stop.time > datetime.now(UTC)


def _only(plan: Plan, tables: frozenset[tuple[str, str]]) -> Plan:
    """The plan narrowed to ``tables`` (ReloadTables)."""
    import dataclasses

    return dataclasses.replace(
        plan, tables=tuple(t for t in plan.tables if (t.source_schema, t.source_table) in tables)
    )
