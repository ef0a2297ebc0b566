"""TABLE_MAP events: which table a rows event changes, and how each of its columns is laid out.

Every rows event names a table by a number (``table_id``) that the Table_map before it defines:
schema, table, each column's type code and type metadata (lengths, precision, fsp), nullability,
and, with ``binlog_row_metadata=MINIMAL|FULL``, optional metadata as type-length-value fields:
signedness, charsets, column names, ENUM/SET members, primary key, geometry types, visibility and
(MySQL 9) vector dimensions. ``ColumnDef`` gathers all of it per column, once per table id, so the
row decoder never looks anything up per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dersonlake.sources.mysql import binlog_event_types as ev
from dersonlake.sources.mysql.binlog_framing import BinlogCorrupt

# optional metadata field types
_SIGNEDNESS = 1
_DEFAULT_CHARSET = 2
_COLUMN_CHARSET = 3
_COLUMN_NAME = 4
_SET_STR_VALUE = 5
_ENUM_STR_VALUE = 6
_GEOMETRY_TYPE = 7
_SIMPLE_PRIMARY_KEY = 8
_PRIMARY_KEY_WITH_PREFIX = 9
_ENUM_AND_SET_DEFAULT_CHARSET = 10
_ENUM_AND_SET_COLUMN_CHARSET = 11
_COLUMN_VISIBILITY = 12
_VECTOR_DIMENSIONALITY = 13

_ONE_BYTE_META = frozenset(
    {
        ev.T_FLOAT, ev.T_DOUBLE, ev.T_BLOB, ev.T_TINY_BLOB, ev.T_MEDIUM_BLOB, ev.T_LONG_BLOB,
        ev.T_GEOMETRY, ev.T_JSON, ev.T_VECTOR, ev.T_TIMESTAMP2, ev.T_DATETIME2, ev.T_TIME2,
    }
)  # fmt: skip
_TWO_BYTE_META = frozenset(
    {ev.T_VARCHAR, ev.T_VAR_STRING, ev.T_BIT, ev.T_NEWDECIMAL, ev.T_STRING, ev.T_ENUM, ev.T_SET}
)


@dataclass
class ColumnDef:
    """One column as the binlog describes it. ``type`` is the real type (a CHAR column's STRING
    code already resolved to ENUM/SET/STRING); ``meta`` is its decoded type metadata: for strings
    the maximum byte length, for BLOB/JSON/GEOMETRY the size of the length prefix, precision and
    scale for DECIMAL, bits for BIT, fsp for temporal types, the pack length for ENUM/SET."""

    index: int
    type: int
    meta: int = 0
    scale: int = 0
    nullable: bool = True
    name: str | None = None
    unsigned: bool = False
    collation: int | None = None
    members: list[str] | None = None
    visible: bool = True
    primary_key: bool = False
    dimensions: int | None = None

    @property
    def label(self) -> str:
        """The name, or ``@N`` (1-based, as mysqlbinlog prints) without FULL row metadata."""
        return self.name if self.name is not None else f"@{self.index + 1}"


@dataclass
class TableMap:
    """A Table_map event: ``table_id`` -> ``schema.table`` and its ``columns``."""

    table_id: int
    schema: str
    table: str
    columns: list[ColumnDef]
    flags: int = 0
    primary_key: list[int] = field(default_factory=list)
    #: per-definition caches of the row decoder (compiled column plan), filled on first use
    plan: object = None

    @property
    def json_columns(self) -> int:
        return sum(1 for c in self.columns if c.type == ev.T_JSON)


def parse_table_map(body: bytes, post_header_len: int, where: str, *, mariadb: bool = False) -> TableMap:
    """The body of a Table_map event (after the common header, without the checksum).

    ``mariadb``: MariaDB counts YEAR among the numeric columns of the signedness bitmap (its
    YEAR is an unsigned integer field), MySQL does not."""
    try:
        return _parse(body, post_header_len, mariadb)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise BinlogCorrupt(where, f"malformed Table_map event ({exc})") from None


def _parse(body: bytes, post_header_len: int, mariadb: bool) -> TableMap:
    id_size = 4 if post_header_len == 6 else 6
    table_id = int.from_bytes(body[0:id_size], "little")
    pos = id_size
    flags = int.from_bytes(body[pos : pos + 2], "little")
    pos += 2
    schema, pos = _counted_name(body, pos)
    table, pos = _counted_name(body, pos)
    count, pos = read_lenenc(body, pos)
    types = body[pos : pos + count]
    if len(types) != count:
        raise ValueError("column types cut short")
    pos += count
    meta_len, pos = read_lenenc(body, pos)
    meta_end = pos + meta_len
    if meta_end > len(body):
        raise ValueError("type metadata cut short")
    columns: list[ColumnDef] = []
    for index, code in enumerate(types):
        column = ColumnDef(index, code)
        pos = _type_meta(column, body, pos)
        columns.append(column)
    if pos != meta_end:
        raise ValueError(
            f"type metadata is {meta_len} bytes but the column types use {pos - meta_end + meta_len}"
        )
    null_bytes = (count + 7) // 8
    nulls = int.from_bytes(body[pos : pos + null_bytes], "little")
    pos += null_bytes
    for column in columns:
        column.nullable = bool(nulls >> column.index & 1)
    result = TableMap(table_id, schema, table, columns, flags)
    _optional_metadata(result, body, pos, mariadb)
    return result


def _counted_name(body: bytes, pos: int) -> tuple[str, int]:
    length = body[pos]
    name = body[pos + 1 : pos + 1 + length].decode("utf-8")
    if body[pos + 1 + length] != 0:
        raise ValueError("name not NUL-terminated")
    return name, pos + 2 + length


def read_lenenc(buf: bytes, pos: int) -> tuple[int, int]:
    """A length-encoded integer of the client/server protocol: (value, position after it)."""
    first = buf[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFC:
        return int.from_bytes(buf[pos + 1 : pos + 3], "little"), pos + 3
    if first == 0xFD:
        return int.from_bytes(buf[pos + 1 : pos + 4], "little"), pos + 4
    if first == 0xFE:
        if pos + 9 > len(buf):
            raise ValueError("length-encoded integer cut short")
        return int.from_bytes(buf[pos + 1 : pos + 9], "little"), pos + 9
    raise ValueError(f"invalid length-encoded integer prefix 0x{first:02x}")


def _type_meta(column: ColumnDef, body: bytes, pos: int) -> int:
    code = column.type
    if code in _ONE_BYTE_META:
        column.meta = body[pos]
        return pos + 1
    if code not in _TWO_BYTE_META:
        return pos
    b0, b1 = body[pos], body[pos + 1]
    if code in (ev.T_VARCHAR, ev.T_VAR_STRING):
        column.meta = b0 | b1 << 8
    elif code == ev.T_NEWDECIMAL:
        column.meta, column.scale = b0, b1
    elif code == ev.T_BIT:
        column.meta = b1 * 8 + b0  # bits
    elif code == ev.T_STRING:
        real = b0
        if real in (ev.T_ENUM, ev.T_SET):
            column.type, column.meta = real, b1
        else:  # CHAR(n): lengths above 255 keep two high bits in the type byte
            column.meta = b1 | (((b0 & 0x30) ^ 0x30) << 4)
    else:  # ENUM / SET written with their own code
        column.meta = b1
    return pos + 2


def _optional_metadata(table: TableMap, body: bytes, pos: int, mariadb: bool) -> None:
    columns = table.columns
    numeric_types = ev.NUMERIC_TYPES | {ev.T_YEAR} if mariadb else ev.NUMERIC_TYPES
    numeric = [c for c in columns if c.type in numeric_types]
    character = [c for c in columns if c.type in ev.CHARACTER_TYPES]
    enum_set = [c for c in columns if c.type in (ev.T_ENUM, ev.T_SET)]
    while pos < len(body):
        kind = body[pos]
        length, pos = read_lenenc(body, pos + 1)
        value = body[pos : pos + length]
        if len(value) != length:
            raise ValueError(f"optional metadata field {kind} cut short")
        pos += length
        if kind == _SIGNEDNESS:
            for i, column in enumerate(numeric):
                column.unsigned = bool(value[i // 8] >> (7 - i % 8) & 1)
        elif kind in (_DEFAULT_CHARSET, _ENUM_AND_SET_DEFAULT_CHARSET):
            _default_charset(character if kind == _DEFAULT_CHARSET else enum_set, value)
        elif kind in (_COLUMN_CHARSET, _ENUM_AND_SET_COLUMN_CHARSET):
            at = 0
            for column in character if kind == _COLUMN_CHARSET else enum_set:
                column.collation, at = read_lenenc(value, at)
        elif kind == _COLUMN_NAME:
            at = 0
            for column in columns:
                size, at = read_lenenc(value, at)
                column.name = value[at : at + size].decode("utf-8")
                at += size
        elif kind in (_SET_STR_VALUE, _ENUM_STR_VALUE):
            wanted = ev.T_SET if kind == _SET_STR_VALUE else ev.T_ENUM
            at = 0
            for column in (c for c in columns if c.type == wanted):
                count, at = read_lenenc(value, at)
                members = []
                for _ in range(count):
                    size, at = read_lenenc(value, at)
                    members.append(value[at : at + size].decode("utf-8"))
                    at += size
                column.members = members
        elif kind == _SIMPLE_PRIMARY_KEY:
            at = 0
            while at < len(value):
                index, at = read_lenenc(value, at)
                table.primary_key.append(index)
        elif kind == _PRIMARY_KEY_WITH_PREFIX:
            at = 0
            while at < len(value):
                index, at = read_lenenc(value, at)
                _prefix, at = read_lenenc(value, at)
                table.primary_key.append(index)
        elif kind == _COLUMN_VISIBILITY:
            for i, column in enumerate(columns):
                column.visible = bool(value[i // 8] >> (7 - i % 8) & 1)
        elif kind == _VECTOR_DIMENSIONALITY:
            at = 0
            for column in (c for c in columns if c.type == ev.T_VECTOR):
                column.dimensions, at = read_lenenc(value, at)
        # _GEOMETRY_TYPE and fields newer than this reader describe nothing the values need
    for index in table.primary_key:
        if index < len(columns):
            columns[index].primary_key = True


def _default_charset(columns: list[ColumnDef], value: bytes) -> None:
    default, at = read_lenenc(value, 0)
    for column in columns:
        column.collation = default
    while at < len(value):
        index, at = read_lenenc(value, at)
        collation, at = read_lenenc(value, at)
        if index < len(columns):
            columns[index].collation = collation
