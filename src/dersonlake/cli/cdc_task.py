"""The owner's CDC task, shared by ``load --delta`` (bounded) and ``stream`` (continuous).

Where CDC starts, in order: a ``--cdc-start-position`` / ``--cdc-start-time`` given now (DMS's
StartReplicationTask options; files written after the last checkpoint are removed first); else the
task's checkpoint; else, for migration type ``cdc``, the source's position now; else (the first
``full-load-and-cdc`` run) a full load, with the position recorded before it starts.
"""

from __future__ import annotations

import json
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
    from dersonlake.replication.cdc import CdcCheckpoint, CdcOutcome, CdcState
    from dersonlake.replication.cdc_runner import CdcTaskRun, run_cdc
    from dersonlake.replication.owner_run import prepare
    from dersonlake.replication.store import ReplicationStore
    from dersonlake.replication.task import create_task, reconcile
    from dersonlake.sources.mysql.binlog_position import current_position
    from dersonlake.sources.mysql.preflight import preflight, require_ready

    run = prepare(load_owner(owner, owners_dir))
    params = run.source()
    full_load = run.owner.migration_type == "full-load-and-cdc"
    findings = preflight(params, cdc=True, schemas=run.owner.source.databases, full_load=full_load)
    require_ready(findings, params.address)
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
    elif (row is None or state.checkpoint(row["arn"]) is None) and not only_cdc:
        first = current_position(params)  # before the load: no change made during it is lost
        full = load_owner_task(owner, owners_dir)
        raise_for_outcome(full)
        state.save(full.arn, CdcCheckpoint(first), {})
        store.update_task(full.arn, cdc_start_position=str(first))
    row = store.task(ident)
    arn = row["arn"]
    until = None
    if full is not None and run.settings.stop_task_cached_changes_not_applied:
        # FullLoadSettings.StopTaskCachedChangesNotApplied: stop after the load; the next run applies
        # the changes cached since the position recorded before it (dms.md §2, §5.3)
        store.update_task(
            arn,
            migration_type="full-load-and-cdc",
            status=status.STOPPED,
            stop_reason=status.STOP_AFTER_FULL_LOAD,
            stop_date=time.time(),
        )
        return CdcTaskResult(
            full, CdcOutcome(checkpoint=state.checkpoint(arn)), status.STOP_AFTER_FULL_LOAD, 0, arn
        )
    if full is not None and run.settings.stop_task_cached_changes_applied:
        until = current_position(params)  # the changes made while the load ran, then stop
    if row["migration_type"] == "full-load":
        store.update_task(arn, migration_type="full-load-and-cdc")
    task_run = CdcTaskRun(
        source=params,
        storage=run.storage(),
        s3=run.s3,
        settings=run.settings,
        discover=lambda: run.catalog(params),
        plan=lambda catalog: run.plan(catalog, "cdc"),
        owner=owner,
    )
    done = run_cdc(
        store,
        arn,
        task_run,
        start=start,
        stop_at=stop_at,
        blocking=blocking,
        stop=stop,
        until=until,
        on_running=(lambda: on_started(arn, store)) if on_started else None,
    )
    return CdcTaskResult(full, done.outcome, done.stop_reason, done.restarts, arn)


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
