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


class Fold(_FastAppendFiles):
    """A snapshot of ``kept`` entries (their sequence numbers unchanged, so older delete files still
    apply to them and newer ones do not stop) plus new data and delete files: the batch files of
    many commits folded into one of each, without touching the big files."""

    def __init__(
        self, transaction: Transaction, kept: list[ManifestEntry], snapshot_properties: dict[str, str]
    ) -> None:
        super().__init__(
            Operation.OVERWRITE, transaction, transaction._table.io, snapshot_properties=snapshot_properties
        )
        self._kept = kept
        self._added_delete_files: list[DataFile] = []

    def add_delete_file(self, delete_file: DataFile) -> Fold:
        self._added_delete_files.append(delete_file)
        return self

    def _existing_manifests(self) -> list[ManifestFile]:
        return []

    def _manifests(self) -> list[ManifestFile]:
        from pyiceberg.manifest import DataFileContent

        spec = self._transaction.table_metadata.spec()
        out = []
        data = [_existing(e) for e in self._kept if e.data_file.content == DataFileContent.DATA]
        data += [_added(self._snapshot_id, f) for f in self._added_data_files]
        deletes = [_existing(e) for e in self._kept if e.data_file.content != DataFileContent.DATA]
        deletes += [_added(self._snapshot_id, f) for f in self._added_delete_files]
        if data:
            with self.new_manifest_writer(spec) as writer:
                for entry in data:
                    writer.add_entry(entry)
            out.append(writer.to_manifest_file())
        if deletes:
            writer = _DeleteManifestWriter(
                spec, self.schema(), self.new_manifest_output(), self._snapshot_id, self._compression
            )
            with writer:
                for entry in deletes:
                    writer.add_entry(entry)
            out.append(writer.to_manifest_file())
        return out

    def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
        collector = SnapshotSummaryCollector()
        schema = self._transaction.table_metadata.schema()
        for f in [e.data_file for e in self._kept] + self._added_data_files + self._added_delete_files:
            collector.add_file(f, schema=schema)
        summary = Summary(operation=self._operation, **collector.build(), **snapshot_properties)
        return update_snapshot_summaries(summary, None)  # totals of the whole content


def _existing(entry: ManifestEntry) -> ManifestEntry:
    return ManifestEntry.from_args(
        status=ManifestEntryStatus.EXISTING,
        snapshot_id=entry.snapshot_id,
        sequence_number=entry.sequence_number,
        file_sequence_number=entry.file_sequence_number,
        data_file=entry.data_file,
    )
