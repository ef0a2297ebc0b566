"""CDC files for one table, as DMS writes them (dms.md §3.2, §3.3, §7.2).

Changes arrive as Arrow batches of the table's lake columns with one operation (``I``/``U``/``D``)
and one commit time per row. They are written to an open file per date partition and become
visible when that file is flushed: after ``CdcMaxBatchInterval`` seconds, when it reaches
``CdcMinFileSize`` KB, or at stop. Names are ``YYYYMMDD-HHMMSSmmm`` of the file's creation time (in
``DatePartitionTimezone``), strictly increasing per table even within one millisecond, so name order
is write order for consumers. ``CdcInsertsOnly`` / ``CdcInsertsAndUpdates`` drop the other
operations; the Op column is present per the settings matrix; ``TimestampColumnName`` holds the
source commit time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from dersonlake.config import S3Settings
from dersonlake.lake import dms_columns, layout
from dersonlake.lake.storage import Storage
from dersonlake.lake.writer import CommittedFile, ObjectWriter


class CdcTableWriter:
    """Open CDC files of one lake table; ``flush_due()`` / ``flush()`` make them visible."""

    def __init__(
        self,
        storage: Storage,
        s3: S3Settings,
        schema: str,
        table: str,
        data: pa.Schema,
        *,
        last_stem: str | None = None,
        clock: Callable[[], float] = time.time,
        on_commit: Callable[[CommittedFile], None] | None = None,
        on_name: Callable[[str], None] | None = None,
    ) -> None:
        self.storage = storage
        self.s3 = s3
        self.schema = schema
        self.table = table
        self.data = data
        self.file_schema = dms_columns.file_schema(data, s3, dms_columns.CDC)
        self.last_stem = last_stem  # the newest name written for this table (from the checkpoint)
        self.clock = clock
        self.on_commit = on_commit
        self.on_name = on_name  # told each object name before its file is written (crash records)
        self._open: dict[str | None, tuple[ObjectWriter, float]] = {}  # partition -> writer, opened at
        self._keep = dms_columns.cdc_operations(s3)

    def add(
        self, batch: pa.RecordBatch, ops: Sequence[str] | pa.Array, commit_times: Sequence[datetime]
    ) -> int:
        """Buffer changes (rows of ``data``); returns how many were kept after the Insert/Update filters."""
        ops = ops if isinstance(ops, pa.Array) else pa.array(ops, pa.string())
        if len(self._keep) < 3:
            mask = pc.is_in(ops, value_set=pa.array(sorted(self._keep)))
            batch, ops = batch.filter(mask), ops.filter(mask)
            commit_times = [t for t, keep in zip(commit_times, mask.to_pylist(), strict=True) if keep]
        if batch.num_rows == 0:
            return 0
        stamps = pa.array(
            [
                t.astimezone(UTC).replace(tzinfo=None).strftime(dms_columns.TIMESTAMP_FORMAT)
                for t in commit_times
            ],
            pa.string(),
        )
        decorated = dms_columns.decorate(batch, self.s3, dms_columns.CDC, ops=ops, timestamps=stamps)
        decorated = pa.RecordBatch.from_arrays(decorated.columns, schema=self.file_schema)
        for partition, rows in self._by_partition(decorated, commit_times):
            self._writer(partition).write(rows)
        return decorated.num_rows

    @property
    def has_open(self) -> bool:
        """Whether changes are buffered in a file not yet committed (the checkpoint cannot pass them)."""
        return bool(self._open)

    def flush_due(self) -> bool:
        """Whether an open file has been open ``CdcMaxBatchInterval`` seconds (size flushes by itself)."""
        now = self.clock()
        return any(now - opened >= self.s3.CdcMaxBatchInterval for _w, opened in self._open.values())

    def flush(self) -> list[CommittedFile]:
        """Commit every open file (at the interval, before a checkpoint, at stop)."""
        done = []
        for writer, _opened in self._open.values():
            done += writer.close()
        self._open.clear()
        return done

    def abort(self) -> None:
        for writer, _opened in self._open.values():
            writer.abort()
        self._open.clear()

    # -- internals -------------------------------------------------------------------------------

    def _by_partition(self, batch: pa.RecordBatch, commit_times: Sequence[datetime]):
        if not self.s3.DatePartitionEnabled:
            yield None, batch
            return
        folders = [
            layout.date_partition(
                t,
                self.s3.DatePartitionSequence,
                self.s3.DatePartitionDelimiter,
                self.s3.DatePartitionTimezone,
            )
            for t in commit_times
        ]
        for folder in dict.fromkeys(folders):
            mask = pa.array([f == folder for f in folders])
            yield folder, batch.filter(mask)

    def _writer(self, partition: str | None) -> ObjectWriter:
        entry = self._open.get(partition)
        if entry is None:

            def next_key() -> str:
                created = datetime.fromtimestamp(self.clock(), UTC)
                self.last_stem = layout.next_cdc_stem(created, self.last_stem, self.s3.DatePartitionTimezone)
                key = layout.cdc_key(self.schema, self.table, self.last_stem, self.s3.extension, partition)
                if self.on_name:
                    self.on_name(key)
                return key

            def committed(file: CommittedFile) -> None:  # a size rotation: the next file's age starts now
                if partition in self._open:
                    self._open[partition] = (self._open[partition][0], self.clock())
                if self.on_commit:
                    self.on_commit(file)

            writer = ObjectWriter(
                self.storage,
                self.s3,
                self.file_schema,
                next_key,
                max_bytes=self.s3.CdcMinFileSize * 1024,
                on_commit=committed,
            )
            entry = self._open[partition] = (writer, self.clock())
        return entry[0]
