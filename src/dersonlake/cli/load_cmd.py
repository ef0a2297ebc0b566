"""``derson-lake load <owner>``: one replication task for the owner, in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dersonlake.cli.main import app
from dersonlake.errors import BadInput, OperationFailed


def start_options(position: str | None, start_time: str | None, stop_position: str | None) -> tuple[Any, Any]:
    """The CLI's ``--cdc-*`` options, validated (``BadInput`` names the option)."""
    from dersonlake.replication import parse_start, parse_stop

    start = parse_start(
        position, start_time, position_option="--cdc-start-position", time_option="--cdc-start-time"
    )
    stop = parse_stop(stop_position, option="--cdc-stop-position")
    return start, stop


def open_store() -> Any:
    from dersonlake.home import derson_home
    from dersonlake.replication import ReplicationStore

    return ReplicationStore(derson_home() / "replication.sqlite")


def raise_for_result(task: Any, result: Any) -> None:
    """Exit 1 (OperationFailed) when the task failed or a table was suspended (``Table error``)."""
    from dersonlake.replication import status

    if result.failure:
        raise OperationFailed(f"task {task.identifier} failed: {result.failure}")
    failed = [
        f"{r['schema_name']}.{r['table_name']}: {r['error']}"
        for r in task.store.table_stats(task.arn)
        if r["state"] == status.TABLE_ERROR
    ]
    if failed:
        raise OperationFailed(f"{len(failed)} table(s) suspended (Table error): " + "; ".join(failed))


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
    from dersonlake.replication import delta_request, load_request, owner_task
    from dersonlake.sandbox import sandbox_params

    if delta and (resume or reload):
        raise BadInput(
            "--delta runs from the last checkpoint; it takes no --resume or --reload", path="--delta"
        )
    if not delta and (cdc_start_position or cdc_start_time or cdc_stop_position):
        raise BadInput(
            "--cdc-start-position, --cdc-start-time and --cdc-stop-position go with --delta",
            path="load",
            hint="Add --delta, or use derson-lake stream",
        )
    store = open_store()
    if delta:
        start, stop_at = start_options(cdc_start_position, cdc_start_time, cdc_stop_position)
        task = owner_task(
            store, owner, owners_dir, delta=True, explicit_start=start is not None, sandbox=sandbox_params
        )
        result = task.start(delta_request(task, start=start, stop_at=stop_at, blocking=False))
        if result.full_load is not None:
            typer.echo(
                f"{owner}: full load {result.full_load.rows:,} rows, {result.full_load.files} files; "
                "CDC starts here"
            )
        cdc = result.cdc
        if cdc is not None:
            typer.echo(
                f"{owner}: delta {cdc.changes:,} change(s) from {cdc.transactions:,} transaction(s) "
                f"in {cdc.files} file(s); checkpoint {cdc.checkpoint.position if cdc.checkpoint else '-'}"
            )
        else:
            typer.echo(f"{owner}: {result.stop_reason}")
        raise_for_result(task, result)
        return
    from dersonlake.cli.progress import progress_for

    with progress_for() as progress:
        task = owner_task(store, owner, owners_dir, delta=False, progress=progress, sandbox=sandbox_params)
        result = task.start(load_request(task, resume=resume, reload=reload))
    target = task.resources.checkpoint.owner.target if task.resources.checkpoint else None
    lake = (target.uri if target.is_s3 else target.folder) if target else "the lake"
    o = result.full_load
    assert o is not None
    typer.echo(
        f"{owner}: {o.tables_loaded} table(s) loaded, {o.rows:,} rows in {o.files} file(s) "
        f"into {lake} in {result.seconds:.1f}s ({result.start_type})"
    )
    raise_for_result(task, result)
