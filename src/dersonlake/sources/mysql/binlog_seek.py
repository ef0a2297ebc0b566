"""Finding a binlog position from a time or a MariaDB GTID (``CdcStartTime``, GTID start positions).

The server has no index from time or GTID to ``file:pos``, so we read event headers: each file's
first event (its Format_description) says when the file was started, which picks the one file to
scan; in it, the first transaction that starts at or after the time (or after the GTID) is the
answer. Transaction starts are GTID events (MariaDB, MySQL with GTIDs) or ``BEGIN`` / statements
(MySQL without GTIDs); only their headers are decoded, so a scan costs little more than reading
the bytes.

Precision: binlog event times are whole seconds (MariaDB writes a transaction's GTID event with its
commit time), so ``CdcStartTime=12:00:00.7`` starts at the first transaction committed at or after
12:00:00, which may include ones committed in the 0.7 s before the time asked.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator

from dersonlake.errors import BadInput, OperationFailed
from dersonlake.sources.mysql.binlog_client import BinlogConnection, BinlogConnectionLost, BinlogServerError
from dersonlake.sources.mysql.binlog_events import EventDecoder, FormatDescription, Gtid, Query, Rotate, Xid
from dersonlake.sources.mysql.binlog_framing import ALG_CRC32, ALG_OFF, BinlogCorrupt
from dersonlake.sources.mysql.binlog_position import BinlogPosition, binlog_files, current_position
from dersonlake.sources.mysql.connection import ConnectionParams


def position_at_time(params: ConnectionParams, when: dt.datetime) -> BinlogPosition:
    """The start of the first transaction committed at or after ``when`` (UTC; naive = UTC), or the
    server's position now when there is none yet. A time older than the oldest binlog kept is an
    error: the changes since then are gone (purged)."""
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    files = [f for f, _size in binlog_files(params)]
    if not files:
        raise OperationFailed(f"the binary log is off on {params.address}; CDC needs log_bin")
    started = [(f, _file_started(params, f)) for f in files]
    if started[0][1] is not None and started[0][1] > when:
        raise OperationFailed(
            f"CdcStartTime {when:%Y-%m-%dT%H:%M:%S}Z is before the oldest binlog kept on {params.address} "
            f"({started[0][0]}, started {started[0][1]:%Y-%m-%dT%H:%M:%S}Z): the changes since then were "
            "purged; reload the tables (derson-lake load <owner> --reload) or pick a later start time"
        )
    scan_from = started[0][0]
    for name, at in started:  # the newest file started at or before the time holds the answer
        if at is not None and at <= when:
            scan_from = name
    end = current_position(params)
    for position, _gtid, stamp in transaction_starts(params, BinlogPosition(scan_from, 4), end):
        if stamp >= when:
            return position
    return end


def position_after_gtid(params: ConnectionParams, gtid: str) -> BinlogPosition:
    """Where the transaction after MariaDB GTID ``domain-server-seq`` starts (DMS captures the
    transactions after the start point), found by scanning the binlogs kept."""
    domain, seq = _parse_gtid(gtid)
    files = [f for f, _size in binlog_files(params)]
    if not files:
        raise OperationFailed(f"the binary log is off on {params.address}; CDC needs log_bin")
    end = current_position(params)
    seen_before = False
    for position, found, _stamp in transaction_starts(params, BinlogPosition(files[0], 4), end):
        if found is None:
            continue
        d, s = _parse_gtid(found)
        if d != domain:
            continue
        if s <= seq:
            seen_before = True
        else:
            if not seen_before:
                raise OperationFailed(
                    f"GTID {gtid} is older than the oldest transaction of domain {domain} in the binlogs "
                    f"of {params.address} (first kept: {found}): the changes since then were purged; "
                    "reload the tables (derson-lake load <owner> --reload)"
                )
            return position
    if _gtid_reached(end.gtid, domain, seq):  # the last transaction of its domain: start now
        return end
    raise OperationFailed(
        f"GTID {gtid} is not in the binlogs of {params.address} "
        f"(server GTID position: {end.gtid or 'none'}); "
        "was it recorded on another server? Use SELECT @@gtid_binlog_pos of this server"
    )


def transaction_starts(
    params: ConnectionParams, start: BinlogPosition, stop: BinlogPosition
) -> Iterator[tuple[BinlogPosition, str | None, dt.datetime]]:
    """Each transaction's first event from ``start`` to ``stop``: (position, GTID or None, UTC time)."""
    file = start.file
    in_group = False
    for event in _events(params, start):
        data = event.data
        if isinstance(data, Rotate):
            file = data.next_file
            continue
        if isinstance(data, FormatDescription) or not event.end:
            continue
        first = BinlogPosition(file, event.end - event.size)
        if first >= stop:
            return
        stamp = dt.datetime.fromtimestamp(event.timestamp, dt.UTC)
        if isinstance(data, Gtid):
            in_group = True
            yield first, data.gtid, stamp
        elif isinstance(data, Xid):
            in_group = False
        elif isinstance(data, Query):
            word = data.sql.strip().split(None, 1)[0].upper() if data.sql.strip() else ""
            if not in_group:  # MySQL without GTIDs: BEGIN or a statement logged on its own
                yield first, None, stamp
                in_group = word == "BEGIN"
            elif word in ("COMMIT", "ROLLBACK") or _standalone(data.sql):
                in_group = False


def _standalone(sql: str) -> bool:
    """A DDL statement ends its own group (MariaDB flags it on the GTID event; approximated here)."""
    word = sql.strip().split(None, 1)[0].upper()
    return word in ("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "GRANT", "REVOKE")


def _file_started(params: ConnectionParams, file: str) -> dt.datetime | None:
    """The time of the file's Format_description event: when the server started writing it."""
    for event in _events(params, BinlogPosition(file, 4)):
        if isinstance(event.data, FormatDescription) and event.timestamp:
            return dt.datetime.fromtimestamp(event.timestamp, dt.UTC)
    return None


def _events(params: ConnectionParams, at: BinlogPosition) -> Iterator:
    """The events from ``at`` to the server's end now (rows not decoded: headers are enough)."""
    conn = BinlogConnection(params, (1 << 30) + secrets.randbelow(1 << 30), read_timeout=params.read_timeout)
    try:
        conn.start(at.file, at.pos, blocking=False)
        decoder = EventDecoder(
            lambda schema, table: False, checksum=ALG_CRC32 if conn.checksum == "CRC32" else ALG_OFF
        )
        for raw in conn.events():
            yield from decoder.decode(raw, f"{at.file}:{int.from_bytes(raw[13:17], 'little')}")
    except (BinlogConnectionLost, BinlogServerError, BinlogCorrupt) as exc:
        raise OperationFailed(f"reading the binlog of {params.address} from {at} failed: {exc}") from None
    finally:
        conn.close()


def _parse_gtid(text: str) -> tuple[int, int]:
    parts = text.strip().split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise BadInput(
            "not a MariaDB GTID",
            value=text,
            hint="Use domain-server-sequence, e.g. 0-1-42 (SELECT @@gtid_binlog_pos shows the current one)",
        )
    return int(parts[0]), int(parts[2])


def _gtid_reached(position: str | None, domain: int, seq: int) -> bool:
    for entry in (position or "").split(","):
        if entry.strip():
            d, s = _parse_gtid(entry)
            if d == domain and s >= seq:
                return True
    return False
