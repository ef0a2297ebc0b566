"""``derson-lake demo``: the whole thing on a fresh machine, in one command.

It starts the private MariaDB (binary log on, ROW format), seeds the sample ``shop`` schema, checks
the sample owner ``dersonLake``, runs the seed's flow (derson-Main -> DMS-Handler -> DMS-intake ->
a DMS ``full-load-and-cdc`` task stopping at "now") into ``./lake``, applies a burst of inserts,
updates and deletes on the sandbox, runs the flow again with ``delta`` (a ``cdc`` task from the saved
checkpoint), and prints the lake's merged state next to the source's row counts, table by table.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from dersonlake.cli.main import app

SAMPLE_OWNER = "dersonLake"
BURST = (
    "INSERT INTO shop.orders (id, customer_id, amount, status, created_at, note) SELECT 1000000 + seq,"
    " 1 + seq % 100, seq / 4, 'new', NOW(), CONCAT('demo burst ', seq) FROM seq_1_to_500",
    "UPDATE shop.orders SET status = 'shipped', amount = amount + 1 WHERE id % 10 = 3",
    "DELETE FROM shop.order_items WHERE order_id % 50 = 7",
    "UPDATE shop.customers SET email = CONCAT('moved-', id, '@example.org') WHERE id <= 10",
    "DELETE FROM shop.events_log WHERE level = 'DEBUG'",
)


def iceberg_rows(run, t) -> int | None:
    """Rows of ``t``'s current-state Iceberg table (None: it has none, e.g. a table without a key)."""
    from dersonlake.cli.lake_cmd import iceberg_table

    if not t.key_columns:  # known without asking the catalog (which would log why, mid-table)
        return None
    table = iceberg_table(run, t)
    found = table.table() if table is not None else None
    return None if found is None else found.scan().to_arrow().num_rows


@app.command()
def demo(
    rows: int = typer.Option(20_000, "--rows", min=1, help="Orders to seed in the sample schema."),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """Private MariaDB, sample owner, full load and a delta run into ./lake, and a summary."""
    from dersonlake.cli.lake_cmd import table_state
    from dersonlake.cli.owners_cmd import check_owner
    from dersonlake.cli.run_cmd import run_owner
    from dersonlake.config import load_owner
    from dersonlake.replication import prepare
    from dersonlake.sandbox import Sandbox, default_dir, sandbox_params
    from dersonlake.sandbox.seed import TABLES, seed

    started = time.monotonic()
    box = Sandbox(default_dir())
    typer.echo(
        f"1/5 sandbox: {'started' if box.start() else 'already running'} on {box.host}:{box.port} ({box.dir})"
    )
    with box.admin_connection() as conn:
        report = seed(conn, rows=rows)
    seeded = sum(count for name, count in report.counts.items() if name in TABLES)
    typer.echo(f"2/5 seed: schema shop, {len(TABLES)} tables, {seeded:,} rows in {report.seconds:.1f}s")
    typer.echo(f"3/5 check: owner {SAMPLE_OWNER}")
    check_owner(SAMPLE_OWNER, owners_dir, quiet=True)

    run = prepare(load_owner(SAMPLE_OWNER, owners_dir), sandbox_params)
    typer.echo(f"4/5 run: derson-Main for {SAMPLE_OWNER} (DMS-Handler, DMS-intake, full load)")
    full = run_owner(SAMPLE_OWNER, owners_dir)
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("USE shop")
        for sql in BURST:
            cur.execute(sql)
    typer.echo(f"5/5 run --delta: {len(BURST)} statements of changes on the sandbox, then CDC into the lake")
    cdc = run_owner(SAMPLE_OWNER, owners_dir, delta=True)
    typer.echo(f"    {cdc.changes:,} changes captured by derson-Main (delta) in {cdc.seconds:.1f}s")

    typer.echo(f"\n{'table':<24} {'source rows':>12} {'lake rows (merged)':>19} {'Iceberg rows':>13}")
    plan = run.plan(run.catalog())
    mismatches = []
    with box.admin_connection() as conn, conn.cursor() as cur:
        for t in plan.tables:
            cur.execute(f"SELECT COUNT(*) FROM `{t.source_schema}`.`{t.source_table}`")
            (source,) = cur.fetchone()
            lake = table_state(SAMPLE_OWNER, owners_dir, t.target, run=run, plan=plan, iceberg=False).num_rows
            iceberg = iceberg_rows(run, t)  # read with pyiceberg from the table's current snapshot
            mark = "" if lake == source and iceberg in (None, source) else "  <- differs"
            if mark:
                mismatches.append(t.target)
            shown = "no key" if iceberg is None else f"{iceberg:,}"
            typer.echo(f"{t.target:<24} {source:>12,} {lake:>19,} {shown:>13}{mark}")
    target = run.owner.target
    lake_dir = target.uri if target.is_s3 else target.folder
    elapsed = time.monotonic() - started
    loaded = full.rows
    typer.echo(
        f"\ndone in {elapsed:.1f}s: {loaded:,} rows loaded, {cdc.changes:,} changes applied, under {lake_dir}"
    )
    typer.echo(
        f"look: derson-lake lake tables {SAMPLE_OWNER}; derson-lake lake show {SAMPLE_OWNER} shop.orders"
    )
    typer.echo(
        "the sandbox keeps running: derson-lake sandbox url | stop (make clean removes it and the lake)"
    )
    from dersonlake.cli.schedule_cmd import schedule_lines

    for line in schedule_lines(owners_dir):
        if line.startswith(f"{SAMPLE_OWNER}:"):
            typer.echo(f"schedule: {line}")
    typer.echo("run it by itself: derson-lake serve (or derson-lake schedule); see docs/schedule.md")
    if mismatches:
        from dersonlake.errors import OperationFailed

        raise OperationFailed(f"the lake's merged state differs from the source for: {', '.join(mismatches)}")
