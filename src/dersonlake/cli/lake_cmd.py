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
    from dersonlake.lake import count_rows, list_tables
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params

    run = prepare(load_owner(owner, owners_dir), sandbox_params)
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


def table_state(owner: str, owners_dir: Path | None, name: str, *, run=None, plan=None, iceberg: bool = True):
    """The current state of ``schema.table`` (lake names) in the owner's lake, as an Arrow table.

    The key and the file schemas come from the owner's plan, so the source must be reachable;
    callers showing several tables pass the prepared ``run`` and ``plan`` once. The owner's Iceberg
    table is read when there is one (``iceberg=False``: always merge the DMS files).
    """
    from dersonlake.config import load_owner
    from dersonlake.errors import BadInput
    from dersonlake.lake import dms_columns
    from dersonlake.lake.current_state import current_state
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params

    schema, _, table = name.partition(".")
    run = run or prepare(load_owner(owner, owners_dir), sandbox_params)
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

    current = iceberg_table(run, t) if iceberg else None
    if current is not None and current.table() is not None:
        return current.read()
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


def iceberg_table(run, t):
    """The current-state Iceberg table of plan table ``t`` (None: the owner keeps none)."""
    from dersonlake.replication import current_table

    if run.iceberg_catalog() is None:
        return None
    source = None
    try:
        source = run.catalog().table(t.source_schema, t.source_table)
    except Exception:  # the source is down: the types the table was created with still hold
        source = None
    return current_table(run.storage(), t, source)


@lake.command("catalog")
def catalog_cmd(
    owner: str = typer.Argument(..., help="Owner name"),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """The owner's Iceberg catalog properties as JSON, for pyiceberg.catalog.load_catalog(name, **props)."""
    import json

    from dersonlake.config import load_owner
    from dersonlake.errors import BadInput
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params

    run = prepare(load_owner(owner, owners_dir), sandbox_params)
    props = run.iceberg_catalog()
    if props is None:
        raise BadInput(
            f"owner {owner} keeps no Iceberg tables",
            file=str(run.owner.dir / "owner.yaml"),
            path="target.tables",
            hint="Set target.tables: iceberg (docs/iceberg.md) and run a load",
        )
    typer.echo(json.dumps(props, indent=2, sort_keys=True))


@lake.command("compact")
def compact_cmd(
    owner: str = typer.Argument(..., help="Owner name"),
    table: str | None = typer.Argument(None, help="schema.table as named in the lake (default: all)"),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """Rewrite the Iceberg tables' live rows without delete files; expire older snapshots."""
    from dersonlake.config import load_owner
    from dersonlake.errors import BadInput
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params

    run = prepare(load_owner(owner, owners_dir), sandbox_params)
    if run.iceberg_catalog() is None:
        raise BadInput(
            f"owner {owner} keeps no Iceberg tables",
            file=str(run.owner.dir / "owner.yaml"),
            path="target.tables",
            hint="Set target.tables: iceberg (docs/iceberg.md) and run a load",
        )
    plan = run.plan(run.catalog())
    chosen = [t for t in plan.tables if table is None or t.target == table]
    if table is not None and not chosen:
        raise BadInput(
            "no such table in the owner's plan",
            path="table",
            value=table,
            allowed=[t.target for t in plan.tables],
        )
    for t in chosen:
        iceberg = iceberg_table(run, t)
        if iceberg is None or iceberg.table() is None:
            typer.echo(f"{t.target:<32} no Iceberg table")
            continue
        rows, removed = iceberg.compact()
        typer.echo(f"{t.target:<32} {rows:>12,} rows rewritten, {removed:,} unreferenced file(s) removed")


@lake.command("show")
def show_cmd(
    owner: str = typer.Argument(..., help="Owner name"),
    table: str = typer.Argument(..., help="schema.table as named in the lake"),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows to print with --format table (0: all)."),
    fmt: str = typer.Option("table", "--format", help="table, csv or parquet"),
    out: Path | None = typer.Option(None, "--out", help="File to write (csv, parquet)."),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """The table's current state: LOAD, then CDC files in name order, upserted by key, deletes applied.

    CSV is written as the lake's own CSV files are (DMS's encoding: binary as uppercase hex, the
    owner's delimiter, quoting and NULL), with a header line; files appear whole or not at all.
    """
    import pyarrow.parquet as pq

    from dersonlake.config import load_owner
    from dersonlake.errors import BadInput
    from dersonlake.lake import csv_bytes, csv_header
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params

    if fmt not in ("table", "csv", "parquet"):
        raise BadInput("not a valid format", path="--format", value=fmt, allowed=["table", "csv", "parquet"])
    if fmt == "parquet" and out is None:
        raise BadInput("--format parquet needs --out FILE", path="--out")
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        problem = "is a directory" if out.is_dir() else "is in a folder that does not exist"
        raise BadInput(f"--out {out} {problem}", path="--out", hint="Give a file path in an existing folder")
    run = prepare(load_owner(owner, owners_dir), sandbox_params)
    catalog = run.catalog()
    plan = run.plan(catalog)
    state = table_state(owner, owners_dir, table, run=run, plan=plan)
    if fmt == "csv":
        state = _with_datetime_precision(state, plan, catalog, table)
    if fmt == "parquet":
        _write_atomically(out, lambda f: pq.write_table(state, f))
        typer.echo(f"{state.num_rows:,} rows written to {out}")
    elif fmt == "csv":

        def write_csv(f) -> None:
            f.write(csv_header(state.schema, run.s3))
            for batch in state.to_batches(max_chunksize=65536):
                f.write(csv_bytes(batch, run.s3))

        if out:
            _write_atomically(out, write_csv)
            typer.echo(f"{state.num_rows:,} rows written to {out}")
        else:
            import sys

            write_csv(sys.stdout.buffer)
    else:
        shown = state if limit == 0 else state.slice(0, limit)
        typer.echo("\t".join(state.schema.names))
        for row in shown.to_pylist():
            typer.echo("\t".join("" if v is None else str(v) for v in row.values()))
        more = "" if shown.num_rows == state.num_rows else f", {shown.num_rows} shown"
        typer.echo(f"({state.num_rows:,} rows{more})")


def _write_atomically(path: Path, write) -> None:
    """``write(file)`` into a hidden file beside ``path``, renamed onto it only once complete."""
    import os
    import tempfile

    from dersonlake.errors import BadInput

    target = path.expanduser().resolve()
    if not target.parent.is_dir():
        raise BadInput("the folder does not exist", path="--out", value=str(path), hint="Create it first")
    fd, staged = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(staged, target)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise


def _with_datetime_precision(state, plan, catalog, name: str):
    """Mark DATETIME/TIMESTAMP columns with their source's fractional digits, as the full load's
    reader does, so the CSV writes ``12:34:56`` for a DATETIME(0) exactly like the lake's files."""
    import pyarrow as pa

    from dersonlake.lake import FSP_KEY

    schema, _, table = name.partition(".")
    t = next(t for t in plan.tables if (t.target_schema, t.target_table) == (schema, table))
    source = catalog.table(t.source_schema, t.source_table)
    precision = {c.name: c.datetime_precision for c in (source.columns if source else [])}
    fields = []
    for field in state.schema:
        column = next((c for c in t.columns if c.name == field.name), None)
        fsp = precision.get(column.source) if column is not None and column.source else None
        if pa.types.is_timestamp(field.type) and fsp is not None:
            field = field.with_metadata({**(field.metadata or {}), FSP_KEY: str(fsp).encode()})
        fields.append(field)
    return state.cast(pa.schema(fields))
