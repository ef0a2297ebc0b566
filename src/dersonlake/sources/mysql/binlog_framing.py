"""Binlog event framing: the 19-byte header, the Format_description that says how to read the rest,
and the CRC32 checksum every event carries when ``binlog_checksum=CRC32``.

A binlog file is the 4-byte magic ``\\xfebin`` followed by events; the replication stream sends
the same events, one per packet. Every event starts with the same header::

    timestamp u32 | type u8 | server_id u32 | event_size u32 | log_pos u32 | flags u16

``log_pos`` is the position just *after* the event in its file (0 for events the server makes up
for the stream). The Format_description event (FDE), first in every file and in every stream,
gives the post-header length of each event type and the checksum algorithm; its own checksum is
readable before we know the algorithm because its algorithm byte sits just before its last four
bytes (servers from MySQL 5.6.1 / MariaDB 5.3 on; older ones have no checksums at all).

Corrupt input raises ``BinlogCorrupt`` naming the position: never an IndexError, a hang, or a
silently skipped event.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field

MAGIC = b"\xfebin"
HEADER = struct.Struct("<IBIIIH")
HEADER_SIZE = 19
CHECKSUM_SIZE = 4
ALG_OFF = 0
ALG_CRC32 = 1
ALG_UNDEF = 255
_BINLOG_IN_USE_F = 0x01


class BinlogCorrupt(ValueError):
    """Bytes that are not a valid binlog event; the message names where (file:pos) and what."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{problem} at {where}")


@dataclass(frozen=True, slots=True)
class Header:
    """The common event header; ``start`` is where the event begins in its file (when known)."""

    timestamp: int
    type: int
    server_id: int
    size: int
    log_pos: int
    flags: int


@dataclass
class Format:
    """What the last Format_description said: how to read the events after it."""

    binlog_version: int = 4
    server_version: str = ""
    post_header: bytes = b""
    checksum: int = ALG_OFF
    mariadb: bool = False
    version: tuple[int, int, int] = (0, 0, 0)
    extras: dict[str, int] = field(default_factory=dict)

    def post_header_len(self, event_type: int, default: int) -> int:
        """The post-header length of ``event_type`` (the FDE's table is indexed by type - 1)."""
        if 0 < event_type <= len(self.post_header):
            return self.post_header[event_type - 1]
        return default


def parse_header(buf: bytes | memoryview, pos: int, where: str) -> Header:
    """The header at ``pos``, checked for a size that can hold it (``where`` names it in errors)."""
    if len(buf) - pos < HEADER_SIZE:
        raise BinlogCorrupt(where, f"truncated event header ({len(buf) - pos} of {HEADER_SIZE} bytes)")
    header = Header(*HEADER.unpack_from(buf, pos))
    if header.size < HEADER_SIZE:
        raise BinlogCorrupt(where, f"event size {header.size} is smaller than its header")
    return header


def parse_format_description(event: bytes, where: str) -> Format:
    """A Format_description event (header included) -> ``Format``; verifies its own checksum."""
    body = event[HEADER_SIZE:]
    if len(body) < 2 + 50 + 4 + 1:
        raise BinlogCorrupt(where, "truncated Format_description event")
    binlog_version = struct.unpack_from("<H", body, 0)[0]
    server_version = body[2:52].split(b"\0", 1)[0].decode("ascii", "replace")
    header_len = body[56]
    if header_len != HEADER_SIZE:
        raise BinlogCorrupt(where, f"unsupported event header length {header_len} (binlog v{binlog_version})")
    version = _version(server_version)
    mariadb = "mariadb" in server_version.lower()
    has_alg = mariadb or version >= (5, 6, 1)
    checksum = ALG_OFF
    end = len(body)
    if has_alg and len(body) >= 57 + CHECKSUM_SIZE + 1:
        checksum = body[-CHECKSUM_SIZE - 1]
        if checksum not in (ALG_OFF, ALG_CRC32, ALG_UNDEF):
            raise BinlogCorrupt(where, f"unknown checksum algorithm {checksum} in Format_description")
        if checksum == ALG_UNDEF:
            checksum = ALG_OFF
        end = len(body) - CHECKSUM_SIZE - 1
        if checksum == ALG_CRC32:
            # the server sets LOG_EVENT_BINLOG_IN_USE_F in a file's FDE after checksumming it
            signed = bytearray(event)
            signed[17] &= ~_BINLOG_IN_USE_F & 0xFF
            verify_checksum(bytes(signed), where)
    post_header = bytes(body[57:end])
    return Format(binlog_version, server_version, post_header, checksum, mariadb, version)


def verify_checksum(event: bytes | memoryview, where: str) -> None:
    """The CRC32 of an event (header and body) is its last four bytes, little-endian."""
    if len(event) < HEADER_SIZE + CHECKSUM_SIZE:
        raise BinlogCorrupt(where, "event too short to hold its checksum")
    expected = int.from_bytes(event[-CHECKSUM_SIZE:], "little")
    actual = zlib.crc32(event[:-CHECKSUM_SIZE]) & 0xFFFFFFFF
    if actual != expected:
        raise BinlogCorrupt(where, f"checksum mismatch (stored {expected:08x}, computed {actual:08x})")


def _version(text: str) -> tuple[int, int, int]:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        return (0, 0, 0)
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)
