"""A stream of batches into a sequence of lake objects, each visible whole or not at all.

The replication layer hands batches of one table (or segment) to an ``ObjectWriter``; it writes a
staged file, starts a new object when ``max_bytes`` is reached (MaxFileSize for LOAD files) and
commits each finished file through the storage. Only committed files are reported, so a checkpoint
taken from ``committed`` never covers data that is not in the lake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from dersonlake.config import S3Settings
from dersonlake.lake.formats import FileFormat, open_file
from dersonlake.lake.storage import Storage


@dataclass(frozen=True)
class CommittedFile:
    key: str
    rows: int
    bytes: int


class ObjectWriter:
    """Writes batches of one schema to objects named by ``next_key()`` (called when a file opens).

    ``flush()`` closes and commits the current file (CDC does this on its interval); ``close()``
    commits what is left; ``abort()`` drops the staged file and commits nothing more.
    """

    def __init__(
        self,
        storage: Storage,
        settings: S3Settings,
        schema: pa.Schema,
        next_key: Callable[[], str],
        *,
        max_bytes: int | None = None,
        on_commit: Callable[[CommittedFile], None] | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.schema = schema
        self.next_key = next_key
        self.max_bytes = max_bytes
        self.on_commit = on_commit
        self.committed: list[CommittedFile] = []
        self._file: FileFormat | None = None
        self._staged: Path | None = None
        self._key: str | None = None
        self._rows = 0
        self._written_rows = 0  # rows and bytes across every file, for the bytes-per-row estimate
        self._written_bytes = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Write ``batch``, starting new files at ``max_bytes``: the batch is cut into slices sized
        by the bytes per row seen so far, so files end close to the limit even for small limits."""
        offset = 0
        while offset < batch.num_rows:
            if self._file is None:
                self._open()
            assert self._file is not None
            rows = batch.num_rows - offset
            if self.max_bytes is not None:
                room = self.max_bytes - self._file.size()
                rows = min(rows, max(1, int(room / self._bytes_per_row(batch))))
            self._file.write(batch.slice(offset, rows))
            self._rows += rows
            self._written_rows += rows
            offset += rows
            if self.max_bytes is not None and self._file.size() >= self.max_bytes:
                self.flush()

    def _bytes_per_row(self, batch: pa.RecordBatch) -> float:
        """File bytes per row so far (committed files and the open one), else Arrow's in-memory size."""
        written = self._written_bytes + (self._file.size() if self._file else 0)
        if self._written_rows and written:
            return max(written / self._written_rows, 1.0)
        return max(batch.nbytes / max(batch.num_rows, 1), 1.0)

    def flush(self) -> CommittedFile | None:
        """Close the open file and make it visible; nothing happens when no row is pending."""
        if self._file is None:
            return None
        assert self._staged is not None and self._key is not None
        self._file.close()
        size = self._staged.stat().st_size
        self._written_bytes += size
        self.storage.commit(self._staged, self._key)
        done = CommittedFile(self._key, self._rows, size)
        self._file, self._staged, self._key, self._rows = None, None, None, 0
        self.committed.append(done)
        if self.on_commit:
            self.on_commit(done)
        return done

    def close(self) -> list[CommittedFile]:
        self.flush()
        return self.committed

    def abort(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                if self._staged is not None:
                    self.storage.discard(self._staged)
        self._file, self._staged, self._key, self._rows = None, None, None, 0

    def _open(self) -> None:
        self._key = self.next_key()
        self._staged = self.storage.stage(self._key)
        self._file = open_file(self._staged, self.schema, self.settings)
