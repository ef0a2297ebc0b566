"""The ``derson-lake`` command: wiring only; every command delegates to a library object.

Exit codes (DESIGN.md): 0 ok, 1 the operation failed, 2 bad input. A ``DersonError`` becomes one
line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from dersonlake import __version__, logs
from dersonlake.errors import DersonError

app = typer.Typer(
    name="derson-lake",
    help="Move MySQL/MariaDB databases into a data lake, the way AWS DMS does, locally or on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"derson-lake {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Derson Lake command line."""


def _register() -> None:
    """Attach the command groups; imported here so ``--help`` lists them all."""
    from dersonlake.cli import binlog_cmd, commands  # noqa: F401  (register on ``app``)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn our errors into one line and an exit code (usage errors exit 2 via click)."""
    _register()
    try:
        logs.setup()
        app(args=argv)
    except DersonError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
