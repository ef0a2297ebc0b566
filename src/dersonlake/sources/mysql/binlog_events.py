"""Binlog events -> small typed records, for files and the replication stream alike.

``EventDecoder`` keeps what decoding needs between events: the current Format_description (how
long each post-header is, whether events end in a CRC32) and the Table_map of every table id seen.
``decode(raw, where)`` verifies an event's checksum and yields ``Event`` records: one per event, or
the inner events of a TRANSACTION_PAYLOAD one by one (decompressed as a stream). Rows are decoded
only for tables ``wants(schema, table)`` accepts, so other tables cost a header read.

Every event a transaction can carry rows or boundaries in is decoded; events that cannot carry
rows (INTVAR, RAND, USER_VAR, incidents, view changes ...) pass as ``Other``; an unknown event
is skipped only when the server flagged it ignorable, otherwise it is an error naming the
position: a reader that skips what it does not understand loses changes silently.
"""

from __future__ import annotations

import datetime as dt
import struct
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dersonlake.sources.mysql import binlog_event_types as ev
from dersonlake.sources.mysql.binlog_compression import mariadb_uncompress, payload_events
from dersonlake.sources.mysql.binlog_framing import (
    ALG_CRC32,
    CHECKSUM_SIZE,
    HEADER,
    HEADER_SIZE,
    BinlogCorrupt,
    Format,
    parse_format_description,
    verify_checksum,
)
from dersonlake.sources.mysql.binlog_rows_event import RowsEvent, parse_rows_event, rows_table_id
from dersonlake.sources.mysql.binlog_table_map import TableMap, parse_table_map, read_lenenc

MARIADB_FL_STANDALONE = 0x01
_MARIADB_FL_GROUP_COMMIT_ID = 0x02
_MARIADB_FL_PREPARED_XA = 0x40
_MARIADB_FL_COMPLETED_XA = 0x80


@dataclass(frozen=True, slots=True)
class Rotate:
    """The stream (or the next file) continues in ``next_file`` at ``position``."""

    next_file: str
    position: int


@dataclass(frozen=True, slots=True)
class FormatDescription:
    format: Format


@dataclass(frozen=True, slots=True)
class Query:
    """A statement: BEGIN, COMMIT, DDL, or DML under STATEMENT/MIXED logging."""

    schema: str
    sql: str


@dataclass(frozen=True, slots=True)
class Xid:
    """A transaction's COMMIT (InnoDB)."""

    xid: int


@dataclass(frozen=True, slots=True)
class XaPrepare:
    one_phase: bool


@dataclass(frozen=True, slots=True)
class Gtid:
    """A transaction starts. ``gtid`` is ``uuid:n`` / ``uuid:tag:n`` (MySQL) or ``domain-server-seq``
    (MariaDB), None for MySQL's anonymous GTIDs; ``standalone`` marks MariaDB's one-statement groups
    (DDL, no BEGIN/COMMIT); ``commit_time`` is MySQL 8's commit timestamp (UTC, microseconds)."""

    gtid: str | None
    mariadb: bool
    standalone: bool
    commit_time: dt.datetime | None = None
    transaction_length: int | None = None


@dataclass(frozen=True, slots=True)
class GtidSet:
    """PREVIOUS_GTIDS (MySQL) or GTID_LIST (MariaDB): what the server executed before this file."""

    text: str


@dataclass(frozen=True, slots=True)
class Rows:
    """A rows event of ``table``; ``event`` is None when the table was not wanted (not decoded)."""

    table: TableMap
    op: str
    event: RowsEvent | None


@dataclass(frozen=True, slots=True)
class RowsQuery:
    """The statement that produced the next rows events (ROWS_QUERY / MariaDB ANNOTATE_ROWS)."""

    sql: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The server is alive and has nothing newer to send."""


@dataclass(frozen=True, slots=True)
class Other:
    """An event that carries no rows and no transaction boundary (named for dumps)."""

    type: int


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded event: its header facts and ``data`` (one of the records above).

    ``end`` is the header's ``log_pos`` (the position after the event in its file; for the events
    inside a TRANSACTION_PAYLOAD, the payload event's), 0 for events the server made up.
    """

    type: int
    timestamp: int
    server_id: int
    size: int
    end: int
    flags: int
    data: Any


class EventDecoder:
    """Decodes consecutive events of one stream or file (see the module docstring)."""

    def __init__(self, wants: Callable[[str, str], bool] | None = None, checksum: int | None = None) -> None:
        self.format = Format()
        if checksum is not None:
            self.format.checksum = checksum
        self.tables: dict[int, TableMap] = {}
        self._map_bytes: dict[bytes, TableMap] = {}  # Table_map body -> its parsed map
        self.wants = wants or (lambda schema, table: True)

    def decode(self, raw: bytes, where: str) -> Iterator[Event]:
        """The event(s) in ``raw`` (one whole event, header to checksum)."""
        if len(raw) < HEADER_SIZE:
            raise BinlogCorrupt(where, f"truncated event ({len(raw)} bytes)")
        timestamp, kind, server_id, size, end, flags = HEADER.unpack_from(raw, 0)
        if size != len(raw):
            raise BinlogCorrupt(where, f"event header says {size} bytes, the event has {len(raw)}")
        if kind == ev.FORMAT_DESCRIPTION:
            self.format = parse_format_description(raw, where)
            self.tables.clear()  # table ids are only unique within one server run / file
            self._map_bytes.clear()
            yield Event(kind, timestamp, server_id, size, end, flags, FormatDescription(self.format))
            return
        body_end = len(raw)
        if self.format.checksum == ALG_CRC32:
            verify_checksum(raw, where)
            body_end -= CHECKSUM_SIZE
        body = raw[HEADER_SIZE:body_end]
        if kind == ev.TRANSACTION_PAYLOAD:
            for inner in payload_events(body, where):
                yield from self._inner(inner, end, where)
            return
        yield Event(
            kind, timestamp, server_id, size, end, flags, self._data(kind, server_id, flags, body, where)
        )

    def _inner(self, raw: bytes, end: int, where: str) -> Iterator[Event]:
        """An event of a TRANSACTION_PAYLOAD: no checksum of its own, the payload's position."""
        timestamp, kind, server_id, size, _end, flags = HEADER.unpack_from(raw, 0)
        if kind in (ev.TRANSACTION_PAYLOAD, ev.FORMAT_DESCRIPTION):
            raise BinlogCorrupt(where, f"event type {kind} inside a TRANSACTION_PAYLOAD")
        body = raw[HEADER_SIZE:]
        yield Event(
            kind, timestamp, server_id, size, end, flags, self._data(kind, server_id, flags, body, where)
        )

    def _data(self, kind: int, server_id: int, flags: int, body: bytes, where: str) -> Any:
        try:
            return self._parse(kind, server_id, flags, body, where)
        except BinlogCorrupt:
            raise
        except (IndexError, ValueError, struct.error, UnicodeDecodeError) as exc:
            raise BinlogCorrupt(where, f"malformed event of type {kind} ({exc})") from None

    def _parse(self, kind: int, server_id: int, flags: int, body: bytes, where: str) -> Any:
        fmt = self.format
        if kind in ev.ROWS_EVENTS:
            post = fmt.post_header_len(kind, 10 if ev.ROWS_EVENTS[kind][1] == 2 else 8)
            table_id = rows_table_id(body, post)
            table = self.tables.get(table_id)
            op = ev.ROWS_EVENTS[kind][0]
            if table is None:
                raise BinlogCorrupt(where, f"rows event for table id {table_id} without its Table_map event")
            if not self.wants(table.schema, table.table):
                return Rows(table, op, None)
            return Rows(table, op, parse_rows_event(kind, body, post, table, where))
        if kind == ev.TABLE_MAP:
            # Every statement repeats its tables' maps: the same bytes as last time are the same
            # definition, so the parsed map (and its compiled row plans) is reused as is.
            body = bytes(body)
            cached = self._map_bytes.get(body)
            if cached is not None and self.tables.get(cached.table_id) is cached:
                return cached
            table = parse_table_map(body, fmt.post_header_len(kind, 8), where, mariadb=fmt.mariadb)
            self.tables[table.table_id] = table
            if len(self._map_bytes) > 4096:
                self._map_bytes.clear()
            self._map_bytes[body] = table
            return table
        if kind in (ev.QUERY, ev.QUERY_COMPRESSED):
            return _query(body, fmt.post_header_len(ev.QUERY, 13), kind == ev.QUERY_COMPRESSED, where)
        if kind == ev.XID:
            return Xid(struct.unpack_from("<Q", body, 0)[0])
        if kind in (ev.GTID, ev.ANONYMOUS_GTID):
            return _mysql_gtid(body, anonymous=kind == ev.ANONYMOUS_GTID)
        if kind == ev.GTID_TAGGED:
            return _tagged_gtid(body)
        if kind == ev.MARIADB_GTID:
            seq, domain, gflags = struct.unpack_from("<QIB", body, 0)
            return Gtid(f"{domain}-{server_id}-{seq}", True, bool(gflags & MARIADB_FL_STANDALONE))
        if kind == ev.ROTATE:
            position = struct.unpack_from("<Q", body, 0)[0]
            return Rotate(body[8:].split(b"\0", 1)[0].decode("utf-8"), position)
        if kind == ev.XA_PREPARE:
            return XaPrepare(bool(body[0]))
        if kind in (ev.HEARTBEAT, ev.HEARTBEAT_V2):
            return Heartbeat()
        if kind == ev.ROWS_QUERY:
            return RowsQuery(body[1:].decode("utf-8", "replace"))
        if kind == ev.ANNOTATE_ROWS:
            return RowsQuery(body.decode("utf-8", "replace"))
        if kind == ev.PREVIOUS_GTIDS:
            return GtidSet(_previous_gtids(body))
        if kind == ev.MARIADB_GTID_LIST:
            return GtidSet(_gtid_list(body))
        if kind == ev.BINLOG_CHECKPOINT or kind in ev.HARMLESS_EVENTS:
            return Other(kind)
        if flags & ev.LOG_EVENT_IGNORABLE_F:
            return Other(kind)
        raise BinlogCorrupt(
            where,
            f"unknown binlog event type {kind} (server {fmt.server_version or 'unknown'}), not flagged "
            "ignorable: it may carry row changes, so the reader stops instead of skipping it",
        )


def _query(body: bytes, post_header_len: int, compressed: bool, where: str) -> Query:
    schema_len = body[8]
    status_len = struct.unpack_from("<H", body, 11)[0] if post_header_len >= 13 else 0
    pos = post_header_len + status_len
    schema = body[pos : pos + schema_len].decode("utf-8", "replace")
    pos += schema_len + 1
    text = body[pos:]
    if compressed:
        text = mariadb_uncompress(bytes(text), where)
    return Query(schema, bytes(text).decode("utf-8", "replace"))


def _mysql_gtid(body: bytes, *, anonymous: bool) -> Gtid:
    sid = uuid.UUID(bytes=bytes(body[1:17]))
    gno = struct.unpack_from("<q", body, 17)[0]
    pos = 25
    commit_time = None
    length = None
    if len(body) >= pos + 17:  # lt_type, last_committed, sequence_number (5.7+)
        pos += 17
    if len(body) >= pos + 7:  # immediate (and original) commit timestamps (8.0+)
        stamp = int.from_bytes(body[pos : pos + 7], "little")
        pos += 7
        if stamp & (1 << 55):
            stamp &= ~(1 << 55)
            original = int.from_bytes(body[pos : pos + 7], "little")
            pos += 7
            stamp = original or stamp
        commit_time = _micros(stamp)
        if pos < len(body):
            length, pos = read_lenenc(body, pos)
    return Gtid(None if anonymous else f"{sid}:{gno}", False, False, commit_time, length)


def _micros(stamp: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=stamp)


def _previous_gtids(body: bytes) -> str:
    """PREVIOUS_GTIDS: 8-byte count, or (8.4+, tagged) format byte / 6-byte count / format byte."""
    tagged = body[0] == 1 and body[7] == 1
    count = int.from_bytes(body[1:7], "little") if tagged else struct.unpack_from("<Q", body, 0)[0]
    pos = 8
    parts = []
    for _ in range(count):
        sid = uuid.UUID(bytes=bytes(body[pos : pos + 16]))
        pos += 16
        tag = ""
        if tagged:
            size, pos = _varlen_uint(body, pos)
            tag = body[pos : pos + size].decode("ascii")
            pos += size
        intervals = struct.unpack_from("<Q", body, pos)[0]
        pos += 8
        ranges = []
        for _ in range(intervals):
            start, stop = struct.unpack_from("<QQ", body, pos)
            pos += 16
            ranges.append(str(start) if stop == start + 1 else f"{start}-{stop - 1}")
        parts.append(":".join([str(sid), *([tag] if tag else []), *ranges]))
    return ",".join(parts)


def _gtid_list(body: bytes) -> str:
    count = struct.unpack_from("<I", body, 0)[0] & 0x0FFFFFFF
    entries = []
    for i in range(count):
        domain, server, seq = struct.unpack_from("<IIQ", body, 4 + 16 * i)
        entries.append(f"{domain}-{server}-{seq}")
    return ",".join(entries)


# -- MySQL 8.4+ serialization (tagged GTIDs) -------------------------------------------------------
def _varlen_uint(buf: bytes, pos: int) -> tuple[int, int]:
    """MySQL's serialization integers: the count of trailing one bits of the first byte is the
    count of bytes that follow; the value is the little-endian whole shifted right by the length."""
    first = buf[pos]
    extra = 0
    while extra < 8 and first >> extra & 1:
        extra += 1
    size = extra + 1
    raw = int.from_bytes(buf[pos : pos + size], "little")
    if len(buf) < pos + size:
        raise ValueError("serialized integer cut short")
    value = raw >> 8 if size == 9 else raw >> size
    return value, pos + size


def _varlen_int(buf: bytes, pos: int) -> tuple[int, int]:
    value, pos = _varlen_uint(buf, pos)
    return (value >> 1) ^ -(value & 1), pos


def _tagged_gtid(body: bytes) -> Gtid:
    """GTID_TAGGED_LOG_EVENT: a serialized message (format version, size, last field id, then
    numbered fields: flags, uuid (16 serialized bytes), gno, tag, last_committed, sequence_number,
    immediate/original commit timestamps, transaction length, server versions ...)."""
    _version, pos = _varlen_uint(body, 0)
    size, pos = _varlen_uint(body, pos)
    _last_field, pos = _varlen_uint(body, pos)
    end = min(size, len(body))
    fields: dict[int, Any] = {}
    while pos < end:
        field, pos = _varlen_uint(body, pos)
        if field == 1:
            raw = bytearray()
            for _ in range(16):
                byte, pos = _varlen_uint(body, pos)
                raw.append(byte)
            fields[1] = uuid.UUID(bytes=bytes(raw))
        elif field == 3:
            length, pos = _varlen_uint(body, pos)
            fields[3] = body[pos : pos + length].decode("ascii")
            pos += length
        elif field in (2, 4, 5):
            fields[field], pos = _varlen_int(body, pos)
        else:
            fields[field], pos = _varlen_uint(body, pos)
    sid, gno, tag = fields.get(1), fields.get(2), fields.get(3, "")
    gtid = f"{sid}:{tag}:{gno}" if tag else f"{sid}:{gno}"
    stamp = fields.get(7) or fields.get(6)
    return Gtid(gtid, False, False, _micros(stamp) if stamp else None, fields.get(8))
