"""Changes in binlog files on disk, as JSON-ready records (``derson-lake binlog dump``).

The same decoder as CDC from a server (``binlog_events``), run over files: for each row change a
record with its position (``file:pos`` just after its rows event, as ``Change.position``), the
transaction's GTID and commit time, schema, table, op (I/U/D) and the before/after images. Values
are converted as the lake gets them as far as the binlog alone tells (no server to ask): TIME as
``[-]HH:MM:SS[.f]`` text with the column's fsp, BIT(1) as a boolean, zero dates and the zero
TIMESTAMP as null, DECIMAL as exact text, dates as ISO text, binary values as ``base64:...``.
Without ``binlog_row_metadata=FULL`` columns are named ``@1``, ``@2``... as mysqlbinlog does.

Streams in bounded memory: nothing is held but the open transaction's GTID and time.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dersonlake.sources.mysql import binlog_event_types as ev
from dersonlake.sources.mysql.binlog_events import Event, EventDecoder, Gtid, Query, Rotate, Rows, Xid
from dersonlake.sources.mysql.binlog_file import read_file_events
from dersonlake.sources.mysql.binlog_table_map import ColumnDef, TableMap
from dersonlake.sources.mysql.types import time_text

_EPOCH = dt.datetime(1970, 1, 1)


@dataclass
class _Txn:
    gtid: str | None = None
    commit_time: dt.datetime | None = None


def dump_changes(
    paths: Iterable[Path],
    *,
    start: int | None = None,
    stop: int | None = None,
    tables: Iterable[str] = (),
) -> Iterator[dict[str, Any]]:
    """Every row change in ``paths`` (in order) as a JSON-ready dict.

    ``start`` applies to the first file, ``stop`` (exclusive: events starting at or after it are
    not read) to the last, as mysqlbinlog's --start-position/--stop-position; ``tables`` limits
    the output to ``schema.table`` names.
    """
    wanted = {t.lower() for t in tables}
    files = list(paths)
    for number, path in enumerate(files):
        decoder = EventDecoder(lambda s, t: not wanted or f"{s}.{t}".lower() in wanted)
        first = start if number == 0 and start is not None else 4
        last = stop if number == len(files) - 1 else None
        txn = _Txn()
        for offset, raw in read_file_events(path, first):
            if last is not None and offset >= last and offset > 4:
                break
            for event in decoder.decode(raw, f"{path.name}:{offset}"):
                yield from _records(event, path.name, txn)


def _records(event: Event, file: str, txn: _Txn) -> Iterator[dict[str, Any]]:
    data = event.data
    if isinstance(data, Gtid):
        txn.gtid = data.gtid
        txn.commit_time = data.commit_time or _utc(event.timestamp)
    elif isinstance(data, Query) and data.sql.strip().upper() == "BEGIN" and txn.commit_time is None:
        txn.commit_time = _utc(event.timestamp)
    elif isinstance(data, Xid | Rotate) or (isinstance(data, Query) and data.sql.strip().upper() == "COMMIT"):
        txn.gtid, txn.commit_time = None, None
    elif isinstance(data, Rows) and data.event is not None:
        table = data.table
        convert = _converters(table)
        position = f"{file}:{event.end}"
        commit = (txn.commit_time or _utc(event.timestamp)).isoformat(sep=" ")
        for before, after in data.event.rows:
            if data.op == "I":
                before, after = None, before
            elif data.op == "D":
                after = None
            yield {
                "position": position,
                "gtid": txn.gtid,
                "commit_time": commit,
                "schema": table.schema,
                "table": table.table,
                "op": data.op,
                "before": _image(before, convert),
                "after": _image(after, convert),
            }


def _image(row: dict[str, Any] | None, convert: dict[str, Any]) -> dict[str, Any] | None:
    if row is None:
        return None
    return {name: (None if value is None else convert[name](value)) for name, value in row.items()}


def _converters(table: TableMap) -> dict[str, Any]:
    cache = getattr(table, "_dump_converters", None)
    if cache is None:
        cache = {c.label: _converter(c) for c in table.columns}
        object.__setattr__(table, "_dump_converters", cache)
    return cache


def _converter(column: ColumnDef) -> Any:
    t = column.type
    if t == ev.T_TIME2:
        fsp = column.meta
        return lambda v: time_text(v, fsp)
    if t == ev.T_TIME:
        return lambda v: time_text(v, 0)
    if t == ev.T_BIT:
        bits = column.meta
        return lambda v: bool(v) if bits == 1 else _b64(int(v).to_bytes((bits + 7) // 8, "big"))
    if t in (ev.T_TIMESTAMP, ev.T_TIMESTAMP2):
        return lambda v: None if v == _EPOCH else v.isoformat(sep=" ")
    return _plain


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return _b64(bytes(value))
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return time_text(value, 6)
    if isinstance(value, float) and value != value:
        return None
    return value


def _b64(raw: bytes) -> str:
    return "base64:" + base64.b64encode(raw).decode("ascii")


def _utc(seconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=seconds)
