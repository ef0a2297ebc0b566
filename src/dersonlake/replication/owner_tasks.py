"""An owner's replication task: what ``load``, ``load --delta`` and ``stream`` start, and the
resources a task of the local DMS API gets from its owner's files.

Each owner has one task on the command line (its identifier is the owner's name in DMS form),
created the first time and updated from the owner's files at every start, whose lake checkpoint
is the owner's (``dersonlake.lake_checkpoint``): the pipelines' tasks (``derson-<owner>``, created
and deleted by DMS-intake through the local DMS API) read and write the same one, so a change is
captured once whichever path runs next. The start type follows what the task and the lake say:

* ``load``: ``start-replication`` the first time, else ``reload-target`` (``--reload``, the default)
  or ``resume-processing`` (``--resume``). An owner whose migration type captures changes records
  where CDC starts and stops after the load (``STOPPED_AFTER_FULL_LOAD``): a later ``load --delta``
  captures every change made since, without a second full load.
* ``load --delta`` / ``stream``: ``start-replication`` the first time (a full load first, unless the
  owner is ``cdc`` or a start position is given); ``resume-processing`` while the lake has a
  checkpoint (or the full load is unfinished); ``reload-target`` when it has none (the lake was
  emptied): CDC from nowhere would lose changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from dersonlake.config import load_owner
from dersonlake.errors import BadInput, OperationFailed
from dersonlake.lake_checkpoint import CheckpointStore
from dersonlake.mapping import parse_mapping, parse_task_settings
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcState
from dersonlake.replication.cdc_options import CdcStart, CdcStop
from dersonlake.replication.full_load import Progress
from dersonlake.replication.prepared_owner import PreparedOwner, SandboxParams, prepare
from dersonlake.replication.replication_task import (
    CDC,
    FULL_LOAD,
    FULL_LOAD_AND_CDC,
    ReplicationTask,
    StartRequest,
    TaskResources,
)
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import create_task, reconcile


def resources(prepared: PreparedOwner, *, progress: Progress | None = None) -> TaskResources:
    """Source, lake, plan and checkpoint of an owner, for a task."""
    params = prepared.source()
    return TaskResources(
        owner=prepared.owner.name,
        source=params,
        storage=prepared.storage(),
        s3=prepared.s3,
        discover=lambda: prepared.catalog(params),
        plan=lambda catalog, migration_type: prepared.plan(catalog, migration_type),
        checkpoint=CheckpointStore(prepared.owner),
        progress=progress,
    )


def api_task(
    store: ReplicationStore, arn: str, owners_dir: str | Path | None, sandbox: SandboxParams | None = None
) -> ReplicationTask:
    """A task of the local DMS API: its own mappings and settings, its owner's source and lake.

    Raises ``DersonError`` when the owner's files cannot be read (the API answers
    ``InvalidParameterValueException``)."""
    row = store.task(arn)
    if row is None:
        raise BadInput("no such replication task", value=arn)
    if not row["owner"]:
        raise BadInput(
            f"replication task {row['identifier']} has no owner: create it with the tag "
            'derson-lake:owner (or TaskData {"owner": ...}) to say whose files it loads',
            value=row["identifier"],
        )
    prepared = PreparedOwner(
        load_owner(row["owner"], Path(owners_dir) if owners_dir else None),
        parse_mapping(row["table_mappings"], file="TableMappings"),
        parse_task_settings(row["settings"], file="ReplicationTaskSettings"),
        sandbox,
    )
    return ReplicationTask(store, arn, resources(prepared))


def discard_uncovered(
    store: ReplicationStore, arn: str, owners_dir: str | Path | None, sandbox: SandboxParams | None = None
) -> int:
    """Before a task of the local DMS API is deleted: remove its CDC files past its checkpoint
    (``ReplicationTask.discard_uncovered``); the owner's lake is opened only when there are some."""
    row = store.task(arn)
    if row is None or not row["owner"] or not CdcState(store).uncovered(row["arn"]):
        return 0
    return api_task(store, arn, owners_dir, sandbox).discard_uncovered()


def owner_task(
    store: ReplicationStore,
    owner: str,
    owners_dir: Path | None,
    *,
    delta: bool,
    explicit_start: bool = False,
    progress: Progress | None = None,
    on_running: Callable[[ReplicationTask], None] | None = None,
    sandbox: SandboxParams | None = None,
) -> ReplicationTask:
    """The owner's command-line task, created or updated from its files (and, for CDC, its source
    checked first: binlog format, privileges, retention). One run of it at a time."""
    from dersonlake.sources import preflight, require_ready

    prepared = prepare(load_owner(owner, owners_dir), sandbox)
    kind = prepared.owner.migration_type
    if delta:
        params = prepared.source()
        findings = preflight(
            params, cdc=True, schemas=prepared.owner.source.databases, full_load=kind == FULL_LOAD_AND_CDC
        )
        require_ready(findings, params.address)
    ident = prepared.task_identifier
    reconcile(store, ident)
    row = store.task(ident)
    if row is not None and row["status"] in (status.STARTING, status.RUNNING, status.STOPPING):
        raise OperationFailed(
            f"task {ident} of owner {owner} is {row['status']} in process {row['pid']}; "
            "stop that process first (one run of a task at a time)"
        )
    mappings, settings = json.dumps(prepared.owner.mapping), prepared.settings.to_json()
    if not delta:  # a task that captures changes goes on doing so: its reload records where CDC starts
        migration = row["migration_type"] if row is not None and kind == FULL_LOAD else kind
    elif row is not None and row["migration_type"] != FULL_LOAD:
        migration = row["migration_type"]  # a delta goes on as the task was
    elif kind == CDC or (row is None and explicit_start):
        migration = CDC
    else:
        migration = FULL_LOAD_AND_CDC  # changes need a full load to apply to
    if row is None:
        create_task(
            store,
            ident,
            migration_type=migration,
            table_mappings=mappings,
            settings_json=settings,
            owner=owner,
        )
    else:  # the owner's files may have changed since the last run (ModifyReplicationTask)
        store.update_task(
            row["arn"],
            table_mappings=mappings,
            settings=settings,
            migration_type=migration,
            cdc_stop_position=None,  # a command's own --cdc-stop-position, if any, is given at start
        )
    return ReplicationTask(store, ident, resources(prepared, progress=progress), on_running=on_running)


def load_request(task: ReplicationTask, *, resume: bool, reload: bool) -> StartRequest:
    """``derson-lake load [--resume|--reload]``."""
    if resume and reload:
        raise BadInput("--resume and --reload exclude each other", path="load")
    row = task.store.task(task.arn)
    first = row["start_date"] is None
    if resume and first:
        raise BadInput(
            f"owner {task.resources.owner} has no earlier run to resume",
            path="--resume",
            hint="Run `derson-lake load` without --resume first",
        )
    start_type = (
        status.START_REPLICATION if first else (status.RESUME_PROCESSING if resume else status.RELOAD_TARGET)
    )
    return StartRequest(start_type, stop_after_full_load=row["migration_type"] != FULL_LOAD)


def delta_request(
    task: ReplicationTask, *, start: CdcStart | None = None, stop_at: CdcStop | None = None, blocking: bool
) -> StartRequest:
    """``derson-lake load --delta`` (bounded: up to the source's position now) or ``stream``."""
    row = task.store.task(task.arn)
    if row["start_date"] is None:
        start_type = status.START_REPLICATION
    elif (
        start is not None
        or row["migration_type"] == CDC
        or _has_checkpoint(task)
        or row["full_load_finish"] is None
    ):
        start_type = status.RESUME_PROCESSING
    else:
        start_type = status.RELOAD_TARGET
    return StartRequest(start_type, cdc_start=start, stop_at=stop_at, blocking=blocking)


def _has_checkpoint(task: ReplicationTask) -> bool:
    """Whether CDC can resume: the lake has a checkpoint, or an older version left one in the store."""
    store = task.resources.checkpoint
    try:
        if store is not None and store.load() is not None:
            return True
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    state = CdcState(task.store)
    return state.checkpoint(task.arn) is not None and not state.in_lake(task.arn)
