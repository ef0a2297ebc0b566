"""Where a binlog reader is: ``file:pos`` (DMS's native ``CdcStartPosition``), plus the MariaDB GTID.

``file:pos`` is the authority: it is what DMS records and what our replication client asks the
server for (COM_BINLOG_DUMP, ``binlog_client``), on MySQL and MariaDB alike. The GTID
(``domain-server-seq`` of the last complete transaction) travels along for humans and for GTID
positioning (``BinlogConnection.start_mariadb_gtid`` / ``start_mysql_gtid``).

Positions order by file *number* then offset, so ``mysql-bin.999999`` < ``mysql-bin.1000000``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import pymysql

from dersonlake.errors import BadInput, OperationFailed
from dersonlake.sources.mysql.connection import ConnectionParams, connect, describe_error

_NATIVE = re.compile(r"^(?P<file>[^:\s]+\.\d+):(?P<pos>\d+)$")


@functools.total_ordering
@dataclass(frozen=True)
class BinlogPosition:
    """A point in the binlog: the next event to read is at ``pos`` in ``file``.

    ``gtid`` (MariaDB ``0-1-42``, or ``@@gtid_binlog_pos`` with one entry per domain) is carried
    along but takes no part in comparisons: two positions are equal when file and offset are.
    """

    file: str
    pos: int
    gtid: str | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, text: str, gtid: str | None = None) -> BinlogPosition:
        """``mysql-bin.000024:373`` (DMS's native ``CdcStartPosition`` form for MySQL)."""
        match = _NATIVE.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise BadInput(
                "not a binlog position",
                value=text,
                hint="Use the native form <binlog file>:<offset>, e.g. mysql-bin.000024:373 "
                "(SHOW MASTER STATUS shows the current one)",
            )
        return cls(match["file"], int(match["pos"]), gtid)

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}"

    @functools.cached_property
    def sort_key(self) -> tuple[str, int, int]:
        base, _, number = self.file.rpartition(".")
        return (base, int(number) if number.isdigit() else -1, self.pos)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, BinlogPosition):
            return NotImplemented
        return self.sort_key < other.sort_key


def current_position(params: ConnectionParams) -> BinlogPosition:
    """The server's binlog end now (``SHOW MASTER STATUS``) with ``@@gtid_binlog_pos`` (MariaDB).

    The two are read in separate statements; the GTID is read before and after and the pair is
    retried when a commit slipped in between, so they describe the same instant.
    """
    conn = connect(params)
    try:
        with conn.cursor() as cur:
            for _ in range(10):
                before = _gtid_binlog_pos(cur)
                cur.execute("SHOW MASTER STATUS")
                row = cur.fetchone()
                if row is None:
                    raise OperationFailed(
                        f"the binary log is off on {params.address}: SHOW MASTER STATUS is empty; "
                        "start the server with log_bin (and binlog_format=ROW) to capture changes"
                    )
                if _gtid_binlog_pos(cur) == before:
                    break
            return BinlogPosition(str(row[0]), int(row[1]), before or None)
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"reading the binlog position of {params.address} failed: {describe_error(exc, params)}"
        ) from None
    finally:
        conn.close()


def binlog_files(params: ConnectionParams) -> list[tuple[str, int]]:
    """``SHOW BINARY LOGS``: the files the server still has, oldest first, with their sizes."""
    conn = connect(params)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW BINARY LOGS")
            return [(str(r[0]), int(r[1])) for r in cur.fetchall()]
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"listing the binary logs of {params.address} failed: {describe_error(exc, params)}"
        ) from None
    finally:
        conn.close()


class BinlogPurged(OperationFailed):
    """The start position is older than every binlog the server keeps: the changes since then are
    lost, and only a reload of the tables brings a target back in step. Never retried."""


RELOAD_HINT = "reload the tables (a full load) and start CDC from the new position"


def require_available(
    params: ConnectionParams, start: BinlogPosition, *, reload_hint: str = RELOAD_HINT
) -> None:
    """Fail clearly when ``start`` is no longer (or not yet) in the server's binlogs.

    The one purged-binlog check of derson-lake (the reader runs it before streaming, the task runner
    before each CDC attempt, with the owner's reload command as ``reload_hint``): a purged start
    raises ``BinlogPurged`` instead of the server's "could not find first log", and the task fails.
    """
    files = dict(binlog_files(params))
    if start.file in files and start.pos <= files[start.file]:
        return
    oldest = min((BinlogPosition(f, 4) for f in files), default=None)
    if oldest is not None and start < oldest:
        raise BinlogPurged(
            f"binlog position {start} was purged from {params.address} (oldest kept: {oldest.file}): "
            f"the changes since then are lost, so CDC cannot continue. A reload is needed: {reload_hint} "
            "(keep binlogs longer, e.g. expire_logs_days / binlog_expire_logs_seconds, to avoid this)"
        )
    raise OperationFailed(
        f"binlog position {start} does not exist on {params.address} "
        f"(files: {', '.join(files) or 'none'}); was it recorded on another server? "
        "Use a position from SHOW MASTER STATUS of this server, or reload the tables"
    )


def _gtid_binlog_pos(cur: pymysql.cursors.Cursor) -> str:
    try:
        cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
    except pymysql.MySQLError:  # MySQL: no such variable (its GTIDs are uuid:n sets)
        return ""
    return str(cur.fetchone()[0] or "")
