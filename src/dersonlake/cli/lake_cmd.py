"""``derson-lake lake tables <owner>``: what is in an owner's lake, per table."""

from __future__ import annotations

from pathlib import Path

import typer

from dersonlake.cli.main import app

lake = typer.Typer(help="What is in the lake.", no_args_is_help=True)
app.add_typer(lake, name="lake")


def table_summaries(owner: str, owners_dir: Path | None) -> list[tuple[str, int, int, int, str]]:
    """``(schema.table, files, rows, bytes, last file)`` for each table in the owner's lake."""
    from dersonlake.config import load_owner
    from dersonlake.lake.inventory import count_rows, list_tables
    from dersonlake.replication.owner_run import prepare

    run = prepare(load_owner(owner, owners_dir))
    storage = run.storage()
    s3 = run.s3
    out = []
    for t in list_tables(storage):
        rows = sum(
            count_rows(storage, f, csv_header=s3.AddColumnName, delimiter=s3.CsvDelimiter) for f in t.files
        )
        out.append((f"{t.schema}.{t.table}", len(t.files), rows, t.bytes, t.last_file or ""))
    return out


@lake.command("tables")
def tables_cmd(
    owner: str = typer.Argument(..., help="Owner name"),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """Tables in the owner's lake with their files, rows (LOAD + CDC records), bytes and last file."""
    rows = table_summaries(owner, owners_dir)
    if not rows:
        typer.echo("the lake holds no tables yet")
        return
    typer.echo(f"{'table':<32} {'files':>6} {'rows':>12} {'bytes':>14}  last file")
    for name, files, count, size, last in rows:
        typer.echo(f"{name:<32} {files:>6} {count:>12,} {size:>14,}  {last}")
