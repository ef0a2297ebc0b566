"""``derson-lake load <owner>``: one replication task for the owner, in the foreground."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from dersonlake.cli.main import app
from dersonlake.errors import BadInput, OperationFailed


@app.command()
def load(
    owner: str = typer.Argument(..., help="Owner name (a folder in the owners dir)"),
    resume: bool = typer.Option(False, "--resume", help="Continue the last run (DMS resume-processing)."),
    reload: bool = typer.Option(False, "--reload", help="Start over from scratch (DMS reload-target)."),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """Load every table of the owner's plan into the lake, as a DMS full-load task would."""
    from dersonlake.cli.progress import progress_for
    from dersonlake.config import load_owner
    from dersonlake.home import derson_home
    from dersonlake.replication import status
    from dersonlake.replication.owner_run import prepare
    from dersonlake.replication.store import ReplicationStore
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
        start_type = status.START_REPLICATION
    else:
        arn = row["arn"]
        start_type = status.RESUME_PROCESSING if resume else status.RELOAD_TARGET
        if row["start_date"] is None:
            start_type = status.START_REPLICATION
        if not resume:  # the owner's files may have changed since the last run (ModifyReplicationTask)
            store.update_task(arn, table_mappings=mappings, settings=settings)
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
    elapsed = time.monotonic() - started
    lake = run.owner.target.uri if run.owner.target.is_s3 else run.owner.target.folder
    typer.echo(
        f"{owner}: {outcome.tables_loaded} table(s) loaded, {outcome.rows:,} rows in {outcome.files} file(s) "
        f"into {lake} in {elapsed:.1f}s ({start_type})"
    )
    if outcome.failure:
        raise OperationFailed(f"task {ident} failed: {outcome.failure}")
    if outcome.tables_errored:
        failed = [
            f"{r['schema_name']}.{r['table_name']}: {r['error']}"
            for r in store.table_stats(arn)
            if r["state"] == status.TABLE_ERROR
        ]
        raise OperationFailed(
            f"{outcome.tables_errored} table(s) suspended (Table error): " + "; ".join(failed)
        )
