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
    cdc_restart = None if resume or row is None else _cdc_restart_point(store, arn, params)
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
    if cdc_restart is not None and not outcome.failure:
        _restart_cdc(store, arn, storage, cdc_restart)
    return LoadResult(run, store, arn, start_type, outcome, time.monotonic() - started)


def _cdc_restart_point(store: ReplicationStore, arn: str, params: Any) -> Any:
    """A task with a CDC checkpoint that is reloaded restarts CDC at the position before the reload
    (the way out of a purged binlog); None for a task without CDC."""
    from dersonlake.replication.cdc import CdcState
    from dersonlake.sources.mysql.binlog_position import current_position

    old = CdcState(store).checkpoint(arn)
    return None if old is None else (current_position(params), old)


def _restart_cdc(store: ReplicationStore, arn: str, storage: Any, restart: Any) -> None:
    from dersonlake.replication.cdc import CdcCheckpoint, CdcState

    position, old = restart
    state = CdcState(store)
    leftovers = state.uncovered(arn)
    if leftovers:  # CDC files past the old checkpoint (a stream that died): their changes are in the reload
        storage.delete(leftovers)
        state.forget(arn, leftovers)
    state.save(arn, CdcCheckpoint(position, old.stems), {})
    store.update_task(arn, cdc_start_position=str(position), recovery_checkpoint=str(position))


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


def delta_owner_task(
    owner: str, owners_dir: Path | None, start: Any = None, stop_at: Any = None
) -> tuple[LoadResult | None, Any]:
    """The seed's delta run: the first time a full load (its binlog position recorded before it
    starts, so no change is lost), then CDC from the task's checkpoint up to the source's position now.

    On MariaDB a change that lands during the full load is in the LOAD files or in the CDC files,
    never both (``replication.handoff``: each chunk's snapshot position); on MySQL 8 it may be in
    both, as with DMS. Either way the merged state is the source's at the end of the run.
    """
    from dersonlake.cli.cdc_task import cdc_owner_task

    done = cdc_owner_task(owner, owners_dir, start=start, stop_at=stop_at, blocking=False)
    return done.full, done.outcome


@app.command()
def load(
    owner: str = typer.Argument(..., help="Owner name (a folder in the owners dir)"),
    resume: bool = typer.Option(False, "--resume", help="Continue the last run (DMS resume-processing)."),
    reload: bool = typer.Option(False, "--reload", help="Start over from scratch (DMS reload-target)."),
    delta: bool = typer.Option(
        False, "--delta", help="Changes since the last run (the first time: full load first)."
    ),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
    cdc_start_position: str | None = typer.Option(
        None,
        "--cdc-start-position",
        help="With --delta: start CDC here (mysql-bin.000003:1234, a RecoveryCheckpoint, a GTID 0-1-42).",
    ),
    cdc_start_time: str | None = typer.Option(
        None, "--cdc-start-time", help="With --delta: start CDC at this UTC time (2026-11-25T14:30:00)."
    ),
    cdc_stop_position: str | None = typer.Option(
        None,
        "--cdc-stop-position",
        help="With --delta: stop at server_time:<UTC time> or commit_time:<UTC time>.",
    ),
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
        from dersonlake.cli.cdc_task import start_options

        start, stop_at = start_options(cdc_start_position, cdc_start_time, cdc_stop_position)
        full, cdc = delta_owner_task(owner, owners_dir, start, stop_at)
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
    if cdc_start_position or cdc_start_time or cdc_stop_position:
        raise BadInput(
            "--cdc-start-position, --cdc-start-time and --cdc-stop-position go with --delta",
            path="load",
            hint="Add --delta, or use derson-lake stream",
        )
    result = load_owner_task(owner, owners_dir, resume=resume, reload=reload)
    target = result.run.owner.target
    lake = target.uri if target.is_s3 else target.folder
    o = result.outcome
    typer.echo(
        f"{owner}: {o.tables_loaded} table(s) loaded, {o.rows:,} rows in {o.files} file(s) "
        f"into {lake} in {result.seconds:.1f}s ({result.start_type})"
    )
    raise_for_outcome(result)
