"""``derson-lake owners list|check``: what owners there are, and whether one is ready to run."""

from __future__ import annotations

from pathlib import Path

import typer

from dersonlake.cli.main import app
from dersonlake.config import list_owners, load_owner, owners_dir
from dersonlake.errors import BadInput, OperationFailed, SourceNotReady

owners = typer.Typer(help="Owner configurations: list them, check one.", no_args_is_help=True)
app.add_typer(owners, name="owners")

OwnersDir = typer.Option(
    None, "--owners-dir", help="Folder of owner folders (default ./owners or $DERSON_OWNERS_DIR)."
)


@owners.command("list")
def list_cmd(owners_dir_: Path | None = OwnersDir) -> None:
    """List the owners and where each reads from and writes to."""
    root = owners_dir(owners_dir_)
    names = list_owners(root)
    if not names:
        typer.echo(
            f"no owners in {root} (an owner is a folder with owner.yaml, mapping.json, task_settings.json)"
        )
        return
    for name in names:
        try:
            owner = load_owner(name, root)
        except BadInput as exc:
            typer.echo(f"{name:<24} INVALID: {exc}")
            continue
        src = owner.source
        where = "sandbox" if src.sandbox else f"{src.host}:{src.port}"
        typer.echo(
            f"{name:<24} {src.engine} {where} {','.join(src.databases)} -> {owner.target.uri} "
            f"({owner.target.s3.DataFormat}, {owner.migration_type})"
        )


def check_owner(owner: str, owners_dir_: Path | None, *, quiet: bool = False) -> None:
    """Validate, preflight and plan one owner; prints the findings (and the plan unless ``quiet``).

    Raises BadInput for a bad file, SourceNotReady when a preflight check fails.
    """
    from dersonlake.mapping import render
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params
    from dersonlake.sources import preflight

    run = prepare(load_owner(owner, owners_dir_), sandbox_params)
    src = run.owner.source
    params = run.source()
    typer.echo(
        f"owner {owner}: {src.engine} at {params.address} ({', '.join(src.databases)}) -> "
        f"{run.owner.target.uri} as {run.s3.DataFormat}, {run.owner.migration_type}"
    )
    cdc = run.owner.migration_type != "full-load"
    full_load = run.owner.migration_type == "full-load-and-cdc"
    plan = None
    tables = None
    if full_load:  # size the retention check by the selected tables; a broken plan is reported below
        try:
            plan = run.plan(run.catalog(params))
            tables = [(t.source_schema, t.source_table) for t in plan.tables if t.kind == "table"]
        except (BadInput, OperationFailed):
            plan = None
    findings = preflight(params, cdc=cdc, schemas=src.databases, full_load=full_load, tables=tables)
    errors = [f for f in findings if f.status == "error"]
    shown = [f for f in findings if not quiet or f.status != "ok"]
    if shown:
        typer.echo("\npreflight:")
        for finding in shown:
            typer.echo(f"  {finding}")
    else:
        typer.echo(f"  preflight: {len(findings)} checks ok")
    plan = plan or run.plan(run.catalog(params))
    if quiet:
        typer.echo(f"  plan: {len(plan.tables)} tables: " + ", ".join(t.target for t in plan.tables))
    else:
        typer.echo("\nplan:")
        typer.echo(render(plan))
    if errors:
        raise SourceNotReady(
            f"{len(errors)} preflight check(s) failed for {params.address}; fixes are listed above"
        )


@owners.command("check")
def check_cmd(
    owner: str = typer.Argument(..., help="Owner name"), owners_dir_: Path | None = OwnersDir
) -> None:
    """Validate the owner's files, preflight the source, and print the resolved plan.

    Exit 0 when the owner is ready, 1 when the source is not (each problem with its fix), 2 for a bad file.
    """
    check_owner(owner, owners_dir_)
