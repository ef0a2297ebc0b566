"""Row images of rows events -> rows of Python values: the decoder's hot loop.

This module is written so that Cython compiles it unchanged: ``_binlog_row_images_c.pyx``
includes this file, and ``pip install -e .`` builds that extension (``setup.py``). The reader uses
the compiled module when it is there, this file otherwise or when ``DERSONLAKE_PURE_PYTHON=1``;
both run the same source, so both give the same values (the decoder tests run both).

A row image is a NULL bitmap over the columns present in the event, then each non-NULL value in
its binary form; ``Plan`` decides per table definition and columns-present bitmap how to read each
column (``kind`` plus two arguments), so the loop does no lookups but the ``kind`` tests. Values
follow python-mysql-replication's conventions, which ``binlog_batches`` turns into the full load's
Arrow values: ints (unsigned from the signedness metadata), float, ``Decimal``, str (bytes for the
binary charset or an unknown one), ``date``/``datetime`` (None for zero dates), naive UTC
``datetime`` for TIMESTAMP, ``timedelta`` for TIME, member text for ENUM/SET (the index / mask when
the table map has no member strings), int for BIT, JSON as text (``binlog_json``).
"""

import datetime as _dt
import struct as _struct

from dersonlake.sources.mysql.binlog_json import (
    JsonDiffs,
    decimal_from_binary,
    json_binary_to_text,
    parse_json_diffs,
)

_EPOCH = _dt.datetime(1970, 1, 1)
_DAY0 = _dt.timedelta(0)
_unpack_b = _struct.Struct("<b").unpack_from
_unpack_h = _struct.Struct("<h").unpack_from
_unpack_H = _struct.Struct("<H").unpack_from
_unpack_i = _struct.Struct("<i").unpack_from
_unpack_I = _struct.Struct("<I").unpack_from
_unpack_q = _struct.Struct("<q").unpack_from
_unpack_Q = _struct.Struct("<Q").unpack_from
_unpack_f = _struct.Struct("<f").unpack_from
_unpack_d = _struct.Struct("<d").unpack_from

# column kinds (binlog_plan.py chooses them)
K_INT8 = 1
K_UINT8 = 2
K_INT16 = 3
K_UINT16 = 4
K_INT24 = 5
K_UINT24 = 6
K_INT32 = 7
K_UINT32 = 8
K_INT64 = 9
K_UINT64 = 10
K_FLOAT = 11
K_DOUBLE = 12
K_DECIMAL = 13
K_YEAR = 14
K_STR1 = 15
K_STR2 = 16
K_BLOB = 17
K_DATE = 18
K_DATETIME2 = 19
K_TIMESTAMP2 = 20
K_TIME2 = 21
K_ENUM = 22
K_SET = 23
K_BIT = 24
K_JSON = 25
K_BYTES = 26
K_TIMESTAMP = 27
K_DATETIME = 28
K_TIME = 29
K_NULL = 30


def decode_rows(buf, pos, end, before, after, update, partial_json):
    """All rows of one rows event body, from ``pos`` to ``end`` of ``buf``.

    ``before``/``after`` are the column plans of the two images (``after`` only for updates):
    lists of ``(name, kind, a, b, c)``. ``partial_json`` (PARTIAL_UPDATE_ROWS: the table's number
    of JSON columns, else 0) says each after image starts with value options and a partial
    bitmap. Returns ``[(image, None)]`` for writes and deletes, ``[(before, after)]`` for
    updates; raises ``ValueError``/``IndexError`` on bytes that do not add up (the caller names
    the position).
    """
    rows = []
    while pos < end:
        start = pos
        first, pos = _image(buf, pos, before, None)
        if update:
            partial = None
            if partial_json:
                partial, pos = _partial_columns(buf, pos, after, partial_json)
            second, pos = _image(buf, pos, after, partial)
            rows.append((first, second))
        else:
            rows.append((first, None))
        if pos == start:  # an image of no bytes (no columns present): corrupt, or this never ends
            raise ValueError(f"a row image at byte {start} of the event is empty")
    if pos != end:
        raise ValueError(f"row images end at byte {pos} of the event, not at its end ({end})")
    return rows


def _partial_columns(buf, pos, plan, json_count):
    """Value options (a length-encoded int) and, with PARTIAL_JSON_UPDATES, one bit per JSON
    column of the table (LSB first): the plan indexes whose value is a diff, not a document."""
    options = buf[pos]
    if options >= 0xFB:
        raise ValueError(f"unsupported row value options prefix 0x{options:02x}")
    pos += 1
    if not options & 1:
        return None, pos
    size = (json_count + 7) >> 3
    bits = int.from_bytes(buf[pos : pos + size], "little")
    pos += size
    partial = set()
    for index, column in enumerate(plan):
        if column[1] == K_JSON and bits >> column[3] & 1:
            partial.add(index)
    return partial, pos


def _image(buf, pos, plan, partial):
    n = len(plan)
    size = (n + 7) >> 3
    nulls = int.from_bytes(buf[pos : pos + size], "little")
    if pos + size > len(buf):
        raise ValueError("row image NULL bitmap cut short")
    pos += size
    row = {}
    i = 0
    for column in plan:
        name = column[0]
        if nulls >> i & 1:
            row[name] = None
            i += 1
            continue
        i += 1
        kind = column[1]
        if kind == K_INT32:
            row[name] = _unpack_i(buf, pos)[0]
            pos += 4
        elif kind in (K_STR1, K_STR2, K_BLOB):
            width = column[2]
            length = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
            stop = pos + length
            if stop > len(buf):
                raise ValueError(f"value of {name} runs past the event ({length} bytes)")
            encoding = column[3]
            row[name] = buf[pos:stop].decode(encoding) if encoding is not None else bytes(buf[pos:stop])
            pos = stop
        elif kind == K_INT64:
            row[name] = _unpack_q(buf, pos)[0]
            pos += 8
        elif kind == K_UINT32:
            row[name] = _unpack_I(buf, pos)[0]
            pos += 4
        elif kind == K_INT8:
            row[name] = _unpack_b(buf, pos)[0]
            pos += 1
        elif kind == K_UINT8:
            row[name] = buf[pos]
            pos += 1
        elif kind == K_INT16:
            row[name] = _unpack_h(buf, pos)[0]
            pos += 2
        elif kind == K_UINT16:
            row[name] = _unpack_H(buf, pos)[0]
            pos += 2
        elif kind == K_INT24:
            row[name] = int.from_bytes(buf[pos : pos + 3], "little", signed=True)
            pos += 3
        elif kind == K_UINT24:
            row[name] = int.from_bytes(buf[pos : pos + 3], "little")
            pos += 3
        elif kind == K_UINT64:
            row[name] = _unpack_Q(buf, pos)[0]
            pos += 8
        elif kind == K_FLOAT:
            row[name] = _unpack_f(buf, pos)[0]
            pos += 4
        elif kind == K_DOUBLE:
            row[name] = _unpack_d(buf, pos)[0]
            pos += 8
        elif kind == K_DECIMAL:
            value, used = decimal_from_binary(buf[pos : pos + column[4]], column[2], column[3])
            row[name] = value
            pos += used
        elif kind == K_DATETIME2:
            row[name], pos = _datetime2(buf, pos, column[2])
        elif kind == K_TIMESTAMP2:
            row[name], pos = _timestamp2(buf, pos, column[2])
        elif kind == K_DATE:
            value = int.from_bytes(buf[pos : pos + 3], "little")
            pos += 3
            year, month, day = value >> 9, (value >> 5) & 15, value & 31
            row[name] = _dt.date(year, month, day) if year and month and day else None
        elif kind == K_TIME2:
            row[name], pos = _time2(buf, pos, column[2])
        elif kind == K_YEAR:
            row[name] = buf[pos] + 1900 if buf[pos] else 0
            pos += 1
        elif kind == K_ENUM:
            width = column[2]
            index = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
            members = column[3]
            if members is None:
                row[name] = index
            elif index == 0:
                row[name] = ""
            elif index <= len(members):
                row[name] = members[index - 1]
            else:
                raise ValueError(f"ENUM value {index} of {name} beyond its {len(members)} members")
        elif kind == K_SET:
            width = column[2]
            mask = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
            members = column[3]
            if members is None:
                row[name] = mask
            else:
                row[name] = ",".join([m for j, m in enumerate(members) if mask >> j & 1])
        elif kind == K_BIT:
            width = column[2]
            row[name] = int.from_bytes(buf[pos : pos + width], "big")
            pos += width
        elif kind == K_JSON:
            width = column[2]
            length = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
            stop = pos + length
            if stop > len(buf):
                raise ValueError(f"JSON value of {name} runs past the event ({length} bytes)")
            if partial is not None and (i - 1) in partial:
                row[name] = JsonDiffs(parse_json_diffs(bytes(buf[pos:stop])))
            else:
                row[name] = json_binary_to_text(bytes(buf[pos:stop]))
            pos = stop
        elif kind == K_BYTES:
            width = column[2]
            length = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
            stop = pos + length
            if stop > len(buf):
                raise ValueError(f"value of {name} runs past the event ({length} bytes)")
            row[name] = bytes(buf[pos:stop])
            pos = stop
        elif kind == K_TIMESTAMP:
            row[name] = _EPOCH + _dt.timedelta(seconds=_unpack_I(buf, pos)[0])
            pos += 4
        elif kind == K_DATETIME:
            row[name] = _old_datetime(_unpack_Q(buf, pos)[0])
            pos += 8
        elif kind == K_TIME:
            value = int.from_bytes(buf[pos : pos + 3], "little", signed=True)
            pos += 3
            sign = -1 if value < 0 else 1
            value = abs(value)
            row[name] = sign * _dt.timedelta(
                hours=value // 10000, minutes=value // 100 % 100, seconds=value % 100
            )
        elif kind == K_NULL:
            row[name] = None
        else:
            raise ValueError(f"column {name} has no reader (kind {kind})")
        if pos > len(buf):
            raise ValueError(f"value of {name} runs past the event")
    return row, pos


def _fraction(buf, pos, fsp):
    """(microseconds, bytes) of the fractional part of DATETIME2/TIMESTAMP2 with precision fsp."""
    if fsp == 0:
        return 0, 0
    if fsp <= 2:
        return buf[pos] * 10000, 1
    if fsp <= 4:
        return int.from_bytes(buf[pos : pos + 2], "big") * 100, 2
    return int.from_bytes(buf[pos : pos + 3], "big"), 3


def _datetime2(buf, pos, fsp):
    value = int.from_bytes(buf[pos : pos + 5], "big") - 0x8000000000
    micro, size = _fraction(buf, pos + 5, fsp)
    ymd = value >> 17
    ym = ymd >> 5
    hms = value & 0x1FFFF
    try:
        stamp = _dt.datetime(ym // 13, ym % 13, ymd & 31, hms >> 12, (hms >> 6) & 63, hms & 63, micro)
    except ValueError:  # zero dates and zero parts
        stamp = None
    return stamp, pos + 5 + size


def _timestamp2(buf, pos, fsp):
    seconds = int.from_bytes(buf[pos : pos + 4], "big")
    micro, size = _fraction(buf, pos + 4, fsp)
    return _EPOCH + _dt.timedelta(seconds=seconds, microseconds=micro), pos + 4 + size


def _time2(buf, pos, fsp):
    """MySQL's packed TIME2 (``my_time_packed_from_binary``): negative times borrow from the
    fraction, so the sign applies to the whole value."""
    intpart = int.from_bytes(buf[pos : pos + 3], "big") - 0x800000
    if fsp == 0:
        packed = intpart << 24
        size = 3
    elif fsp <= 2:
        frac = buf[pos + 3]
        if intpart < 0 and frac:
            intpart += 1
            frac -= 0x100
        packed = (intpart << 24) + frac * 10000
        size = 4
    elif fsp <= 4:
        frac = int.from_bytes(buf[pos + 3 : pos + 5], "big")
        if intpart < 0 and frac:
            intpart += 1
            frac -= 0x10000
        packed = (intpart << 24) + frac * 100
        size = 5
    else:
        packed = int.from_bytes(buf[pos : pos + 6], "big") - 0x800000000000
        size = 6
    negative = packed < 0
    packed = -packed if negative else packed
    whole = packed >> 24
    delta = _dt.timedelta(
        hours=(whole >> 12) & 0x3FF,
        minutes=(whole >> 6) & 63,
        seconds=whole & 63,
        microseconds=packed & 0xFFFFFF,
    )
    return (-delta if negative else delta), pos + size


def _old_datetime(value):
    date, time = divmod(value, 1000000)
    try:
        return _dt.datetime(
            date // 10000, date // 100 % 100, date % 100, time // 10000, time // 100 % 100, time % 100
        )
    except ValueError:
        return None
