"""MySQL/MariaDB column types -> DMS types -> Arrow types, and the value conventions readers follow.

The mapping is AWS DMS's own table (``reference/dms.md`` §3.4), so a lake written locally types its
columns as a lake written by DMS does. ``dms_type_for()`` works on the raw ``information_schema``
facts; ``column_arrow_type()`` / ``arrow_schema()`` give the Arrow types through
``dms_types.arrow_type()``.

Value conventions every reader (snapshot and binlog) must follow, so that LOAD and CDC files of the
same column hold the same values:

=====================  =============================================================================
MySQL type             value in the Arrow batch
=====================  =============================================================================
TIMESTAMP              the UTC wall time (sessions run with ``time_zone='+00:00'``; binlog values
                       are epoch seconds, i.e. UTC), as a zone-less ``timestamp[us]``
DATETIME               the stored wall time, no zone conversion, ``timestamp[us]``
DATE/DATETIME/TIMESTAMP zero or partly-zero dates (``0000-00-00``, ``2024-00-10``) -> NULL, as DMS does
TIME                   text ``[-]H..HH:MM:SS[.ffffff]`` (``-12:30:00``, ``838:59:59``); the fraction
                       has exactly the column's fsp digits and is absent when fsp = 0
YEAR                   int16 (``2024``; YEAR 0000 -> 0)
BIT(1)                 bool
BIT(n>1)               ``ceil(n/8)`` big-endian bytes (BIT(12) b'111111111111' -> ``b'\\x0f\\xff'``)
DECIMAL(p,s)           exact ``decimal128(p,s)`` (``decimal256`` above 38 digits)
FLOAT                  float64 (DMS widens FLOAT to REAL8); the value MySQL returns as text, parsed
JSON                   the JSON text as the server returns it (MariaDB: as stored)
ENUM / SET             the member text; SET members joined by ``,`` in definition order; '' stays ''
CHAR/VARCHAR/TEXT      str (utf8); CHAR trailing spaces stripped, as MySQL returns them
BINARY/VARBINARY/BLOB  bytes (BINARY(n) keeps its 0x00 padding)
spatial                the bytes MySQL returns (4-byte SRID + WKB)
=====================  =============================================================================

``time_text()``, ``bit_value()`` and ``zero_date_to_none()`` below implement the conversions that
differ between drivers, so both readers share one implementation.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from dersonlake.dms_types import DmsType, arrow_type

if TYPE_CHECKING:
    import pyarrow as pa

    from dersonlake.sources.catalog import Column, Table

SPATIAL_TYPES = frozenset(
    {
        "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
        "multipolygon", "geometrycollection", "geomcollection",
    }
)  # fmt: skip

_SIGNED_INTS = {"tinyint": "int1", "smallint": "int2", "mediumint": "int4", "int": "int4", "integer": "int4",
                "bigint": "int8"}  # fmt: skip
_UNSIGNED_INTS = {"tinyint": "uint1", "smallint": "uint2", "mediumint": "uint4", "int": "uint4",
                  "integer": "uint4", "bigint": "uint8"}  # fmt: skip
_FIXED_BYTES = {"tinyblob": 255, "blob": 65535}
_FIXED_TEXT = {"tinytext": 255, "text": 65535}
# MariaDB's own string-like types (10.7+ uuid, 10.5+ inet6, 11.3+ inet4): text of their display width.
_MARIADB_TEXTUAL = {"uuid": 36, "inet6": 39, "inet4": 15}


class UnmappedType(ValueError):
    """A column type with no DMS equivalent (raised only for types MySQL/MariaDB do not have)."""


def enum_values(column_type: str) -> tuple[str, ...]:
    """The members of ``enum('a','b')`` / ``set('a','b')`` as MySQL lists them (quotes un-doubled)."""
    start = column_type.find("(")
    end = column_type.rfind(")")
    if start < 0 or end < start:
        return ()
    body = column_type[start + 1 : end]
    return tuple(m.replace("''", "'").replace("\\\\", "\\") for m in re.findall(r"'((?:[^']|'')*)'", body))


def _type_args(column_type: str) -> tuple[int, ...]:
    match = re.search(r"\(([\d,\s]+)\)", column_type)
    if not match:
        return ()
    return tuple(int(x) for x in match.group(1).split(",") if x.strip())


def dms_type_for(
    data_type: str,
    column_type: str = "",
    *,
    char_length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
) -> DmsType:
    """The DMS type of a MySQL column, from ``information_schema.COLUMNS`` facts.

    ``data_type`` is ``DATA_TYPE`` (``int``, ``varchar``, ``json`` ...), ``column_type`` the full
    ``COLUMN_TYPE`` (``int(10) unsigned``, ``enum('a','b')``); ``char_length`` is
    ``CHARACTER_MAXIMUM_LENGTH``; ``precision``/``scale`` are ``NUMERIC_PRECISION``/``NUMERIC_SCALE``.
    """
    dt = data_type.lower().strip()
    ct = (column_type or dt).lower()
    args = _type_args(ct)
    if dt in _SIGNED_INTS:
        return DmsType(_UNSIGNED_INTS[dt] if "unsigned" in ct else _SIGNED_INTS[dt])
    if dt in ("decimal", "numeric", "dec", "fixed"):
        p = precision if precision is not None else (args[0] if args else 10)
        s = scale if scale is not None else (args[1] if len(args) > 1 else 0)
        return DmsType("numeric", precision=p, scale=s)
    if dt in ("float", "double", "real", "double precision"):
        return DmsType("real8")
    if dt == "bit":
        bits = args[0] if args else (precision or 1)
        return DmsType("boolean") if bits == 1 else DmsType("bytes", length=(bits + 7) // 8)
    if dt in ("binary", "varbinary"):
        n = char_length if char_length is not None else (args[0] if args else 1)
        return DmsType("bytes", length=n)
    if dt in _FIXED_BYTES:
        return DmsType("bytes", length=_FIXED_BYTES[dt])
    if dt in ("mediumblob", "longblob"):
        return DmsType("blob")
    if dt in ("char", "varchar"):
        n = char_length if char_length is not None else (args[0] if args else 1)
        return DmsType("wstring", length=n)
    if dt in _FIXED_TEXT:
        return DmsType("wstring", length=_FIXED_TEXT[dt])
    if dt in ("mediumtext", "longtext"):
        return DmsType("nclob")
    if dt == "json":
        return DmsType("clob")
    if dt == "enum":
        return DmsType("wstring", length=max((len(v) for v in enum_values(ct)), default=0))
    if dt == "set":
        members = enum_values(ct)
        return DmsType("wstring", length=sum(len(v) for v in members) + max(len(members) - 1, 0))
    if dt == "date":
        return DmsType("date")
    if dt in ("datetime", "timestamp"):
        return DmsType("datetime")
    if dt == "time":
        return DmsType("string", length=time_text_length(args[0] if args else 0))
    if dt == "year":
        return DmsType("int2")
    if dt in SPATIAL_TYPES:
        return DmsType("blob")
    if dt in _MARIADB_TEXTUAL:
        return DmsType("wstring", length=_MARIADB_TEXTUAL[dt])
    if dt == "bool" or dt == "boolean":  # only reachable from hand-written input; MySQL says tinyint
        return DmsType("int1")
    raise UnmappedType(f"MySQL type {column_type or data_type!r} has no DMS mapping")


def time_text_length(fsp: int) -> int:
    """Width of the TIME text: ``-838:59:59`` is 10 characters, plus ``.`` and fsp digits."""
    return 10 + (fsp + 1 if fsp else 0)


def column_arrow_type(column: Column) -> pa.DataType:
    """The Arrow type a reader produces for ``column`` (conventions in this module's docstring)."""
    return arrow_type(column.dms_type)


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of ``table``'s rows, columns in ordinal order, nullability as declared."""
    import pyarrow as pa

    cols = sorted(table.columns, key=lambda c: c.ordinal)
    return pa.schema([pa.field(c.name, column_arrow_type(c), nullable=c.nullable) for c in cols])


# -- value helpers shared by the snapshot and binlog readers ------------------------------------------
def time_text(value: dt.timedelta | None, fsp: int = 0) -> str | None:
    """A TIME value as MySQL prints it: ``[-]HH:MM:SS`` plus ``.`` and ``fsp`` digits when fsp > 0.

    PyMySQL and the binlog library both hand TIME over as ``timedelta`` (negative ones included).
    """
    if value is None:
        return None
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{fraction:06d}"[: len(text) + 1 + fsp] if fsp else text


def bit_value(value: Any, bits: int) -> bool | bytes | None:
    """A BIT value: ``bool`` for BIT(1), else ``ceil(bits/8)`` big-endian bytes.

    Accepts what the drivers give: ``bytes`` (PyMySQL), a ``'0101'`` string (the binlog library) or
    an ``int``.
    """
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        number = int.from_bytes(value, "big")
    elif isinstance(value, str):
        number = int(value, 2) if value else 0
    else:
        number = int(value)
    if bits == 1:
        return bool(number)
    return number.to_bytes((bits + 7) // 8, "big")


def zero_date_to_none(value: Any) -> dt.date | dt.datetime | None:
    """DATE/DATETIME/TIMESTAMP with a zero part -> None, as DMS writes them.

    PyMySQL returns such values as the raw text (``'0000-00-00'``, ``'2024-00-10'``) because they
    are not valid dates; the binlog library already returns None.
    """
    if value is None or isinstance(value, str | bytes):
        return None
    return value
