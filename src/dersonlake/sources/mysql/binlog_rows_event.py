"""WRITE/UPDATE/DELETE rows events (v1, v2, MySQL's PARTIAL_UPDATE_ROWS, MariaDB's compressed ones)
-> ``RowsEvent``: the table, the operation and every row's images.

Layout: table id (6 bytes), flags (2), v2 only: extra data (its length counts itself), the column
count, the columns-present bitmap (a second one for updates: the after image's), then the row
images (``binlog_row_images``), zlib-compressed for MariaDB's compressed events.

The decoding loop is compiled when the extension was built (``_binlog_row_images_c``) and pure
Python otherwise or with ``DERSONLAKE_PURE_PYTHON=1``; ``row_decoder_name()`` says which runs.
"""

from __future__ import annotations

import codecs
import logging
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from dersonlake.sources.mysql import binlog_event_types as ev
from dersonlake.sources.mysql import binlog_row_images as pure
from dersonlake.sources.mysql.binlog_compression import mariadb_uncompress
from dersonlake.sources.mysql.binlog_framing import BinlogCorrupt
from dersonlake.sources.mysql.binlog_json import JsonDiffs, apply_json_diffs, diffs_text
from dersonlake.sources.mysql.binlog_table_map import ColumnDef, TableMap, read_lenenc

Row = dict[str, Any]
PURE_PYTHON_ENV = "DERSONLAKE_PURE_PYTHON"
log = logging.getLogger(__name__)


def _implementation() -> ModuleType:
    """The compiled decoder unless disabled, missing, or older than its source (an editable
    install not rebuilt since ``binlog_row_images.py`` changed would decode the old way)."""
    if os.environ.get(PURE_PYTHON_ENV, "") not in ("", "0"):
        return pure
    try:
        from dersonlake.sources.mysql import _binlog_row_images_c as compiled  # type: ignore[attr-defined]
    except ImportError:
        return pure
    built, source = getattr(compiled, "__file__", None), getattr(pure, "__file__", None)
    if built and source and os.path.getmtime(source) > os.path.getmtime(built):
        log.warning("the compiled binlog row decoder is older than %s: using the pure-Python one; "
                    "run `make install` (pip install -e .) to rebuild it", source)  # fmt: skip
        return pure
    return compiled


_IMPL = _implementation()


def row_decoder_name() -> str:
    """``compiled`` or ``pure-python``: which row decoder this process uses."""
    return "pure-python" if _IMPL is pure else "compiled"


def use_pure_python(pure_python: bool) -> None:
    """Switch the row decoder (tests run both in one process)."""
    global _IMPL
    if pure_python:
        _IMPL = pure
    else:
        os.environ.pop(PURE_PYTHON_ENV, None)
        _IMPL = _implementation()


@dataclass(frozen=True, slots=True)
class RowsEvent:
    """The rows of one event: ``rows`` holds (image, None) for I/D and (before, after) for U.

    ``full`` is true when both images hold every column of the table (``binlog_row_image=FULL``);
    ``missing`` names the columns left out otherwise.
    """

    table: TableMap
    op: str
    rows: list[tuple[Row, Row | None]]
    full: bool
    missing: tuple[str, ...]


def rows_table_id(body: bytes, post_header_len: int) -> int:
    """The table id a rows event body refers to (to skip tables nobody captures undecoded)."""
    return int.from_bytes(body[0 : 4 if post_header_len == 6 else 6], "little")


def parse_rows_event(
    event_type: int, body: bytes, post_header_len: int, table: TableMap, where: str
) -> RowsEvent:
    """The body of a rows event (after the common header, without the checksum) of ``table``."""
    op, version, compressed = ev.ROWS_EVENTS[event_type]
    try:
        pos = 4 if post_header_len == 6 else 6
        pos += 2  # flags
        if version == 2:
            extra = int.from_bytes(body[pos : pos + 2], "little")
            if extra < 2:
                raise ValueError(f"extra data length {extra}")
            pos += extra
        count, pos = read_lenenc(body, pos)
        if count != len(table.columns):
            raise BinlogCorrupt(
                where,
                f"rows event of {table.schema}.{table.table} has {count} columns, its Table_map "
                f"{len(table.columns)}",
            )
        size = (count + 7) // 8
        present = int.from_bytes(body[pos : pos + size], "little")
        pos += size
        present_after = present
        if op == "U":
            present_after = int.from_bytes(body[pos : pos + size], "little")
            pos += size
        if pos > len(body):
            raise ValueError("column bitmaps cut short")
        data: bytes | memoryview = body
        if compressed:
            data = mariadb_uncompress(bytes(body[pos:]), where)
            pos = 0
        before = _plan(table, present)
        after = _plan(table, present_after) if op == "U" else None
        partial = table.json_columns if event_type == ev.PARTIAL_UPDATE_ROWS else 0
        rows = _IMPL.decode_rows(data, pos, len(data), before, after, op == "U", partial)
    except BinlogCorrupt:
        raise
    except (ValueError, IndexError, UnicodeDecodeError, OverflowError) as exc:
        raise BinlogCorrupt(where, f"malformed rows event of {table.schema}.{table.table} ({exc})") from None
    every = (1 << len(table.columns)) - 1
    full = present & every == every and present_after & every == every
    missing: tuple[str, ...] = ()
    if not full:
        missing = tuple(c.label for c in table.columns if not (present & present_after) >> c.index & 1)
    if partial:
        _apply_partial(rows)
    return RowsEvent(table, op, rows, full, missing)


def _apply_partial(rows: list[tuple[Row, Row | None]]) -> None:
    """Turn JSON diffs into the full after image (the before image has the document when
    ``binlog_row_image=FULL``), or into mysqlbinlog's ``JSON_REPLACE(@col, ...)`` text when not."""
    for before, after in rows:
        assert after is not None
        for name, value in after.items():
            if isinstance(value, JsonDiffs):
                document = before.get(name)
                if isinstance(document, str):
                    after[name] = apply_json_diffs(document, list(value))
                else:
                    after[name] = diffs_text(name, list(value))


# -- plans: how to read each present column --------------------------------------------------------
_INTS = {
    ev.T_TINY: (pure.K_INT8, pure.K_UINT8),
    ev.T_SHORT: (pure.K_INT16, pure.K_UINT16),
    ev.T_INT24: (pure.K_INT24, pure.K_UINT24),
    ev.T_LONG: (pure.K_INT32, pure.K_UINT32),
    ev.T_LONGLONG: (pure.K_INT64, pure.K_UINT64),
}
_BLOBS = frozenset({ev.T_BLOB, ev.T_TINY_BLOB, ev.T_MEDIUM_BLOB, ev.T_LONG_BLOB})


def _plan(table: TableMap, present: int) -> list[tuple[Any, ...]]:
    cache: dict[int, list[tuple[Any, ...]]] = table.plan if isinstance(table.plan, dict) else {}
    table.plan = cache
    plan = cache.get(present)
    if plan is None:
        json_ordinal = {c.index: i for i, c in enumerate(c for c in table.columns if c.type == ev.T_JSON)}
        plan = [
            _column_plan(c, json_ordinal.get(c.index, 0), table)
            for c in table.columns
            if present >> c.index & 1
        ]
        cache[present] = plan
    return plan


def _column_plan(c: ColumnDef, json_ordinal: int, table: TableMap) -> tuple[Any, ...]:
    name = c.label
    t = c.type
    if t in _INTS:
        return (name, _INTS[t][1 if c.unsigned else 0], 0, 0, 0)
    if t == ev.T_FLOAT:
        return (name, pure.K_FLOAT, 0, 0, 0)
    if t == ev.T_DOUBLE:
        return (name, pure.K_DOUBLE, 0, 0, 0)
    if t == ev.T_NEWDECIMAL:
        return (name, pure.K_DECIMAL, c.meta, c.scale, _decimal_size(c.meta, c.scale))
    if t == ev.T_YEAR:
        return (name, pure.K_YEAR, 0, 0, 0)
    if t in (ev.T_VARCHAR, ev.T_VAR_STRING, ev.T_STRING):
        width = 1 if c.meta < 256 else 2
        return (name, pure.K_STR1 if width == 1 else pure.K_STR2, width, encoding(c.collation), 0)
    if t in _BLOBS:
        return (name, pure.K_BLOB, c.meta, encoding(c.collation), 0)
    if t in (ev.T_GEOMETRY, ev.T_VECTOR):
        return (name, pure.K_BYTES, c.meta, 0, 0)
    if t == ev.T_JSON:
        return (name, pure.K_JSON, c.meta, json_ordinal, 0)
    if t == ev.T_DATE:
        return (name, pure.K_DATE, 0, 0, 0)
    if t == ev.T_DATETIME2:
        return (name, pure.K_DATETIME2, c.meta, 0, 0)
    if t == ev.T_TIMESTAMP2:
        return (name, pure.K_TIMESTAMP2, c.meta, 0, 0)
    if t == ev.T_TIME2:
        return (name, pure.K_TIME2, c.meta, 0, 0)
    if t == ev.T_ENUM:
        return (name, pure.K_ENUM, c.meta, c.members, 0)
    if t == ev.T_SET:
        return (name, pure.K_SET, c.meta, c.members, 0)
    if t == ev.T_BIT:
        return (name, pure.K_BIT, (c.meta + 7) // 8, 0, 0)
    if t == ev.T_TIMESTAMP:
        return (name, pure.K_TIMESTAMP, 0, 0, 0)
    if t == ev.T_DATETIME:
        return (name, pure.K_DATETIME, 0, 0, 0)
    if t == ev.T_TIME:
        return (name, pure.K_TIME, 0, 0, 0)
    if t == ev.T_NULL:
        return (name, pure.K_NULL, 0, 0, 0)
    raise ValueError(
        f"column {name} of {table.schema}.{table.table} has binlog type {t}, which this reader cannot decode"
    )


_GROUP = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


def _decimal_size(precision: int, scale: int) -> int:
    whole = precision - scale
    return (whole // 9) * 4 + _GROUP[whole % 9] + (scale // 9) * 4 + _GROUP[scale % 9]


_ENCODINGS: dict[int | None, str | None] = {None: None, 63: None}


def encoding(collation: int | None) -> str | None:
    """The Python codec of a MySQL collation id; None (keep bytes) for binary or unknown ones."""
    if collation in _ENCODINGS:
        return _ENCODINGS[collation]
    from pymysql.charset import charset_by_id

    name: str | None
    try:
        name = charset_by_id(collation).encoding
    except KeyError:
        name = None
    if name is not None:
        try:
            codecs.lookup(name)
        except LookupError:
            name = None
    _ENCODINGS[collation] = name
    return name
