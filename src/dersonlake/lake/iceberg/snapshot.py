"""Two snapshot producers pyiceberg does not have, on its own ``_SnapshotProducer`` machinery.

* ``RowDelta``: new data files *and* position-delete files in one snapshot (Java Iceberg's
  ``RowDelta``). pyiceberg's producers only write data manifests; this one adds a manifest of
  content ``deletes`` beside them, so a batch of changes costs the rows it changes, never a rewrite
  of the files holding them (pyiceberg's ``delete``/``upsert`` are copy-on-write).
* ``Replace``: the table's whole content replaced by new data files in one snapshot (a full load,
  a reload, a TRUNCATE, a compaction), dropping every data and delete file, so readers of the
  previous snapshot finish undisturbed and the next ones see only the new files.

Both run inside a pyiceberg ``Transaction`` (so a schema change commits with them, atomically)
and carry the caller's snapshot-summary properties (the binlog position they cover).
"""

from __future__ import annotations

from pyiceberg.manifest import (
    DataFile,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    ManifestWriterV2,
)
from pyiceberg.table import Transaction
from pyiceberg.table.snapshots import Operation, SnapshotSummaryCollector, Summary, update_snapshot_summaries
from pyiceberg.table.update.snapshot import _FastAppendFiles
from pyiceberg.typedef import EMPTY_DICT


class _DeleteManifestWriter(ManifestWriterV2):
    """A v2 manifest of delete files (pyiceberg's writer only says ``data``)."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


def _added(snapshot_id: int, data_file: DataFile) -> ManifestEntry:
    return ManifestEntry.from_args(
        status=ManifestEntryStatus.ADDED,
        snapshot_id=snapshot_id,
        sequence_number=None,
        file_sequence_number=None,
        data_file=data_file,
    )


class RowDelta(_FastAppendFiles):
    """Append data files and position-delete files in one ``overwrite`` snapshot."""

    def __init__(self, transaction: Transaction, snapshot_properties: dict[str, str] = EMPTY_DICT) -> None:
        super().__init__(
            Operation.OVERWRITE, transaction, transaction._table.io, snapshot_properties=snapshot_properties
        )
        self._added_delete_files: list[DataFile] = []

    def add_delete_file(self, delete_file: DataFile) -> RowDelta:
        self._added_delete_files.append(delete_file)
        return self

    def _manifests(self) -> list[ManifestFile]:
        manifests = super()._manifests()
        if not self._added_delete_files:
            return manifests
        metadata = self._transaction.table_metadata
        writer = _DeleteManifestWriter(
            metadata.spec(), self.schema(), self.new_manifest_output(), self._snapshot_id, self._compression
        )
        with writer:
            for f in self._added_delete_files:
                writer.add(_added(self._snapshot_id, f))
        return [writer.to_manifest_file(), *manifests]

    def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
        data_files = self._added_data_files
        self._added_data_files = data_files + self._added_delete_files  # counted, not written as data
        try:
            return super()._summary(snapshot_properties)
        finally:
            self._added_data_files = data_files


class Replace(_FastAppendFiles):
    """A snapshot holding only the given data files: every earlier data and delete file leaves it."""

    def __init__(self, transaction: Transaction, snapshot_properties: dict[str, str] = EMPTY_DICT) -> None:
        super().__init__(
            Operation.OVERWRITE, transaction, transaction._table.io, snapshot_properties=snapshot_properties
        )

    def _existing_manifests(self) -> list[ManifestFile]:
        return []

    def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
        collector = SnapshotSummaryCollector()
        schema = self._transaction.table_metadata.schema()
        for f in self._added_data_files:
            collector.add_file(f, schema=schema)
        summary = Summary(operation=self._operation, **collector.build(), **snapshot_properties)
        return update_snapshot_summaries(summary, None)  # totals of the new content alone
