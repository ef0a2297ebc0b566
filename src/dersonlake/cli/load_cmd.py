"""``derson-lake load <owner>``: one replication task for the owner, in the foreground."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from dersonlake.cli.main import app
from dersonlake.errors import BadInput, OperationFailed
from dersonlake.replication.full_load import LoadOutcome
from dersonlake.replication.owner_run import OwnerRun
from dersonlake.replication.store import ReplicationStore


@dataclass
class LoadResult:
    run: OwnerRun
    store: ReplicationStore
    arn: str
    start_type: str
    outcome: LoadOutcome
    seconds: float


def load_owner_task(
    owner: str, owners_dir: Path | None, *, resume: bool = False, reload: bool = False
) -> LoadResult:
    """Run the owner's full-load task once (creating it the first time), with progress on stderr."""
    from dersonlake.cli.progress import progress_for
    from dersonlake.config import load_owner
    from dersonlake.home import derson_home
    from dersonlake.replication import status
    from dersonlake.replication.owner_run import prepare
    from dersonlake.replication.task import TaskRun, create_task, reconcile, run_task

    if resume and reload:
        raise BadInput("--resume and --reload exclude each other", path="load")
    run = prepare(load_owner(owner, owners_dir))
    params = run.source()
    storage = run.storage()
    store = ReplicationStore(derson_home() / "replication.sqlite")
    ident = run.task_identifier
    reconcile(store, ident)
    row = store.task(ident)
    mappings, settings = json.dumps(run.owner.mapping), run.settings.to_json()
    if row is None:
        if resume:
            raise BadInput(
                f"owner {owner} has no earlier run to resume",
                path="--resume",
                hint="Run `derson-lake load` without --resume first",
            )
        arn = create_task(
            store,
            ident,
            migration_type="full-load",
            table_mappings=mappings,
            settings_json=settings,
            owner=owner,
        )
    else:
        arn = row["arn"]
        if not resume:  # the owner's files may have changed since the last run (ModifyReplicationTask)
            store.update_task(arn, table_mappings=mappings, settings=settings)
        store.update_task(arn, migration_type="full-load")  # a --delta run made it full-load-and-cdc
    first = row is None or row["start_date"] is None
    start_type = (
        status.START_REPLICATION if first else (status.RESUME_PROCESSING if resume else status.RELOAD_TARGET)
    )
    started = time.monotonic()
    with progress_for() as progress:
        outcome = run_task(
            store,
            arn,
            start_type,
            TaskRun(
                source=params,
                storage=storage,
                s3=run.s3,
                discover=lambda: run.catalog(params),
                plan=lambda catalog: run.plan(catalog, "full-load"),
                progress=progress,
            ),
        )
    return LoadResult(run, store, arn, start_type, outcome, time.monotonic() - started)


def raise_for_outcome(result: LoadResult) -> None:
    """Exit 1 (OperationFailed) when the task failed or a table was suspended."""
    from dersonlake.replication import status

    if result.outcome.failure:
        raise OperationFailed(f"task {result.run.task_identifier} failed: {result.outcome.failure}")
    if result.outcome.tables_errored:
        failed = [
            f"{r['schema_name']}.{r['table_name']}: {r['error']}"
            for r in result.store.table_stats(result.arn)
            if r["state"] == status.TABLE_ERROR
        ]
        raise OperationFailed(
            f"{result.outcome.tables_errored} table(s) suspended (Table error): " + "; ".join(failed)
        )


def delta_owner_task(owner: str, owners_dir: Path | None) -> tuple[LoadResult | None, Any]:
    """The seed's delta run: the first time a full load (its binlog position recorded before it
    starts, so no change is lost), then CDC from the task's checkpoint up to the source's position now.

    On MariaDB a change that lands during the full load is in the LOAD files or in the CDC files,
    never both (``replication.handoff``: each chunk's snapshot position); on MySQL 8 it may be in
    both, as with DMS. Either way the merged state is the source's at the end of the run.
    """
    from dersonlake.config import load_owner
    from dersonlake.home import derson_home
    from dersonlake.replication import status
    from dersonlake.replication.cdc import CdcCheckpoint, CdcRun, CdcState
    from dersonlake.replication.owner_run import prepare
    from dersonlake.sources.mysql.binlog_position import current_position
    from dersonlake.sources.mysql.preflight import preflight, require_ready

    run = prepare(load_owner(owner, owners_dir))
    params = run.source()
    require_ready(preflight(params, cdc=True, schemas=run.owner.source.databases), params.address)
    store = ReplicationStore(derson_home() / "replication.sqlite")
    state = CdcState(store)
    row = store.task(run.task_identifier)
    full = None
    if row is None or state.checkpoint(row["arn"]) is None:
        start = current_position(params)
        full = load_owner_task(owner, owners_dir)
        raise_for_outcome(full)
        state.save(full.arn, CdcCheckpoint(start), {})
        row = store.task(run.task_identifier)
    arn = row["arn"]
    store.update_task(
        arn,
        migration_type="full-load-and-cdc",
        status=status.RUNNING,
        stop_reason=None,
        start_date=time.time(),
        stop_date=None,
    )
    try:
        catalog = run.catalog(params)
        outcome = CdcRun(
            arn=arn,
            plan=run.plan(catalog, "cdc"),
            catalog=catalog,
            endpoint=params,
            storage=run.storage(),
            s3=run.s3,
            store=store,
            replan=lambda c: run.plan(c, "cdc"),  # DDL during CDC: the rules over the new definition
        ).run()
    except BaseException as exc:
        store.update_task(
            arn,
            status=status.FAILED,
            stop_reason=status.STOP_FATAL_ERROR,
            stop_date=time.time(),
            last_failure=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
        raise
    store.update_task(
        arn,
        status=status.STOPPED,
        stop_reason=status.STOP_AT_SERVER_TIME,
        stop_date=time.time(),
        cdc_stop_position=str(outcome.checkpoint.position) if outcome.checkpoint else None,
    )
    return full, outcome


@app.command()
def load(
    owner: str = typer.Argument(..., help="Owner name (a folder in the owners dir)"),
    resume: bool = typer.Option(False, "--resume", help="Continue the last run (DMS resume-processing)."),
    reload: bool = typer.Option(False, "--reload", help="Start over from scratch (DMS reload-target)."),
    delta: bool = typer.Option(
        False, "--delta", help="Changes since the last run (the first time: full load first)."
    ),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """Load every table of the owner's plan into the lake, as a DMS full-load task would.

    Running it again reloads from scratch; --resume continues a run that was stopped or killed,
    loading only the tables and segments it had not finished.
    """
    if delta:
        if resume or reload:
            raise BadInput(
                "--delta runs from the last checkpoint; it takes no --resume or --reload", path="--delta"
            )
        full, cdc = delta_owner_task(owner, owners_dir)
        if full is not None:
            typer.echo(
                f"{owner}: full load {full.outcome.rows:,} rows, {full.outcome.files} files; CDC starts here"
            )
        suspended = "; ".join(f"{t}: {why}" for t, why in cdc.suspended.items())
        typer.echo(
            f"{owner}: delta {cdc.changes:,} change(s) from {cdc.transactions:,} transaction(s) "
            f"in {cdc.files} file(s); checkpoint {cdc.checkpoint.position if cdc.checkpoint else '-'}"
        )
        if suspended:
            raise OperationFailed(f"table(s) suspended (Table error): {suspended}")
        return
    result = load_owner_task(owner, owners_dir, resume=resume, reload=reload)
    target = result.run.owner.target
    lake = target.uri if target.is_s3 else target.folder
    o = result.outcome
    typer.echo(
        f"{owner}: {o.tables_loaded} table(s) loaded, {o.rows:,} rows in {o.files} file(s) "
        f"into {lake} in {result.seconds:.1f}s ({result.start_type})"
    )
    raise_for_outcome(result)
