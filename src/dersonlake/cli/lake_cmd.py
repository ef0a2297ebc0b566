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


def table_state(owner: str, owners_dir: Path | None, name: str, *, run=None, plan=None):
    """The current state of ``schema.table`` (lake names) in the owner's lake, as an Arrow table.

    The key and the file schemas come from the owner's plan, so the source must be reachable;
    callers showing several tables pass the prepared ``run`` and ``plan`` once.
    """
    from dersonlake.config import load_owner
    from dersonlake.errors import BadInput
    from dersonlake.lake import dms_columns
    from dersonlake.lake.current_state import current_state
    from dersonlake.replication.owner_run import prepare

    schema, _, table = name.partition(".")
    run = run or prepare(load_owner(owner, owners_dir))
    plan = plan or run.plan(run.catalog())
    t = next((t for t in plan.tables if (t.target_schema, t.target_table) == (schema, table)), None)
    if t is None:
        raise BadInput(
            "no such table in the owner's plan",
            path="schema.table",
            value=name,
            allowed=[p.target for p in plan.tables],
        )
    import pyarrow as pa

    data = pa.schema([pa.field(c.name, c.arrow_type) for c in t.columns])
    return current_state(
        run.storage(),
        schema,
        table,
        t.key_columns,
        run.s3,
        load_schema=dms_columns.file_schema(data, run.s3, dms_columns.LOAD),
        cdc_schema=dms_columns.file_schema(data, run.s3, dms_columns.CDC),
    )


@lake.command("show")
def show_cmd(
    owner: str = typer.Argument(..., help="Owner name"),
    table: str = typer.Argument(..., help="schema.table as named in the lake"),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows to print with --format table (0: all)."),
    fmt: str = typer.Option("table", "--format", help="table, csv or parquet"),
    out: Path | None = typer.Option(None, "--out", help="File to write (csv, parquet)."),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """The table's current state: LOAD, then CDC files in name order, upserted by key, deletes applied."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from dersonlake.errors import BadInput

    if fmt not in ("table", "csv", "parquet"):
        raise BadInput("not a valid format", path="--format", value=fmt, allowed=["table", "csv", "parquet"])
    if fmt == "parquet" and out is None:
        raise BadInput("--format parquet needs --out FILE", path="--out")
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        problem = "is a directory" if out.is_dir() else "is in a folder that does not exist"
        raise BadInput(f"--out {out} {problem}", path="--out", hint="Give a file path in an existing folder")
    state = table_state(owner, owners_dir, table)
    if fmt == "parquet":
        pq.write_table(state, out)
        typer.echo(f"{state.num_rows:,} rows written to {out}")
    elif fmt == "csv":
        if out:
            pacsv.write_csv(state, out)
            typer.echo(f"{state.num_rows:,} rows written to {out}")
        else:
            import sys

            pacsv.write_csv(state, sys.stdout.buffer)
    else:
        shown = state if limit == 0 else state.slice(0, limit)
        typer.echo("\t".join(state.schema.names))
        for row in shown.to_pylist():
            typer.echo("\t".join("" if v is None else str(v) for v in row.values()))
        more = "" if shown.num_rows == state.num_rows else f", {shown.num_rows} shown"
        typer.echo(f"({state.num_rows:,} rows{more})")
