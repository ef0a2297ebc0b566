"""The owner's CDC task, shared by ``load --delta`` (bounded) and ``stream`` (continuous).

Where CDC starts, in order: a ``--cdc-start-position`` / ``--cdc-start-time`` given now (DMS's
StartReplicationTask options; files written after the last checkpoint are removed first); else the
task's checkpoint; else, for migration type ``cdc``, the source's position now; else (the first
``full-load-and-cdc`` run) a full load, with the position recorded before it starts.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dersonlake.errors import OperationFailed
from dersonlake.replication.cdc_options import CdcStart, CdcStop


@dataclass
class CdcTaskResult:
    full: Any  # LoadResult of the first full load, or None
    outcome: Any  # CdcOutcome
    stop_reason: str | None
    restarts: int
    arn: str


def cdc_owner_task(
    owner: str,
    owners_dir: Path | None,
    *,
    start: CdcStart | None = None,
    stop_at: CdcStop | None = None,
    blocking: bool = False,
    stop: threading.Event | None = None,
    on_started: Callable[[str, Any], None] | None = None,
) -> CdcTaskResult:
    """Run the owner's CDC task once (bounded up to the source's position now, or streaming until
    ``stop`` is set or ``stop_at`` is reached) and record its status and stop reason."""
    from dersonlake.cli.load_cmd import load_owner_task, raise_for_outcome
    from dersonlake.config import load_owner
    from dersonlake.home import derson_home
    from dersonlake.replication import status
    from dersonlake.replication.cdc import CdcCheckpoint, CdcState
    from dersonlake.replication.cdc_metrics import CdcMeter
    from dersonlake.replication.cdc_options import resolve_start
    from dersonlake.replication.cdc_stream import (
        CdcStream,
        RetriesExhausted,
        check_not_purged,
        run_with_retries,
    )
    from dersonlake.replication.owner_run import prepare
    from dersonlake.replication.recoverable import Backoff
    from dersonlake.replication.store import ReplicationStore
    from dersonlake.replication.task import create_task, reconcile
    from dersonlake.sources.mysql.binlog_position import current_position
    from dersonlake.sources.mysql.preflight import preflight, require_ready

    stop = stop or threading.Event()
    run = prepare(load_owner(owner, owners_dir))
    params = run.source()
    require_ready(preflight(params, cdc=True, schemas=run.owner.source.databases), params.address)
    store = ReplicationStore(derson_home() / "replication.sqlite")
    state = CdcState(store)
    ident = run.task_identifier
    reconcile(store, ident)
    row = store.task(ident)
    if row is not None and row["status"] in (status.STARTING, status.RUNNING, status.STOPPING):
        raise OperationFailed(
            f"task {ident} of owner {owner} is {row['status']} in process {row['pid']}; "
            "stop that process first (one run of a task at a time)"
        )
    only_cdc = start is not None or run.owner.migration_type == "cdc"
    full = None
    if row is None and only_cdc:
        create_task(
            store,
            ident,
            migration_type="cdc",
            table_mappings=json.dumps(run.owner.mapping),
            settings_json=run.settings.to_json(),
            owner=owner,
        )
        row = store.task(ident)
    checkpoint = state.checkpoint(row["arn"]) if row is not None else None
    if start is not None or (only_cdc and checkpoint is None):
        arn = row["arn"]
        position = resolve_start(params, start)
        check_not_purged(params, position, owner)
        leftovers = state.uncovered(arn)  # files past the old checkpoint: gone before it is replaced
        if leftovers:
            run.storage().delete(leftovers)
            state.forget(arn, leftovers)
        state.save(arn, CdcCheckpoint(position, checkpoint.stems if checkpoint else {}), {})
        store.update_task(
            arn,
            cdc_start_position=str(position),
            cdc_start_time=start.time.timestamp() if start is not None and start.time is not None else None,
        )
    elif checkpoint is None:
        first = current_position(params)
        full = load_owner_task(owner, owners_dir)
        raise_for_outcome(full)
        state.save(full.arn, CdcCheckpoint(first), {})
        store.update_task(full.arn, cdc_start_position=str(first))
        row = store.task(ident)
    arn = row["arn"]
    store.update_task(
        arn,
        migration_type="cdc" if row["migration_type"] == "cdc" else "full-load-and-cdc",
        status=status.RUNNING,
        stop_reason=None,
        last_failure=None,
        pid=os.getpid(),
        start_date=time.time(),
        stop_date=None,
        cdc_stop_position=str(stop_at) if stop_at else None,
    )
    if on_started is not None:
        on_started(arn, store)
    meter = CdcMeter(store, arn)

    def make() -> CdcStream:
        catalog = run.catalog(params)
        return CdcStream(
            arn=arn,
            plan=run.plan(catalog, "cdc"),
            catalog=catalog,
            endpoint=params,
            storage=run.storage(),
            s3=run.s3,
            store=store,
            blocking=blocking,
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
        result = run_with_retries(
            make,
            params=params,
            checkpoint=lambda: state.checkpoint(arn).position,
            backoff=Backoff.from_settings(run.settings.error_behavior),
            stop=stop,
            owner=owner,
            on_retry=lambda n, wait, cause: store.update_task(arn, last_failure=f"restart {n}: {cause}"),
        )
    except RetriesExhausted as exc:
        fail(exc, status.STOP_RECOVERABLE_ERROR)
        raise
    except KeyboardInterrupt:
        store.update_task(arn, status=status.STOPPED, stop_reason=status.STOP_NORMAL, stop_date=time.time())
        raise
    except BaseException as exc:
        fail(exc, status.STOP_FATAL_ERROR)
        raise
    finally:
        meter.caught_up()
        meter.save(force=True)
    reason = result.stop_reason or status.STOP_AT_SERVER_TIME  # a bounded delta ends at "now"
    cp = result.outcome.checkpoint
    store.update_task(
        arn,
        status=status.STOPPED,
        stop_reason=reason,
        stop_date=time.time(),
        pid=None,
        **({"cdc_stop_position": str(cp.position)} if cp is not None and not stop_at else {}),
    )
    return CdcTaskResult(full, result.outcome, reason, result.restarts, arn)


def start_options(
    position: str | None, start_time: str | None, stop_position: str | None
) -> tuple[CdcStart | None, CdcStop | None]:
    """The CLI's ``--cdc-*`` options, validated (``BadInput`` names the option)."""
    from dersonlake.replication.cdc_options import parse_start, parse_stop

    start = parse_start(
        position, start_time, position_option="--cdc-start-position", time_option="--cdc-start-time"
    )
    stop = parse_stop(stop_position, option="--cdc-stop-position")
    return start, stop
