"""``derson-lake sandbox start|stop|status|url|seed``: the private MariaDB for the demo and tests."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from dersonlake.cli.main import app
from dersonlake.errors import OperationFailed

DEFAULT_ORDER_ROWS = 20_000  # dersonlake.sandbox.seed.DEFAULT_ORDER_ROWS (not imported: keeps --help fast)

sandbox_app = typer.Typer(
    name="sandbox",
    help="A private MariaDB server with binary logging (ROW) in a folder, and the sample 'shop' schema.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

DirOption = typer.Option(None, "--dir", help="Sandbox folder (default: $DERSON_HOME/sandbox).")


def _sandbox(directory: Path | None, port: int | None = None):  # -> Sandbox (imported lazily: fast --help)
    from dersonlake.sandbox import Sandbox

    return Sandbox(directory, port=port)


@sandbox_app.command("start")
def start(
    directory: Path | None = DirOption,
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="TCP port (remembered)."),
) -> None:
    """Start the sandbox (initializing it the first time); a no-op when it already runs."""
    sandbox = _sandbox(directory, port)
    began = time.monotonic()
    if sandbox.start():
        typer.echo(
            f"sandbox started on {sandbox.host}:{sandbox.port} in {time.monotonic() - began:.1f} s "
            f"(data in {sandbox.dir})"
        )
    else:
        typer.echo(f"sandbox already running on {sandbox.host}:{sandbox.port} (data in {sandbox.dir})")


@sandbox_app.command("stop")
def stop(directory: Path | None = DirOption) -> None:
    """Stop the sandbox cleanly (SIGTERM; SIGKILL after 30 s)."""
    sandbox = _sandbox(directory)
    began = time.monotonic()
    if sandbox.stop():
        typer.echo(f"sandbox stopped in {time.monotonic() - began:.1f} s")
    else:
        typer.echo(f"sandbox in {sandbox.dir} is not running")


@sandbox_app.command("status")
def status(directory: Path | None = DirOption) -> None:
    """Exit 0 when the sandbox answers, 1 otherwise."""
    sandbox = _sandbox(directory)
    if not sandbox.is_running():
        typer.echo(f"sandbox in {sandbox.dir} is not running")
        raise typer.Exit(1)
    typer.echo(
        f"sandbox running on {sandbox.host}:{sandbox.port}, {sandbox.server_version()}, "
        f"pid {sandbox.pid()}, data in {sandbox.dir}"
    )


@sandbox_app.command("url")
def url(directory: Path | None = DirOption) -> None:
    """Print the replication user's URL: mysql://user:password@127.0.0.1:port/"""
    typer.echo(_sandbox(directory).url())


@sandbox_app.command("seed")
def seed(
    directory: Path | None = DirOption,
    rows: int = typer.Option(
        DEFAULT_ORDER_ROWS, "--rows", min=1, help="Rows in shop.orders (order_items about twice)."
    ),
) -> None:
    """(Re)create the sample schema 'shop' with deterministic data covering every MySQL type."""
    from dersonlake.sandbox.seed import SCHEMA
    from dersonlake.sandbox.seed import seed as seed_schema

    sandbox = _sandbox(directory)
    if not sandbox.is_running():
        raise OperationFailed(f"sandbox in {sandbox.dir} is not running; start it: derson-lake sandbox start")
    with sandbox.admin_connection() as conn:
        report = seed_schema(conn, rows=rows)
    for name, count in report.counts.items():
        typer.echo(f"  {SCHEMA}.{name:<14} {count:>8} rows")
    typer.echo(f"seeded schema {SCHEMA} in {report.seconds:.1f} s")
