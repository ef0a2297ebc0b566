"""MySQL's binary JSON (the JSON column in row images) -> the JSON text the server prints, and the
JSON diffs of ``PARTIAL_UPDATE_ROWS`` events applied to a document.

Binary format (MySQL ``json_binary.h``): a type byte, then the value. Objects and arrays come in a
small (16-bit offsets) and a large (32-bit) form: element count, byte size, key entries (offset,
length), value entries (type, then an offset, or the value inline for literals and small ints).
Strings have a variable-length size (7 bits a byte). "Opaque" values carry a MySQL column type
and its bytes: DECIMAL, DATE, TIME, DATETIME, TIMESTAMP as the server packs them, anything else
(BLOB, BIT, GEOMETRY ...) printed as ``"base64:typeNN:..."`` as MySQL prints it.

The text follows ``JSON_EXTRACT``/``SELECT json_col``: ``", "`` and ``": "`` separators, keys in
stored order, DATETIME/TIME with six fraction digits, TIME above 24 h as is (``87:31:46.654321``).
"""

from __future__ import annotations

import base64
import decimal
import json
import math
import re
import struct
from typing import Any

from dersonlake.sources.mysql import binlog_event_types as ev

_SMALL_OBJECT, _LARGE_OBJECT, _SMALL_ARRAY, _LARGE_ARRAY = 0, 1, 2, 3
_LITERAL, _INT16, _UINT16, _INT32, _UINT32, _INT64, _UINT64, _DOUBLE, _STRING = 4, 5, 6, 7, 8, 9, 10, 11, 12
_OPAQUE = 15
_DECIMAL_GROUP = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


class JsonDiffs(list):
    """A partially updated JSON column: the diffs, to apply to the before image's value (one
    class for the compiled and the pure-Python row decoder, so either's output is recognised)."""


class JsonText(str):
    """A value already in JSON text form (a DECIMAL number): written without quotes."""


def json_binary_to_text(data: bytes) -> str:
    """The text of one binary JSON document (an empty value is JSON ``null``, as MySQL reads it)."""
    if not data:
        return "null"
    return dumps(parse_json_binary(data))


def parse_json_binary(data: bytes) -> Any:
    """One binary JSON document -> Python values (dict in stored order, list, str, int, float,
    ``JsonText`` for DECIMAL, True/False/None). Raises ``ValueError`` on malformed bytes."""
    try:
        return _value(data[0], data, 1, len(data))
    except (IndexError, struct.error, RecursionError) as exc:
        raise ValueError(f"malformed binary JSON ({type(exc).__name__}: {exc})") from None


def dumps(value: Any) -> str:
    """MySQL's JSON text of a parsed value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, JsonText):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {dumps(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {value!r}")


def _double(value: float) -> str:
    """Doubles as MySQL prints them: shortest round-trip digits, ``1e20`` not ``1e+20``."""
    if math.isinf(value) or math.isnan(value):
        raise ValueError("binary JSON holds a non-finite double")
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa.removesuffix('.0')}e{int(exponent)}"
    return text


def _value(kind: int, data: bytes, pos: int, end: int) -> Any:
    if kind in (_SMALL_OBJECT, _LARGE_OBJECT, _SMALL_ARRAY, _LARGE_ARRAY):
        return _container(kind, data, pos, end)
    if kind == _LITERAL:
        return _literal(data[pos])
    if kind == _INT16:
        return struct.unpack_from("<h", data, pos)[0]
    if kind == _UINT16:
        return struct.unpack_from("<H", data, pos)[0]
    if kind == _INT32:
        return struct.unpack_from("<i", data, pos)[0]
    if kind == _UINT32:
        return struct.unpack_from("<I", data, pos)[0]
    if kind == _INT64:
        return struct.unpack_from("<q", data, pos)[0]
    if kind == _UINT64:
        return struct.unpack_from("<Q", data, pos)[0]
    if kind == _DOUBLE:
        return struct.unpack_from("<d", data, pos)[0]
    if kind == _STRING:
        size, pos = _varlen(data, pos)
        if pos + size > end:
            raise ValueError("JSON string runs past its document")
        return data[pos : pos + size].decode("utf-8")
    if kind == _OPAQUE:
        column_type = data[pos]
        size, pos = _varlen(data, pos + 1)
        if pos + size > end:
            raise ValueError("JSON opaque value runs past its document")
        return opaque(column_type, data[pos : pos + size])
    raise ValueError(f"unknown JSON value type {kind}")


def _literal(code: int) -> bool | None:
    if code == 0:
        return None
    if code == 1:
        return True
    if code == 2:
        return False
    raise ValueError(f"unknown JSON literal {code}")


def _container(kind: int, data: bytes, base: int, end: int) -> Any:
    large = kind in (_LARGE_OBJECT, _LARGE_ARRAY)
    word = 4 if large else 2
    fmt = "<I" if large else "<H"
    count = struct.unpack_from(fmt, data, base)[0]
    size = struct.unpack_from(fmt, data, base + word)[0]
    if base + size > end or size < 2 * word:
        raise ValueError("JSON container size runs past its document")
    limit = base + size
    is_object = kind in (_SMALL_OBJECT, _LARGE_OBJECT)
    pos = base + 2 * word
    keys: list[str] = []
    if is_object:
        for _ in range(count):
            offset = struct.unpack_from(fmt, data, pos)[0]
            length = struct.unpack_from("<H", data, pos + word)[0]
            if base + offset + length > limit:
                raise ValueError("JSON key runs past its object")
            keys.append(data[base + offset : base + offset + length].decode("utf-8"))
            pos += word + 2
    values = []
    for _ in range(count):
        entry = data[pos]
        if entry in (_LITERAL, _INT16, _UINT16) or (large and entry in (_INT32, _UINT32)):
            values.append(_value(entry, data, pos + 1, limit))
        else:
            offset = struct.unpack_from(fmt, data, pos + 1)[0]
            if base + offset >= limit:
                raise ValueError("JSON value offset runs past its container")
            values.append(_value(entry, data, base + offset, limit))
        pos += 1 + word
    return dict(zip(keys, values, strict=True)) if is_object else values


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(5):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("JSON variable-length size longer than 5 bytes")


# -- opaque values ---------------------------------------------------------------------------------
def opaque(column_type: int, raw: bytes) -> Any:
    """An opaque JSON scalar as MySQL prints it."""
    if column_type == ev.T_NEWDECIMAL and len(raw) >= 2:
        return JsonText(str(decimal_from_binary(raw[2:], raw[0], raw[1])[0]))
    if column_type in (ev.T_DATE, ev.T_DATETIME, ev.T_TIMESTAMP, ev.T_TIME) and len(raw) == 8:
        packed = struct.unpack("<q", raw)[0]
        if column_type == ev.T_TIME:
            return _packed_time(packed)
        return _packed_datetime(packed, date_only=column_type == ev.T_DATE)
    return f"base64:type{column_type}:{base64.b64encode(raw).decode('ascii')}"


def _packed_time(packed: int) -> str:
    sign = "-" if packed < 0 else ""
    packed = abs(packed)
    whole, micro = packed >> 24, packed % (1 << 24)
    hours, minutes, seconds = (whole >> 12) % (1 << 10), (whole >> 6) % 64, whole % 64
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}.{micro:06d}"


def _packed_datetime(packed: int, *, date_only: bool) -> str:
    packed = abs(packed)
    whole, micro = packed >> 24, packed % (1 << 24)
    ymd, hms = whole >> 17, whole % (1 << 17)
    day, ym = ymd % 32, ymd >> 5
    year, month = ym // 13, ym % 13
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if date_only:
        return text
    return f"{text} {hms >> 12:02d}:{(hms >> 6) % 64:02d}:{hms % 64:02d}.{micro:06d}"


def decimal_from_binary(raw: bytes, precision: int, scale: int) -> tuple[decimal.Decimal, int]:
    """MySQL's packed DECIMAL (9 digits per 4 bytes, big-endian, sign in the flipped top bit,
    negatives inverted) -> (value, bytes used)."""
    whole = precision - scale
    head = [(_DECIMAL_GROUP[whole % 9], whole % 9)] + [(4, 9)] * (whole // 9)
    tail = [(4, 9)] * (scale // 9) + [(_DECIMAL_GROUP[scale % 9], scale % 9)]
    size = sum(n for n, _ in head) + sum(n for n, _ in tail)
    if len(raw) < size or size == 0:
        raise ValueError(f"DECIMAL({precision},{scale}) needs {size} bytes, got {len(raw)}")
    buf = bytearray(raw[:size])
    negative = not buf[0] & 0x80
    buf[0] ^= 0x80
    if negative:
        buf = bytearray(b ^ 0xFF for b in buf)
    pos = units = 0
    for n, d in head:
        units = units * 10**d + int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    fraction = []
    for n, d in tail:
        if n:
            fraction.append(f"{int.from_bytes(buf[pos : pos + n], 'big'):0{d}d}")
        pos += n
    text = f"{'-' if negative else ''}{units}" + (f".{''.join(fraction)}" if scale else "")
    return decimal.Decimal(text), size


# -- partial updates (JSON diffs) ------------------------------------------------------------------
_REPLACE, _INSERT, _REMOVE = 0, 1, 2
_OPS = {_REPLACE: "JSON_REPLACE", _INSERT: "JSON_INSERT", _REMOVE: "JSON_REMOVE"}
_PATH_LEG = re.compile(r'\.(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_$][\w$]*))|\[(\d+)\]')


def parse_json_diffs(data: bytes) -> list[tuple[int, str, Any]]:
    """The diffs of a partially updated JSON column: (operation, path, new value or None)."""
    from dersonlake.sources.mysql.binlog_table_map import read_lenenc

    diffs = []
    pos = 0
    try:
        while pos < len(data):
            op = data[pos]
            if op not in _OPS:
                raise ValueError(f"unknown JSON diff operation {op}")
            size, pos = read_lenenc(data, pos + 1)
            path = data[pos : pos + size].decode("utf-8")
            pos += size
            value = None
            if op != _REMOVE:
                size, pos = read_lenenc(data, pos)
                if pos + size > len(data):
                    raise ValueError("JSON diff value runs past the column")
                value = parse_json_binary(data[pos : pos + size])
                pos += size
            diffs.append((op, path, value))
    except IndexError:
        raise ValueError("JSON diff cut short") from None
    return diffs


def diffs_text(column: str, diffs: list[tuple[int, str, Any]]) -> str:
    """The diffs as SQL, as mysqlbinlog shows them, when there is no before image to apply them to."""
    text = column
    for op, path, value in diffs:
        quoted = "'" + path.replace("'", "''") + "'"
        text = (
            f"{_OPS[op]}({text}, {quoted})"
            if op == _REMOVE
            else f"{_OPS[op]}({text}, {quoted}, {dumps(value)})"
        )
    return text


def apply_json_diffs(document: str, diffs: list[tuple[int, str, Any]]) -> str:
    """The after image of a partially updated column: the diffs applied to the before image's text."""
    root = _load(document)
    for op, path, value in diffs:
        legs = _legs(path)
        if not legs:
            if op == _REPLACE:
                root = value
                continue
            raise ValueError(f"JSON diff {_OPS[op]} on the document root")
        parent = root
        for leg in legs[:-1]:
            parent = parent[leg]
        last = legs[-1]
        if op == _REPLACE:
            parent[last] = value
        elif op == _INSERT:
            if isinstance(parent, list):
                parent.insert(min(int(last), len(parent)), value)
            else:
                parent[last] = value
        else:
            del parent[last]
    return dumps(root)


def _load(document: str) -> Any:
    return json.loads(
        document, parse_float=lambda s: JsonText(s) if "." in s and "e" not in s.lower() else float(s)
    )


def _legs(path: str) -> list[Any]:
    if not path.startswith("$"):
        raise ValueError(f"JSON diff path {path!r} does not start with $")
    legs: list[Any] = []
    pos = 1
    while pos < len(path):
        match = _PATH_LEG.match(path, pos)
        if not match:
            raise ValueError(f"JSON diff path {path!r} not understood at {pos}")
        quoted, plain, index = match.groups()
        if index is not None:
            legs.append(int(index))
        else:
            legs.append(json.loads(f'"{quoted}"') if quoted is not None else plain)
        pos = match.end()
    return legs
