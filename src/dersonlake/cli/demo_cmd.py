"""``derson-lake demo``: the whole thing on a fresh machine, in one command.

It starts the private MariaDB (binary log on, ROW format), seeds the sample ``shop`` schema, checks
the sample owner ``dersonLake`` and loads it into ``./lake`` through the seed's flow
(``derson-lake run``: derson-Main → DMS-Handler → DMS-intake → the local DMS), then prints what it
did: tables, files, rows in the lake next to the source's, time, and where to look.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from dersonlake.cli.main import app

SAMPLE_OWNER = "dersonLake"


@app.command()
def demo(
    rows: int = typer.Option(20_000, "--rows", min=1, help="Orders to seed in the sample schema."),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
) -> None:
    """Private MariaDB, sample owner, full load into ./lake, and a summary."""
    from dersonlake.cli.lake_cmd import table_summaries
    from dersonlake.cli.owners_cmd import check_owner
    from dersonlake.cli.run_cmd import run_owner
    from dersonlake.sandbox.seed import TABLES, seed
    from dersonlake.sandbox.server import Sandbox, default_dir

    started = time.monotonic()
    box = Sandbox(default_dir())
    step = "1/4 sandbox"
    typer.echo(
        f"{step}: {'started' if box.start() else 'already running'} on {box.host}:{box.port} ({box.dir})"
    )
    with box.admin_connection() as conn:
        report = seed(conn, rows=rows)
    seeded = sum(count for name, count in report.counts.items() if name in TABLES)
    typer.echo(f"2/4 seed: schema shop, {len(TABLES)} tables, {seeded:,} rows in {report.seconds:.1f}s")
    typer.echo(f"3/4 check: owner {SAMPLE_OWNER}")
    check_owner(SAMPLE_OWNER, owners_dir, quiet=True)
    typer.echo(f"4/4 run: derson-Main for {SAMPLE_OWNER} (DMS-Handler, DMS-intake, full load)")
    result = run_owner(SAMPLE_OWNER, owners_dir)
    lake = result.lake
    typer.echo(f"\n{'table':<24} {'source rows':>12} {'lake rows':>10} {'files':>6} {'bytes':>12}")
    source_counts = {f"shop.{name}": count for name, count in report.counts.items()}
    for name, files, count, size, _last in table_summaries(SAMPLE_OWNER, owners_dir):
        typer.echo(f"{name:<24} {source_counts.get(name, 0):>12,} {count:>10,} {files:>6} {size:>12,}")
    elapsed = time.monotonic() - started
    typer.echo(f"\ndone in {elapsed:.1f}s: {result.rows:,} rows in {result.files} files under {lake}")
    typer.echo(
        f"look around: derson-lake lake tables {SAMPLE_OWNER}; derson-lake owners check {SAMPLE_OWNER}"
    )
    typer.echo(
        "the sandbox keeps running: derson-lake sandbox url | stop (make clean removes it and the lake)"
    )
