"""Decoding the row images of a rows event ourselves: the same values as python-mysql-replication,
several times faster.

Why: profiled here, the library spent half of a reader run inside ``RowsEvent.rows``: per column it
walks an if-chain of 30 types, calls ``packet.read`` (which slices and re-buffers bytes) two to four
times, tests bitmaps through helper calls and looks the column's name up in the table map again.
The binlog layout of a row is fixed by its Table_map, so all of that can be decided once per table
definition: ``RowDecoder`` compiles one small reader per column (a precompiled ``struct`` or a
slice, chosen by type and metadata) and a row is a loop over those readers on the event's bytes.

What is shared with the library, and what is not:

* The library still reads the stream, parses the event headers and Table_map events (cached per
  table id by ``freeze_schema``), and resolves column names, charsets, ENUM/SET members and
  unsignedness from the Table_map's optional metadata. We read ``Column`` objects it made.
* Only the row bytes are decoded here, starting where the library's ``RowsEvent`` constructor left
  the packet (just after the columns-present bitmaps).
* The values are the library's own for every type decoded here (the type table in
  ``binlog_batches``), except SET: members joined in definition order and the empty set as ``''``,
  which is what ``binlog_reader`` made of the library's SET values anyway.
* Anything unusual goes back to the library, per event: a column type not in ``_FAST_TYPES``
  (MySQL's binary JSON, pre-5.6 temporal types), a column without a name in the metadata, a
  partial image (``binlog_row_image`` not FULL: the library's none-sources say which columns are
  missing, and the reader refuses them), a partial JSON update, or a checksum-less oddity where the
  byte count does not add up. ``decoder_for`` returns None then, and ``decode_rows`` is not used.

``tests/sources/test_binlog_rows.py`` decodes the seeded type zoo both ways and compares; it also
fails if the library version changes, since this module depends on its event internals
(``packet.packet._data`` / ``_position``, ``read_bytes``, ``columns_present_bitmap``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from collections.abc import Callable
from typing import Any

from pymysqlreplication.constants import BINLOG, FIELD_TYPE
from pymysqlreplication.row_event import RowsEvent, UpdateRowsEvent

LIBRARY_VERSION = "1.0.17"  # the python-mysql-replication whose internals this module reads

Row = dict[str, Any]
Reader = Callable[[bytes, int], tuple[Any, int]]

_EPOCH = dt.datetime(1970, 1, 1)
_DECIMAL_BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)  # bytes of a group of 0..9 leftover digits
_FSP_BYTES = (0, 1, 1, 2, 2, 3, 3)
_FAST_TYPES = frozenset(
    {
        FIELD_TYPE.TINY, FIELD_TYPE.SHORT, FIELD_TYPE.INT24, FIELD_TYPE.LONG, FIELD_TYPE.LONGLONG,
        FIELD_TYPE.FLOAT, FIELD_TYPE.DOUBLE, FIELD_TYPE.NEWDECIMAL, FIELD_TYPE.YEAR,
        FIELD_TYPE.VARCHAR, FIELD_TYPE.STRING, FIELD_TYPE.BLOB, FIELD_TYPE.GEOMETRY,
        FIELD_TYPE.DATE, FIELD_TYPE.DATETIME2, FIELD_TYPE.TIMESTAMP2, FIELD_TYPE.TIME2,
        FIELD_TYPE.ENUM, FIELD_TYPE.SET, FIELD_TYPE.BIT,
    }
)  # fmt: skip
_PARTIAL_UPDATE = getattr(BINLOG, "PARTIAL_UPDATE_ROWS_EVENT", -1)


class RowDecoder:
    """Row images of one table definition (one Table_map), compiled once."""

    def __init__(self, names: list[str], readers: list[Reader]) -> None:
        self.names = names
        self.readers = list(zip(names, readers, strict=True))
        self.null_bytes = (len(names) + 7) // 8
        # the columns-present bitmap of a full image: every column's bit set
        self.full_bitmap = ((1 << len(names)) - 1).to_bytes(self.null_bytes, "little")

    def image(self, buf: bytes, pos: int) -> tuple[Row, int]:
        """One row image at ``pos``: (column name -> value, the position after it)."""
        n = self.null_bytes
        nulls = int.from_bytes(buf[pos : pos + n], "little")
        pos += n
        row: Row = {}
        bit = 1
        for name, read in self.readers:
            if nulls & bit:
                row[name] = None
            else:
                row[name], pos = read(buf, pos)
            bit <<= 1
        return row, pos


def decoder_for(ev: RowsEvent, cache: dict[int, tuple[Any, RowDecoder | None]]) -> RowDecoder | None:
    """The decoder of ``ev``'s table (``cache`` keeps one per Table_map object), or None when the
    event must go through the library (module docstring)."""
    table = ev.table_map[ev.table_id]
    hit = cache.get(ev.table_id)
    if hit is None or hit[0] is not table:
        hit = (table, _compile(table.columns))
        cache[ev.table_id] = hit
    decoder = hit[1]
    if decoder is None or ev.event_type == _PARTIAL_UPDATE or not ev.complete:
        return None
    full = decoder.full_bitmap
    if ev.number_of_columns != len(decoder.names) or ev.columns_present_bitmap != full:
        return None
    if isinstance(ev, UpdateRowsEvent) and ev.columns_present_bitmap2 != full:
        return None
    return decoder


def decode_rows(ev: RowsEvent, decoder: RowDecoder) -> list[tuple[Row, Row | None]]:
    """Every row of ``ev``: (image, None) for writes/deletes, (before, after) for updates.

    Reads the bytes the library has not consumed yet without moving its packet's cursor, so
    ``ev.rows`` still decodes the event afterwards (the reader's fallback when this raises).
    """
    raw = ev.packet.packet  # pymysql's packet under the library's wrapper
    if ev.packet._BinLogPacketWrapper__data_buffer:  # bytes pushed back by ``unread``: not ours
        raise ValueError("the rows event has unread bytes buffered; decode it with the library")
    buf: bytes = raw._data
    pos: int = raw._position
    end = pos + ev.event_size - ev.packet.read_bytes
    image = decoder.image
    rows: list[tuple[Row, Row | None]] = []
    if isinstance(ev, UpdateRowsEvent):
        while pos < end:
            before, pos = image(buf, pos)
            after, pos = image(buf, pos)
            rows.append((before, after))
    else:
        while pos < end:
            row, pos = image(buf, pos)
            rows.append((row, None))
    if pos != end:
        raise ValueError(f"rows event decoded to byte {pos}, expected {end}")
    return rows


# -- compiling a table definition -------------------------------------------------------------------
def _compile(columns: list[Any]) -> RowDecoder | None:
    readers = []
    for column in columns:
        if column.type not in _FAST_TYPES or not column.name:
            return None
        readers.append(_reader(column))
    return RowDecoder([c.name for c in columns], readers)


def _reader(c: Any) -> Reader:
    t = c.type
    if t in _INTS:
        return _fixed(_INTS[t][1 if c.unsigned else 0])
    if t == FIELD_TYPE.INT24:
        return _uint24 if c.unsigned else _int24
    if t == FIELD_TYPE.FLOAT:
        return _fixed("<f")
    if t == FIELD_TYPE.DOUBLE:
        return _fixed("<d")
    if t == FIELD_TYPE.YEAR:
        return _year
    if t in (FIELD_TYPE.VARCHAR, FIELD_TYPE.STRING):
        return _string(2 if c.max_length > 255 else 1, c.character_set_name)
    if t == FIELD_TYPE.BLOB:
        return _string(c.length_size, c.character_set_name)
    if t == FIELD_TYPE.GEOMETRY:
        return _string(c.length_size, "binary")
    if t == FIELD_TYPE.NEWDECIMAL:
        return _decimal(c.precision, c.decimals)
    if t == FIELD_TYPE.DATE:
        return _date
    if t == FIELD_TYPE.DATETIME2:
        return _datetime2(c.fsp)
    if t == FIELD_TYPE.TIMESTAMP2:
        return _timestamp2(c.fsp)
    if t == FIELD_TYPE.TIME2:
        return _time2(c.fsp)
    if t == FIELD_TYPE.ENUM:
        return _enum(c.size, c.enum_values)
    if t == FIELD_TYPE.SET:
        return _set(c.size, c.set_values)
    return _bit(c.bits, c.bytes)  # FIELD_TYPE.BIT


_INTS = {
    FIELD_TYPE.TINY: ("<b", "<B"),
    FIELD_TYPE.SHORT: ("<h", "<H"),
    FIELD_TYPE.LONG: ("<i", "<I"),
    FIELD_TYPE.LONGLONG: ("<q", "<Q"),
}


def _fixed(fmt: str) -> Reader:
    unpack = struct.Struct(fmt).unpack_from
    size = struct.calcsize(fmt)

    def read(buf: bytes, pos: int) -> tuple[Any, int]:
        return unpack(buf, pos)[0], pos + size

    return read


def _uint24(buf: bytes, pos: int) -> tuple[int, int]:
    return int.from_bytes(buf[pos : pos + 3], "little"), pos + 3


def _int24(buf: bytes, pos: int) -> tuple[int, int]:
    return int.from_bytes(buf[pos : pos + 3], "little", signed=True), pos + 3


def _year(buf: bytes, pos: int) -> tuple[int, int]:
    return buf[pos] + 1900, pos + 1


def _string(length_size: int, charset: str | None) -> Reader:
    """A length-prefixed value, decoded as the library does: with the column's charset (utf-8 when
    the metadata has none), kept as bytes when Python has no such codec (``binary``)."""
    encoding: str | None = "utf-8"
    if charset is not None:
        encoding = RowsEvent.charset_to_encoding(charset)
        try:
            "".encode(encoding)
        except LookupError:
            encoding = None

    if encoding is None:

        def read(buf: bytes, pos: int) -> tuple[Any, int]:
            start = pos + length_size
            end = start + int.from_bytes(buf[pos:start], "little")
            return buf[start:end], end

    else:

        def read(buf: bytes, pos: int) -> tuple[Any, int]:
            start = pos + length_size
            end = start + int.from_bytes(buf[pos:start], "little")
            return buf[start:end].decode(encoding), end

    return read


def _decimal(precision: int, scale: int) -> Reader:
    """MySQL's packed DECIMAL: 9 digits per 4 bytes, leftover digits in 1-4 bytes, big-endian,
    the sign in the top bit (flipped), negative numbers stored inverted. Read as one integer, cut
    into its byte-aligned groups; the text has the library's digits (``scale`` after the point)."""
    whole = precision - scale
    groups = [_DECIMAL_BYTES[whole % 9]] + [4] * (whole // 9)
    fraction = [4] * (scale // 9) + [_DECIMAL_BYTES[scale % 9]]
    size = sum(groups) + sum(fraction)
    bits = 8 * size
    sign_bit = 1 << (bits - 1)
    negative_flip = ((1 << bits) - 1) ^ sign_bit  # flip the sign bit, then invert everything
    # (shift, mask, 10 ** digits) per group, most significant first
    digits = [whole % 9] + [9] * (whole // 9) + [9] * (scale // 9) + [scale % 9]
    cuts, shift = [], bits
    for n, d in zip(groups + fraction, digits, strict=True):
        shift -= 8 * n
        cuts.append((shift, (1 << 8 * n) - 1, 10**d))
    whole_cuts, fraction_cuts = cuts[: len(groups)], cuts[len(groups) :]

    def read(buf: bytes, pos: int) -> tuple[decimal.Decimal, int]:
        value = int.from_bytes(buf[pos : pos + size], "big")
        negative = not value & sign_bit
        value ^= negative_flip if negative else sign_bit
        units = 0
        for at, mask, weight in whole_cuts:
            units = units * weight + (value >> at & mask)
        if not scale:
            return decimal.Decimal(f"-{units}" if negative else str(units)), pos + size
        parts = 0
        for at, mask, weight in fraction_cuts:
            parts = parts * weight + (value >> at & mask)
        text = f"{'-' if negative else ''}{units}.{parts:0{scale}d}"
        return decimal.Decimal(text), pos + size

    return read


def _date(buf: bytes, pos: int) -> tuple[dt.date | None, int]:
    value = int.from_bytes(buf[pos : pos + 3], "little")
    year, month, day = value >> 9, (value >> 5) & 15, value & 31
    if not (year and month and day):  # zero dates
        return None, pos + 3
    return dt.date(year, month, day), pos + 3


def _fsp(fsp: int) -> tuple[int, int]:
    """(bytes, multiplier to microseconds) of a fractional-seconds part of precision ``fsp``."""
    return _FSP_BYTES[fsp], 10 ** (6 - fsp)


def _fraction(buf: bytes, pos: int, size: int, fsp: int, scale: int) -> int:
    """The library's reading: big-endian signed, odd precisions stored with one digit more."""
    value = int.from_bytes(buf[pos : pos + size], "big", signed=True)
    if fsp % 2:
        value = int(value / 10)
    return value * scale


def _datetime2(fsp: int) -> Reader:
    size, scale = _fsp(fsp)

    def read(buf: bytes, pos: int) -> tuple[dt.datetime | None, int]:
        value = int.from_bytes(buf[pos : pos + 5], "big")
        ym = (value >> 22) & 0x1FFFF
        end = pos + 5 + size
        try:
            stamp = dt.datetime(
                ym // 13, ym % 13, (value >> 17) & 31, (value >> 12) & 31, (value >> 6) & 63, value & 63
            )
        except ValueError:  # zero dates and parts
            return None, end
        if size:
            micro = _fraction(buf, pos + 5, size, fsp, scale)
            if micro > 0:
                stamp = stamp.replace(microsecond=micro)
        return stamp, end

    return read


def _timestamp2(fsp: int) -> Reader:
    size, scale = _fsp(fsp)

    def read(buf: bytes, pos: int) -> tuple[dt.datetime, int]:
        seconds = int.from_bytes(buf[pos : pos + 4], "big", signed=True)
        stamp = _EPOCH + dt.timedelta(seconds=seconds)  # = utcfromtimestamp, without the deprecation
        if size:
            micro = _fraction(buf, pos + 4, size, fsp, scale)
            if micro > 0:
                stamp = stamp.replace(microsecond=micro)
        return stamp, pos + 4 + size

    return read


def _time2(fsp: int) -> Reader:
    size, scale = _fsp(fsp)

    def read(buf: bytes, pos: int) -> tuple[dt.timedelta, int]:
        value = int.from_bytes(buf[pos : pos + 3], "big", signed=True)
        sign = 1 if (value >> 23) & 1 else -1
        if sign == -1:
            value = ~value + 1
        micro = _fraction(buf, pos + 3, size, fsp, scale) if size else 0
        delta = dt.timedelta(
            hours=(value >> 12) & 0x3FF, minutes=(value >> 6) & 63, seconds=value & 63, microseconds=micro
        )
        return delta * sign, pos + 3 + size

    return read


def _enum(size: int, members: list[str] | None) -> Reader:
    def read(buf: bytes, pos: int) -> tuple[str | None, int]:
        index = int.from_bytes(buf[pos : pos + size], "little")
        return (members[index] if members else None), pos + size

    return read


def _set(size: int, members: list[str] | None) -> Reader:
    """Members in definition order, joined; the empty set (and a SET without metadata) as ''."""
    members = list(members or [])

    def read(buf: bytes, pos: int) -> tuple[str, int]:
        mask = int.from_bytes(buf[pos : pos + size], "little")
        return ",".join(m for i, m in enumerate(members) if mask >> i & 1), pos + size

    return read


def _bit(bits: int, size: int) -> Reader:
    """The library's text of ``bits`` binary digits, most significant first."""
    mask = (1 << bits) - 1

    def read(buf: bytes, pos: int) -> tuple[str, int]:
        value = int.from_bytes(buf[pos : pos + size], "big") & mask
        return format(value, f"0{bits}b"), pos + size

    return read
