"""Binlog files on disk (copied from a server, downloaded from RDS, restored from a backup): the
same events as the replication stream, read in bounded memory (one event at a time).

``read_file_events(path)`` yields ``(start, raw event)`` pairs from a file: the 4-byte magic, then
events back to back, each read by the size in its header. A file cut short (a server still
writing it, a partial copy) ends with a ``BinlogCorrupt`` naming the file and offset, never with
a partial event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dersonlake.sources.mysql.binlog_framing import HEADER, HEADER_SIZE, MAGIC, BinlogCorrupt
from dersonlake.sources.mysql.binlog_position import BinlogPosition

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


@dataclass(frozen=True)
class FileStart:
    """Marks where the events of the next file begin (the server's stream says so with Rotate)."""

    name: str


class BinlogFiles:
    """Archived binlog files as an event source with the interface of the replication connection
    (``events()``, ``checksum``, ``close()``), so ``BinlogFileReader`` runs CDC over them exactly
    as over a server: from ``file:pos`` in one of them to the end of the last."""

    checksum = "NONE"  # each file's Format_description says; nothing to announce

    def __init__(self, paths: Sequence[Path], start: BinlogPosition) -> None:
        self.paths = sorted(paths, key=lambda p: BinlogPosition(p.name, 0).sort_key)
        self.start = start

    def events(self) -> Iterator[bytes | FileStart]:
        names = [p.name for p in self.paths]
        if self.start.file not in names:
            raise BinlogCorrupt(
                str(self.start),
                f"the start file {self.start.file} is not among the files given ({', '.join(names)})",
            )
        for path in self.paths[names.index(self.start.file) :]:
            yield FileStart(path.name)
            first = self.start.pos if path.name == self.start.file else 4
            for _offset, raw in read_file_events(path, first):
                yield raw

    def close(self) -> None:
        """Files are closed as they are read."""
