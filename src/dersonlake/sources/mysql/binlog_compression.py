"""Compressed binlog content: MySQL 8's TRANSACTION_PAYLOAD (zstd) and MariaDB's compressed events
(``log_bin_compress``, zlib).

MySQL (``binlog_transaction_compression=ON``, a session variable too) writes a whole transaction
as one TRANSACTION_PAYLOAD event: a header of type-length-value fields (payload size, compression
type: 0 zstd / 255 none, uncompressed size), then the payload, which is the transaction's events
back to back (their own headers, no checksums). ``payload_events`` decompresses it as a stream,
one inner event at a time, so a transaction of any size costs the memory of its largest event.

MariaDB compresses the query text of QUERY_COMPRESSED events and the row data (after the column
bitmaps) of the *_ROWS_COMPRESSED events: one byte ``1AAA0LLL`` (A: algorithm, 0 = zlib; L: how
many bytes of uncompressed length follow, big-endian), then the zlib stream.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator

import zstandard

from dersonlake.sources.mysql.binlog_framing import HEADER_SIZE, BinlogCorrupt, parse_header
from dersonlake.sources.mysql.binlog_table_map import read_lenenc

_END_MARK, _PAYLOAD_SIZE, _COMPRESSION_TYPE, _UNCOMPRESSED_SIZE = 0, 1, 2, 3
_ZSTD, _NONE = 0, 255
_MAX_INNER_EVENT = 1 << 30  # the server's own limit on an event (max_allowed_packet's ceiling)


def payload_events(body: bytes, where: str) -> Iterator[bytes]:
    """The events inside a TRANSACTION_PAYLOAD body (checksum already removed), header included."""
    try:
        compression, size, pos = _payload_header(body)
    except (IndexError, ValueError) as exc:
        raise BinlogCorrupt(where, f"malformed TRANSACTION_PAYLOAD header ({exc})") from None
    payload = body[pos : pos + size]
    if len(payload) != size:
        raise BinlogCorrupt(where, f"TRANSACTION_PAYLOAD holds {len(payload)} of its {size} payload bytes")
    if compression == _NONE:
        stream: io.RawIOBase | io.BufferedIOBase = io.BytesIO(payload)
    elif compression == _ZSTD:
        stream = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(payload), read_across_frames=True)
    else:
        raise BinlogCorrupt(where, f"TRANSACTION_PAYLOAD compressed with unknown algorithm {compression}")
    index = 0
    try:
        while True:
            head = _read_exactly(stream, HEADER_SIZE)
            if not head:
                return
            inner = f"{where} (event {index} of the payload)"
            if len(head) < HEADER_SIZE:
                raise BinlogCorrupt(inner, "TRANSACTION_PAYLOAD ends inside an event header")
            header = parse_header(head, 0, inner)
            if header.size > _MAX_INNER_EVENT:
                raise BinlogCorrupt(inner, f"event size {header.size} in TRANSACTION_PAYLOAD is impossible")
            rest = _read_exactly(stream, header.size - HEADER_SIZE)
            if len(rest) != header.size - HEADER_SIZE:
                raise BinlogCorrupt(inner, "TRANSACTION_PAYLOAD ends inside an event")
            yield head + rest
            index += 1
    except zstandard.ZstdError as exc:
        raise BinlogCorrupt(where, f"TRANSACTION_PAYLOAD does not decompress ({exc})") from None


def _payload_header(body: bytes) -> tuple[int, int, int]:
    compression = size = None
    pos = 0
    while pos < len(body):
        field, pos = read_lenenc(body, pos)
        if field == _END_MARK:
            break
        length, pos = read_lenenc(body, pos)
        value, after = read_lenenc(body, pos)
        if field == _PAYLOAD_SIZE:
            size = value
        elif field == _COMPRESSION_TYPE:
            compression = value
        pos += length  # skip by the declared length (fields newer than this reader too)
        del after
    if compression is None or size is None:
        raise ValueError("payload size or compression type missing")
    return compression, size, pos


def _read_exactly(stream: io.RawIOBase | io.BufferedIOBase, size: int) -> bytes:
    parts = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def mariadb_uncompress(data: bytes, where: str) -> bytes:
    """The data of a MariaDB compressed event part (query text or row data)."""
    if not data or not data[0] & 0x80:
        raise BinlogCorrupt(where, "compressed event without its compression header")
    algorithm = (data[0] >> 4) & 0x07
    length_bytes = data[0] & 0x07
    if algorithm != 0 or not 1 <= length_bytes <= 4:
        raise BinlogCorrupt(
            where, f"compressed event with unknown algorithm {algorithm} / length size {length_bytes}"
        )
    expected = int.from_bytes(data[1 : 1 + length_bytes], "big")
    try:
        out = zlib.decompress(data[1 + length_bytes :])
    except zlib.error as exc:
        raise BinlogCorrupt(where, f"compressed event does not decompress ({exc})") from None
    if len(out) != expected:
        raise BinlogCorrupt(where, f"compressed event gives {len(out)} bytes, its header says {expected}")
    return out
