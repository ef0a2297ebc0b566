"""A replication task: DMS's unit of work, run by this process.

``create_task`` registers a task (``ready``) with its table mappings and merged settings;
``run_task`` takes it through ``starting`` -> ``running`` -> ``stopped`` (with DMS's stop reason)
or ``failed`` (with ``LastFailureMessage``), doing the work in the foreground. The CLI's
``derson-lake load`` and the local DMS API both drive tasks through these two functions, so a task
behaves the same whichever way it is started.

A ``cdc`` or ``full-load-and-cdc`` task runs here only with a ``CdcStopPosition``: that is what the
seed's delta runs create (``server_time:<now>``), so the task ends by itself
(``STOPPED_AT_SERVER_TIME``) and its ``RecoveryCheckpoint`` is where the next run starts (dms.md §5.1,
§5.3); continuous capture is ``derson-lake stream``.

A task killed without warning (SIGKILL, power loss) stays ``running`` in the store; the next reader
notices that its process is gone and reports it ``failed``, and ``resume-processing`` continues it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from dersonlake import logs
from dersonlake.config.s3_settings import S3Settings
from dersonlake.errors import BadInput, DersonError, OperationFailed
from dersonlake.lake.storage import Storage
from dersonlake.mapping import Plan
from dersonlake.processes import pid_alive
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcRun, CdcState
from dersonlake.replication.cdc_options import parse_start, parse_stop, resolve_start
from dersonlake.replication.full_load import FullLoad, LoadOutcome, Progress
from dersonlake.replication.store import ReplicationStore
from dersonlake.sources.catalog import Catalog
from dersonlake.sources.mysql.binlog_position import BinlogPosition, current_position
from dersonlake.sources.mysql.connection import ConnectionParams

log = logs.component("TASK_MANAGER")

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"


def task_arn(region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    """A task ARN with a random 26-character id, as AWS makes them (``task:K55IUCGB...``)."""
    alphabet = string.ascii_uppercase + string.digits
    return f"arn:aws:dms:{region}:{account}:task:" + "".join(secrets.choice(alphabet) for _ in range(26))


def check_identifier(identifier: str, what: str = "ReplicationTaskIdentifier", limit: int = 255) -> str:
    """DMS identifier rules: letters, digits, hyphens; a letter first; no ``--`` or trailing ``-``."""
    ok = (
        0 < len(identifier) <= limit
        and identifier[0].isalpha()
        and all(c.isalnum() or c == "-" for c in identifier)
        and "--" not in identifier
        and not identifier.endswith("-")
    )
    if not ok:
        raise BadInput(
            f"{what} must be 1-{limit} letters, digits or hyphens, start with a letter, "
            "and contain no '--' or trailing '-'",
            path=what,
            value=identifier,
        )
    return identifier


def create_task(
    store: ReplicationStore,
    identifier: str,
    *,
    migration_type: str,
    table_mappings: str,
    settings_json: str,
    owner: str | None = None,
    source_endpoint_arn: str | None = None,
    target_endpoint_arn: str | None = None,
    instance_arn: str | None = None,
    cdc_start_position: str | None = None,
    cdc_stop_position: str | None = None,
    arn: str | None = None,
) -> str:
    """Register a task in status ``ready``; returns its ARN."""
    check_identifier(identifier)
    if store.task(identifier) is not None:
        raise BadInput(
            "a replication task with this identifier already exists",
            value=identifier,
            hint="Delete it first or use another identifier",
        )
    arn = arn or task_arn()
    store.insert_task(
        {
            "arn": arn,
            "identifier": identifier,
            "owner": owner,
            "migration_type": migration_type,
            "status": status.READY,
            "table_mappings": table_mappings,
            "settings": settings_json,
            "source_endpoint_arn": source_endpoint_arn,
            "target_endpoint_arn": target_endpoint_arn,
            "instance_arn": instance_arn,
            "cdc_start_position": cdc_start_position,
            "cdc_stop_position": cdc_stop_position,
        }
    )
    return arn


def reconcile(store: ReplicationStore, arn: str) -> None:
    """Mark a task ``failed`` when the process running it is gone (killed without a chance to say so)."""
    row = store.task(arn)
    if row is None or row["status"] not in (status.STARTING, status.RUNNING, status.STOPPING):
        return
    pid = row["pid"]
    if pid and not pid_alive(pid):
        store.update_task(
            row["arn"],
            status=status.FAILED,
            stop_reason=status.STOP_RECOVERABLE_ERROR,
            stop_date=time.time(),
            last_failure=f"the task process (pid {pid}) ended without stopping the task; resume it",
        )


@dataclass
class TaskRun:
    """What ``run_task`` needs besides the stored task: where to read, where to write, how to plan."""

    source: ConnectionParams
    storage: Storage
    s3: S3Settings
    discover: Callable[[], Catalog]
    plan: Callable[[Catalog], Plan]
    progress: Progress | None = None
    started: Callable[[FullLoad], None] | None = None  # told the load once it exists (to stop it)
    stopping: Callable[[], bool] = lambda: False  # StopReplicationTask asked (checked in CDC waits)


def run_task(store: ReplicationStore, arn: str, start_type: str, run: TaskRun) -> LoadOutcome:
    """Start task ``arn`` with ``start_type`` and run it to its end in this process."""
    reconcile(store, arn)
    row = store.task(arn)
    if row is None:
        raise BadInput("no such replication task", value=arn)
    if start_type not in status.START_TYPES:
        raise BadInput("not a valid StartReplicationTaskType", value=start_type, allowed=status.START_TYPES)
    if row["status"] not in (status.READY, status.STOPPED, status.FAILED):
        raise BadInput(
            f"the task is {row['status']}; only a ready, stopped or failed task can be started",
            value=row["identifier"],
        )
    if start_type != status.START_REPLICATION and row["start_date"] is None:
        raise BadInput(
            f"{start_type} needs a task that has run before; use start-replication the first time",
            value=start_type,
        )
    now = time.time()
    fresh = start_type != status.RESUME_PROCESSING
    logs.apply_task_severities(row["settings"])  # Logging.LogComponents[].Severity
    context = {"owner": row["owner"], "task": row["identifier"]}
    log.info("task %s starting (%s)", row["identifier"], start_type, extra=context)
    store.update_task(
        arn,
        status=status.STARTING,
        stop_reason=None,
        last_failure=None,
        pid=os.getpid(),
        start_date=now,
        stop_date=None,
        **({"fresh_start_date": now, "full_load_start": None, "full_load_finish": None} if fresh else {}),
    )
    cdc = row["migration_type"] in ("cdc", "full-load-and-cdc")
    try:
        catalog = run.discover()
        plan = run.plan(catalog)
        run.storage.check_writable()
        stop = parse_stop(row["cdc_stop_position"]) if cdc else None
        if cdc and stop is None:
            raise BadInput(
                "a cdc or full-load-and-cdc task run by derson-lake needs a CdcStopPosition "
                "(server_time:<ISO> or commit_time:<ISO>)",
                path="CdcStopPosition",
                hint="Give one at CreateReplicationTask/StartReplicationTask, or stream changes "
                "continuously with `derson-lake stream <owner>`",
            )
        cdc_from = _cdc_start(store, arn, row, run, start_type) if cdc else None
        store.update_task(
            arn,
            status=status.RUNNING,
            **({"full_load_start": time.time()} if fresh or row["full_load_start"] is None else {}),
        )
        outcome = LoadOutcome()
        if row["migration_type"] != "cdc":
            load = FullLoad(
                arn=arn,
                plan=plan,
                catalog=catalog,
                endpoint=run.source,
                storage=run.storage,
                s3=run.s3,
                store=store,
                start_type=start_type,
                progress=run.progress,
                task_start=datetime.fromtimestamp(now, UTC),
            )
            if run.started is not None:
                run.started(load)
            outcome = load.run()
            if not outcome.failure:
                store.update_task(arn, full_load_finish=time.time())
        if cdc and stop is not None and not outcome.failure and not run.stopping():
            if row["migration_type"] == "cdc":
                store.register_cdc_tables(
                    arn, [(t.source_schema, t.source_table, t.load_order) for t in plan.tables]
                )
            stop.wait(run.stopping)
            cdc_outcome = CdcRun(
                arn=arn,
                plan=plan,
                catalog=catalog,
                endpoint=run.source,
                storage=run.storage,
                s3=run.s3,
                store=store,
                start=cdc_from,
                stop=current_position(run.source),
                replan=run.plan,  # DDL during CDC: the rules over the new definition
            ).run()
            if cdc_outcome.suspended:
                outcome.tables_errored += len(cdc_outcome.suspended)
    except DersonError as exc:
        _fail(store, arn, str(exc), fatal=not isinstance(exc, OperationFailed))
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            store.update_task(
                arn, status=status.STOPPED, stop_reason=status.STOP_NORMAL, stop_date=time.time()
            )
        else:
            _fail(store, arn, f"{type(exc).__name__}: {exc}", fatal=True)
        raise
    if outcome.failure:
        _fail(store, arn, outcome.failure, fatal=True)
    elif cdc and stop is not None:
        log.info("task %s stopped: %s", row["identifier"], stop.stop_reason, extra=context)
        store.update_task(arn, status=status.STOPPED, stop_reason=stop.stop_reason, stop_date=time.time())
    else:
        log.info("task %s stopped: full load finished", row["identifier"], extra=context)
        store.update_task(
            arn,
            status=status.STOPPED,
            stop_reason=status.STOP_FULL_LOAD_ONLY_FINISHED,
            stop_date=time.time(),
            full_load_finish=time.time(),
        )
    return outcome


def _cdc_start(
    store: ReplicationStore, arn: str, row: sqlite3.Row, run: TaskRun, start_type: str
) -> BinlogPosition | None:
    """Where the task's CDC starts; None: at its saved checkpoint (resume-processing).

    A fresh start forgets the checkpoint: ``full-load-and-cdc`` starts at the source's position
    before the full load (so no change made during the load is lost), ``cdc`` at its
    ``CdcStartPosition`` or, without one, now.
    """
    state = CdcState(store)
    if start_type == status.RESUME_PROCESSING and state.checkpoint(arn) is not None:
        return None
    state.clear(arn)
    if row["migration_type"] == "cdc" and (row["cdc_start_position"] or row["cdc_start_time"]):
        # file:pos, the checkpoint: form, a GTID or a time (cdc_options), resolved on the source
        when = row["cdc_start_time"]
        start = parse_start(row["cdc_start_position"], None if when is None else str(when))
        return resolve_start(run.source, start)
    return current_position(run.source)


def _fail(store: ReplicationStore, arn: str, message: str, *, fatal: bool) -> None:
    row = store.task(arn)
    context = {"owner": row["owner"], "task": row["identifier"]} if row else {}
    log.error("task %s failed: %s", context.get("task", arn), message, extra=context)
    store.update_task(
        arn,
        status=status.FAILED,
        last_failure=message,
        stop_date=time.time(),
        stop_reason=status.STOP_FATAL_ERROR if fatal else status.STOP_RECOVERABLE_ERROR,
    )
