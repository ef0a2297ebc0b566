"""Binlog row images -> Arrow batches with exactly the full load's types and values.

A LOAD file and a CDC file of the same column must hold the same value for the same row, or a
consumer merging them sees phantom updates. The full load (``snapshot.column_read``) has the server
compute exact forms; here the library's Python values are put into the same conventions
(``types`` module docstring). What python-mysql-replication 1.0.17 hands over, and what we do:

==================  ===========================================  ======================================
type                the library gives                            converted to
==================  ===========================================  ======================================
TINYINT..BIGINT     int, unsigned when declared                  as is (BIGINT UNSIGNED -> uint64)
DECIMAL             exact ``Decimal``                            as is (decimal128/256 of the column)
FLOAT / DOUBLE      the stored float32 / float64 as ``float``    as is (float64; = full load exactly)
BIT(n)              ``'0101'`` text of n digits                  ``bit_value``: bool / big-endian bytes
YEAR                ``1900 + stored byte`` (YEAR 0000 -> 1900)   1900 -> 0
DATE / DATETIME     date / naive datetime; zero dates -> None    as is
TIMESTAMP           naive UTC datetime (``utcfromtimestamp``);   epoch 0 -> NULL (the zero timestamp)
                    the zero timestamp -> 1970-01-01 00:00:00
TIME                ``timedelta`` (negative ones correct)        ``time_text`` with the column's fsp
CHAR/VARCHAR/TEXT   str (CHAR without trailing spaces)           as is
JSON (MariaDB)      str: MariaDB stores JSON as LONGTEXT          as is
ENUM                member text (index 0 -> '')                  as is
SET                 a Python ``set``; empty set -> None           the reader joins members in definition
                                                                 order; empty -> '' (binlog_reader)
BINARY(n)           bytes with the trailing 0x00 padding cut;    padded back to n bytes
                    ``''`` (str) when all of it was padding
VARBINARY/BLOB      bytes; ``''`` (str) when empty                b''
spatial             the stored bytes (SRID + WKB)                as is
UUID (MariaDB)      16 bytes, trailing 0x00 cut                  ``8-4-4-4-12`` lower-case text
INET4 / INET6       4 / 16 bytes, trailing 0x00 cut              the server's text (inet_ntop's form:
                                                                 ``::ffff:1.2.3.4``, ``2001:db8::1``)
==================  ===========================================  ======================================
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dersonlake.errors import OperationFailed
from dersonlake.sources.catalog import Column, Table
from dersonlake.sources.mysql.binlog_items import Change, Row
from dersonlake.sources.mysql.snapshot import column_read
from dersonlake.sources.mysql.types import SPATIAL_TYPES, bit_value, time_text, zero_date_to_none

_EPOCH = dt.datetime(1970, 1, 1)
_BYTES_TYPES = SPATIAL_TYPES | {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
_TEXT_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"})

Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class ChangeBatch:
    """Converted changes of one table: ``data`` has the full load's schema for the same columns;
    ``op`` (I/U/D), ``timestamp`` (commit or statement time, UTC), ``position`` (``file:pos`` of
    the rows event) and ``index`` (row in that event) are per-row arrays beside it."""

    data: pa.RecordBatch
    op: pa.Array
    timestamp: pa.Array
    position: pa.Array
    index: pa.Array

    @property
    def num_rows(self) -> int:
        return self.data.num_rows


def changes_to_batch(
    table: Table,
    columns: Sequence[Column],
    changes: Sequence[Change],
    *,
    image: str = "row",
    commit_time: dt.datetime | None = None,
    commit_times: Sequence[dt.datetime | None] | None = None,
) -> ChangeBatch:
    """``changes`` (all of ``table``) as Arrow, column by column as ``read_batches`` gives them.

    ``image="row"`` takes the image DMS writes (after for I/U, before for D); ``"before"`` the
    before-images (NULL rows for inserts), e.g. to delete the old key of a primary-key update.
    ``commit_time`` (from the ``Commit``) replaces each change's statement time; ``commit_times``
    does so per change (one per change, None keeping that change's statement time), for a batch
    spanning several transactions.
    """
    if image not in ("row", "before"):
        raise ValueError(f"image must be 'row' or 'before', not {image!r}")
    if commit_times is not None and (commit_time is not None or len(commit_times) != len(changes)):
        raise ValueError("commit_times takes one time per change, and not together with commit_time")
    if not all(isinstance(c, Change) for c in changes):
        raise ValueError("changes_to_batch takes Change items only (a Ddl changes the table, not rows)")
    rows: list[Row | None] = [(c.row if image == "row" else c.before) for c in changes if _owned(table, c)]
    if len(rows) != len(changes):
        stray = next(c for c in changes if not _owned(table, c))
        raise ValueError(f"a change of {stray.schema}.{stray.table} given with table {table.qualified}")
    arrays = [column_array(table, column, rows) for column in columns]
    stamps = commit_times if commit_times is not None else [commit_time] * len(changes)
    schema = pa.schema([_read(c).field for c in columns])
    return ChangeBatch(
        data=pa.RecordBatch.from_arrays(arrays, schema=schema),
        op=pa.array([c.op for c in changes], pa.string()),
        timestamp=pa.array(
            [t or c.timestamp for c, t in zip(changes, stamps, strict=True)],
            pa.timestamp("us"),
        ),
        position=pa.array([str(c.position) for c in changes], pa.string()),
        index=pa.array([c.index for c in changes], pa.int32()),
    )


def column_array(table: Table, column: Column, rows: Sequence[Row | None]) -> pa.Array:
    """One column of ``rows`` (None rows give NULL) in the column's Arrow type."""
    convert = _converter(column)
    name = column.name
    values = []
    for row in rows:
        if row is None:
            values.append(None)
            continue
        if name not in row:
            if column.generated:  # virtual columns are not logged
                values.append(None)
                continue
            raise OperationFailed(
                f"the binlog row of {table.qualified} has no column {name!r} (it has "
                f"{', '.join(row)}); the table changed since it was discovered: rediscover it after a DDL"
            )
        value = row[name]
        values.append(None if value is None else convert(value))
    return pa.array(values, type=_read(column).target)


def value_converter(column: Column) -> Converter:
    """How one column's binlog values become the values the full load gives (module table)."""
    t = column.data_type.lower()
    if t in ("date", "datetime"):
        return zero_date_to_none
    if t == "timestamp":
        return _timestamp
    if t == "time":
        fsp = column.datetime_precision or 0
        return lambda v: time_text(v, fsp)
    if t == "bit":
        bits = _bits(column)
        return lambda v: bit_value(v, bits)
    if t == "year":
        return lambda v: 0 if v == 1900 else v
    if t == "binary":
        width = column.length or 0
        return lambda v: _bytes(v).ljust(width, b"\0")
    if t in _BYTES_TYPES:
        return _bytes
    if t == "json":
        return _json_text
    if t == "uuid":
        return lambda v: str(uuid.UUID(bytes=_bytes(v).ljust(16, b"\0")))
    if t == "inet4":
        return lambda v: str(ipaddress.IPv4Address(_bytes(v).ljust(4, b"\0")))
    if t == "inet6":
        return _inet6_text
    if t in _TEXT_TYPES:
        return _text
    return _same


# Per column, once: a CDC run converts every column of every transaction, and a single-row
# transaction paid more for recomputing these than for its values (bench/cdc.py's profile).
_read = functools.lru_cache(maxsize=4096)(column_read)
_converter = functools.lru_cache(maxsize=4096)(value_converter)


def _owned(table: Table, change: Change) -> bool:
    return change.schema == table.schema and change.table == table.name


def _same(value: Any) -> Any:
    return value


def _timestamp(value: dt.datetime) -> dt.datetime | None:
    return None if value == _EPOCH else value  # TIMESTAMP's range starts at 1970-01-01 00:00:01


def _bits(column: Column) -> int:
    match = re.search(r"\((\d+)\)", column.column_type)
    return int(match.group(1)) if match else (column.precision or 1)


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):  # the library returns '' for an empty value
        return value.encode("utf-8")
    return bytes(value)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes | bytearray) else str(value)


def _inet6_text(value: Any) -> str:
    """INET6 as MariaDB prints it (glibc ``inet_ntop``): IPv4-mapped and IPv4-compatible addresses
    end in dotted quads, which Python's ``str(IPv6Address)`` writes in hex."""
    raw = _bytes(value).ljust(16, b"\0")
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, 16, 2)]
    zeros = next((i for i, w in enumerate(words) if w), 8)  # leading zero words
    dotted = str(ipaddress.IPv4Address(raw[12:]))
    if zeros == 5 and words[5] == 0xFFFF:
        return f"::ffff:{dotted}"
    if zeros == 6:
        return f"::{dotted}"
    return ipaddress.IPv6Address(raw).compressed


def _json_text(value: Any) -> str:
    """MariaDB: the stored text. MySQL's binary JSON arrives decoded; it is re-serialized (the
    server's own spacing, ``", "`` and ``": "``), which matches the full load for most documents."""
    if isinstance(value, str | bytes | bytearray):
        return _text(value)
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {_text(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value
