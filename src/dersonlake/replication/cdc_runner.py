"""Running an owner task's CDC phase for ``derson-lake load --delta`` and ``stream``: where it
starts, the run under the task's ``ErrorBehavior`` (restarts after source errors), and the task's
status and stop reason at the end. (The local DMS API's bounded CDC tasks run in ``task.run_task``.)

Where CDC starts, in order: a start option given now (``CdcStartPosition`` / ``CdcStartTime``: files
written after the last checkpoint are removed first, then the checkpoint moves there); else the
task's checkpoint, which the caller made before (after a full load); else the source's position now.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dersonlake.config.s3_settings import S3Settings
from dersonlake.lake.storage import Storage
from dersonlake.mapping import Plan, TaskSettings
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcCheckpoint, CdcOutcome, CdcState
from dersonlake.replication.cdc_metrics import CdcMeter
from dersonlake.replication.cdc_options import CdcStart, CdcStop, resolve_start
from dersonlake.replication.cdc_stream import CdcStream, RetriesExhausted, check_not_purged, run_with_retries
from dersonlake.replication.recoverable import Backoff
from dersonlake.replication.store import ReplicationStore
from dersonlake.sources.catalog import Catalog
from dersonlake.sources.mysql.binlog_position import BinlogPosition
from dersonlake.sources.mysql.connection import ConnectionParams


@dataclass
class CdcTaskRun:
    """What a CDC run needs besides the stored task (as ``TaskRun`` is for the full load)."""

    source: ConnectionParams
    storage: Storage
    s3: S3Settings
    settings: TaskSettings
    discover: Callable[[], Catalog]
    plan: Callable[[Catalog], Plan]
    owner: str | None = None


@dataclass
class CdcResult:
    outcome: CdcOutcome
    stop_reason: str
    restarts: int


def set_start(store: ReplicationStore, arn: str, run: CdcTaskRun, start: CdcStart | None) -> CdcCheckpoint:
    """Move the task's checkpoint to ``start`` (None: the source's position now), keeping each
    table's newest file name so names keep increasing; files past the old checkpoint go first."""
    state = CdcState(store)
    old = state.checkpoint(arn)
    position = resolve_start(run.source, start)
    check_not_purged(run.source, position, run.owner)
    leftovers = state.uncovered(arn)
    if leftovers:
        run.storage.delete(leftovers)
        state.forget(arn, leftovers)
    cp = CdcCheckpoint(position, old.stems if old else {})
    state.save(arn, cp, {})
    store.update_task(
        arn,
        cdc_start_position=str(position),
        cdc_start_time=start.time.timestamp() if start is not None and start.time is not None else None,
    )
    return cp


def run_cdc(
    store: ReplicationStore,
    arn: str,
    run: CdcTaskRun,
    *,
    start: CdcStart | None = None,
    stop_at: CdcStop | None = None,
    blocking: bool = False,
    stop: threading.Event | None = None,
    until: BinlogPosition | None = None,
    until_reason: str = status.STOP_AFTER_CACHED_EVENTS,
    on_running: Callable[[], None] | None = None,
) -> CdcResult:
    """Run task ``arn``'s CDC (bounded up to the source's position now, or streaming until ``stop``
    is set or ``stop_at`` is reached) and record its status: ``stopped`` with the stop reason, or
    ``failed`` (``FATAL_ERROR``, or ``RECOVERABLE_ERROR`` when the restarts ran out). ``until``
    bounds the read at a binlog position (the cached changes of a full load), ending with
    ``until_reason``."""
    stop = stop or threading.Event()
    state = CdcState(store)
    row = store.task(arn)
    store.update_task(
        arn,
        status=status.STARTING,
        stop_reason=None,
        last_failure=None,
        pid=os.getpid(),
        start_date=time.time(),
        stop_date=None,
        cdc_stop_position=str(stop_at) if stop_at else None,
    )
    meter = CdcMeter(store, arn)

    def make() -> CdcStream:
        catalog = run.discover()
        return CdcStream(
            arn=arn,
            plan=run.plan(catalog),
            replan=run.plan,  # DDL during CDC: the rules over the table's new definition
            catalog=catalog,
            endpoint=run.source,
            storage=run.storage,
            s3=run.s3,
            store=store,
            stop=until,
            blocking=blocking and until is None,
            stop_at=stop_at,
            stop_requested=stop.is_set,
            meter=meter,
        )

    def fail(exc: BaseException, reason: str) -> None:
        store.update_task(
            arn,
            status=status.FAILED,
            stop_reason=reason,
            stop_date=time.time(),
            pid=None,
            last_failure=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )

    try:
        if start is not None or state.checkpoint(arn) is None:
            set_start(store, arn, run, start)
        store.update_task(arn, status=status.RUNNING, migration_type=row["migration_type"])
        if on_running is not None:
            on_running()
        result = run_with_retries(
            make,
            params=run.source,
            checkpoint=lambda: state.checkpoint(arn).position,
            backoff=Backoff.from_settings(run.settings.error_behavior),
            stop=stop,
            owner=run.owner,
            on_retry=lambda n, wait, cause: store.update_task(arn, last_failure=f"restart {n}: {cause}"),
        )
    except RetriesExhausted as exc:
        fail(exc, status.STOP_RECOVERABLE_ERROR)
        raise
    except KeyboardInterrupt:
        store.update_task(
            arn, status=status.STOPPED, stop_reason=status.STOP_NORMAL, stop_date=time.time(), pid=None
        )
        raise
    except BaseException as exc:
        fail(exc, status.STOP_FATAL_ERROR)
        raise
    finally:
        meter.caught_up()
        meter.save(force=True)
    # a bounded run ends at the source's "now" (server time) or at ``until``
    reason = result.stop_reason or (until_reason if until is not None else status.STOP_AT_SERVER_TIME)
    cp = result.outcome.checkpoint
    store.update_task(
        arn,
        status=status.STOPPED,
        stop_reason=reason,
        stop_date=time.time(),
        pid=None,
        **({"cdc_stop_position": str(cp.position)} if cp is not None and not stop_at else {}),
    )
    return CdcResult(result.outcome, reason, result.restarts)
