"""``derson-lake binlog dump FILE...``: the row changes in binlog files on disk, one JSON line each.

Like ``mysqlbinlog -v`` but with values (as the lake gets them), for binlogs copied from a server,
downloaded from RDS or restored from a backup. The decoding is the CDC reader's own
(``sources.mysql.binlog_dump``). A file that is not a binlog, or bytes that do not decode, is bad
input: one line naming the file and offset, exit 2, and nothing printed for the bad event.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from dersonlake.cli.main import app

binlog = typer.Typer(help="Binlog files on disk.", no_args_is_help=True)
app.add_typer(binlog, name="binlog")


@binlog.command("dump")
def dump_cmd(
    files: list[Path] = typer.Argument(
        ..., help="Binlog files, in order (e.g. mysql-bin.000003 mysql-bin.000004)."
    ),
    start_position: int | None = typer.Option(
        None, "--start-position", help="Start at this offset of the first file (an event boundary)."
    ),
    stop_position: int | None = typer.Option(
        None, "--stop-position", help="Stop before the first event at or after this offset of the last file."
    ),
    table: list[str] = typer.Option([], "--table", help="Only this schema.table (repeat for several)."),
) -> None:
    """Print each row change as a JSON line: position, gtid, commit_time, schema, table, op, before, after."""
    from dersonlake.errors import BadInput
    from dersonlake.sources import BinlogCorrupt, dump_changes

    for path in files:
        if not path.is_file():
            raise BadInput("no such binlog file", value=str(path), hint="Give the paths of binlog files")
    for name in table:
        if name.count(".") != 1 or not all(name.split(".")):
            raise BadInput("--table takes schema.table", value=name, hint="e.g. --table shop.orders")
    out = sys.stdout
    try:
        for record in dump_changes(files, start=start_position, stop=stop_position, tables=table):
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    except BinlogCorrupt as exc:
        out.flush()
        raise BadInput(
            exc.problem,
            file=exc.where,
            hint="Is it a whole binlog file? A file still being written or cut short ends mid-event; "
            "positions must be event boundaries (mysqlbinlog or SHOW BINLOG EVENTS lists them)",
        ) from None
    except BrokenPipeError:  # `| head` closed the pipe: the output was wanted no further
        sys.stderr.close()
