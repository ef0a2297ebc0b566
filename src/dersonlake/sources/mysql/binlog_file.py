"""Binlog files on disk (copied from a server, downloaded from RDS, restored from a backup): the
same events as the replication stream, read in bounded memory (one event at a time).

``read_file_events(path)`` yields ``(start, raw event)`` pairs from a file: the 4-byte magic, then
events back to back, each read by the size in its header. A file cut short (a server still
writing it, a partial copy) ends with a ``BinlogCorrupt`` naming the file and offset, never with
a partial event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dersonlake.sources.mysql.binlog_framing import HEADER, HEADER_SIZE, MAGIC, BinlogCorrupt

_MAX_EVENT = 1 << 30


def read_file_events(path: Path, start: int = 4) -> Iterator[tuple[int, bytes]]:
    """``(offset, event bytes)`` for each event of the binlog file at ``path`` from ``start`` (an
    event boundary; the Format_description at offset 4 is always read first, as it says how to
    read the rest)."""
    name = path.name
    with path.open("rb") as handle:
        magic = handle.read(4)
        if magic != MAGIC:
            raise BinlogCorrupt(f"{name}:0", "not a binlog file (no \\xfebin magic at its start)")
        offset = 4
        first = True
        while True:
            head = handle.read(HEADER_SIZE)
            if not head:
                return
            where = f"{name}:{offset}"
            if len(head) < HEADER_SIZE:
                raise BinlogCorrupt(
                    where, f"file ends inside an event header ({len(head)} of {HEADER_SIZE} bytes)"
                )
            size = HEADER.unpack_from(head, 0)[3]
            if size < HEADER_SIZE or size > _MAX_EVENT:
                raise BinlogCorrupt(where, f"impossible event size {size}")
            rest = handle.read(size - HEADER_SIZE)
            if len(rest) != size - HEADER_SIZE:
                raise BinlogCorrupt(
                    where, f"file ends inside an event ({HEADER_SIZE + len(rest)} of {size} bytes)"
                )
            if first or offset >= start:
                yield offset, head + rest
            if first and start > 4:
                handle.seek(start)
                offset = start
            else:
                offset += size
            first = False
