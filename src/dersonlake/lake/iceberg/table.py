"""One current-state Iceberg table: its rows equal the source table's as of the position recorded
in its newest snapshot's summary.

* ``replace`` writes the whole content (a full load, a reload, a TRUNCATE: an empty content) as
  one new snapshot; the previous snapshot stays readable until expired.
* ``apply`` applies one batch of changes (DMS rows with an ``Op`` column, in change order) by key
  in one snapshot: the last image of each changed key goes into one new data file, and the rows
  they replace (found through the ``KeyIndex``) into one position-delete file: merge-on-read, so the
  cost is the batch's, whatever the table's size.
* ``compact`` rewrites the live rows into fresh data files without delete files and expires the
  older snapshots.

Schema changes follow the rows: a new column is added, a missing one dropped, a type widened where
Iceberg can promote it (int -> long, float -> double, a wider decimal); any other type change
rewrites the table with the column's values cast, as ``lake show`` casts older files.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError
from pyiceberg.manifest import DataFileContent
from pyiceberg.schema import Schema
from pyiceberg.table import Table, Transaction
from pyiceberg.types import DecimalType, DoubleType, FloatType, IntegerType, LongType

from dersonlake.lake.iceberg import fast_deletes
from dersonlake.lake.iceberg.files import write_data_file, write_position_deletes
from dersonlake.lake.iceberg.key_index import KeyIndex, row_keys
from dersonlake.lake.iceberg.snapshot import Fold, Replace, RowDelta
from dersonlake.lake.iceberg.transaction import transaction
from dersonlake.lake.iceberg.types import conform, iceberg_schema, iceberg_type

log = logging.getLogger("dersonlake.ICEBERG")

PREFIX = "dersonlake."  # our snapshot-summary properties
FILE_ROWS = 1_000_000  # rows per data file when we write a whole table
FOLD_AT = 10  # delete files on the table that make the next batch fold (see ``fold``)
REWRITE_SHARE = 0.2  # deleted share of a big data file that makes a fold rewrite it
REWRITES_PER_FOLD = 2  # big files one fold rewrites at most (the rest wait for the next fold)
KEEP_SNAPSHOTS = 20  # time travel reaches this many commits back (see ``_expire_oldest``)
_SEQ = "__dl_seq"


@dataclass(frozen=True)
class TableSpec:
    """Which table, keyed how, with which type hints (``types.UTC_TIMESTAMP`` / ``types.WKB``)."""

    namespace: str
    name: str
    key: tuple[str, ...]
    hints: Mapping[str, str] = field(default_factory=dict)

    @property
    def identifier(self) -> str:
        return f"{self.namespace}.{self.name}"


class CurrentStateTable:
    """The Iceberg table of ``spec`` in ``catalog``; its key index lives in ``index_dir``."""

    def __init__(self, catalog: Catalog, spec: TableSpec, index_dir: Path) -> None:
        if not spec.key:
            raise ValueError(f"{spec.identifier}: a current-state table needs a primary key")
        self.catalog = catalog
        self.spec = spec
        self.index_path = index_dir / f"{spec.namespace}.{spec.name}.keys"  # a folder (see key_index)
        fast_deletes.install()  # our pyiceberg reads apply position deletes at memory speed

    # -- reading --------------------------------------------------------------------------------

    def table(self) -> Table | None:
        try:
            return self.catalog.load_table(self.spec.identifier)
        except NoSuchTableError:
            return None

    def recorded(self) -> dict[str, str]:
        """Our properties in the current snapshot's summary ({} before the first snapshot)."""
        table = self.table()
        snapshot = table.current_snapshot() if table else None
        if snapshot is None or snapshot.summary is None:
            return {}
        return {k: v for k, v in snapshot.summary.additional_properties.items() if k.startswith(PREFIX)}

    def read(self) -> pa.Table:
        table = self.table()
        if table is None:
            raise NoSuchTableError(self.spec.identifier)
        return table.scan().to_arrow()

    # -- writing --------------------------------------------------------------------------------

    def replace(
        self, lake: pa.Schema, parts: Iterable[pa.Table], properties: Mapping[str, str], *, raw: bool = True
    ) -> int:
        """The table's whole content becomes ``parts`` in one snapshot; returns the rows written.

        ``raw``: the parts are lake rows (the type hints convert them); else rows read back from
        this table (a compaction, a retype), already converted."""
        table = self._table_for(lake)
        index = KeyIndex.open(self.index_path)
        txn = transaction(table)
        self._evolve(txn, lake, rewrite=True)
        producer = Replace(txn, dict(properties))
        rows, staged = 0, []
        for part in parts:
            rows += self._write_part(txn, part, producer, index, staged, raw)
        producer.commit()
        txn.commit_transaction()
        index.commit(producer.snapshot_id, added=staged, fresh=True)
        log.info("%s: %d rows written as a new snapshot", self.spec.identifier, rows)
        return rows

    def apply(self, changes: pa.Table, properties: Mapping[str, str]) -> int:
        """Apply ``changes`` (lake columns and ``Op``, in change order) in one snapshot; returns
        how many keys it changed."""
        lake = pa.schema([f for f in changes.schema if f.name != "Op"])
        table = self._table_for(lake)
        if self._needs_rewrite(table.schema(), lake):
            self._rewrite(table, lake)
            table = table.refresh()
        index = KeyIndex.open(self.index_path)
        self._ensure_index(table, index)
        last = self._last_images(changes)
        txn = transaction(table)
        self._evolve(txn, lake, rewrite=False)
        metadata = txn.table_metadata  # a deep copy on every access: once
        schema = metadata.schema()
        rows = conform(last.drop_columns(["Op"]), schema, self.spec.hints)
        keys = row_keys(rows, self.spec.key)
        alive_mask = pc.not_equal(last["Op"], "D").to_numpy(zero_copy_only=False)
        alive = rows.filter(pa.array(alive_mask))
        found = index.locate(keys)
        producer = RowDelta(txn, dict(properties))
        staged = []
        if alive.num_rows:
            data_file = write_data_file(table.io, metadata, alive)
            producer.append_data_file(data_file)
            staged.append(index.stage(data_file.file_path, keys.filter(alive_mask)))
        if len(found):
            producer.add_delete_file(write_position_deletes(table.io, metadata, found.paths, found.positions))
        producer.commit()
        table = txn.commit_transaction()
        index.commit(producer.snapshot_id, deleted=found, added=staged)
        if int(table.current_snapshot().summary.get("total-delete-files", "0")) >= FOLD_AT:
            table = self.fold(table)
        if len(table.metadata.snapshots) > KEEP_SNAPSHOTS + 10:
            self._expire_oldest(table)
        return len(keys)

    def fold(self, table: Table) -> Table:
        """Rewrite, in one snapshot, the data files reads should stop paying for: the small files
        of earlier batches (all into one) and the big files whose deleted share reached
        ``REWRITE_SHARE`` (at most ``REWRITES_PER_FOLD`` per fold, most deleted first), their
        deleted rows dropped; and every delete file into one. The other files are kept as they
        are, with their sequence numbers (so the deletes still apply to them). A big file is
        rewritten once per ``REWRITE_SHARE`` of its rows changed: the cost follows the changes,
        never the table's size (docs/iceberg.md, "Cost", argues the share).
        """
        snapshot = table.current_snapshot()
        entries = [
            e
            for m in snapshot.manifests(table.io)
            for e in m.fetch_manifest_entry(table.io, discard_deleted=True)
        ]
        data = [e for e in entries if e.data_file.content == DataFileContent.DATA]
        delete_entries = [e for e in entries if e.data_file.content != DataFileContent.DATA]
        deletes = []
        for e in delete_entries:
            with table.io.new_input(e.data_file.file_path).open() as f:
                deletes.append(pq.read_table(f, columns=["file_path", "pos"]))
        every = pa.concat_tables(deletes) if deletes else None
        rewritten = self._to_rewrite(data, every)
        kept = [e for e in data if e.data_file.file_path not in rewritten]
        remaining = every
        if every is not None and rewritten:
            remaining = every.filter(pc.invert(pc.is_in(every["file_path"], pa.array(sorted(rewritten)))))
        index = KeyIndex.open(self.index_path)
        txn = transaction(table)
        metadata = txn.table_metadata
        schema = metadata.schema()
        producer = Fold(txn, kept, {**self.recorded_of(snapshot), PREFIX + "op": "fold"})
        staged = []
        files = [e.data_file for e in data if e.data_file.file_path in rewritten]
        for group in _groups(files, FILE_ROWS):
            live = pa.concat_tables([_live_rows(table.io, f.file_path, every, schema) for f in group])
            for part in _chunks(live.to_reader(), FILE_ROWS) if live.num_rows else ():
                data_file = write_data_file(table.io, metadata, part)
                producer.append_data_file(data_file)
                staged.append(index.stage(data_file.file_path, row_keys(part, self.spec.key)))
        if remaining is not None and remaining.num_rows:
            producer.add_delete_file(
                write_position_deletes(table.io, metadata, remaining["file_path"], remaining["pos"])
            )
        producer.commit()
        table = txn.commit_transaction()
        index.commit(producer.snapshot_id, added=staged, dropped=rewritten)
        log.info(
            "%s: %d data file(s) rewritten, %d delete file(s) folded into one",
            self.spec.identifier,
            len(rewritten),
            len(deletes),
        )
        return table

    @staticmethod
    def _to_rewrite(data: list, deletes: pa.Table | None) -> set[str]:
        """The small files, and the big files most deleted beyond ``REWRITE_SHARE``."""
        small = {e.data_file.file_path for e in data if e.data_file.record_count < FILE_ROWS // 10}
        if deletes is None or not deletes.num_rows:
            return small
        counts = pc.value_counts(deletes["file_path"])
        deleted = dict(
            zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
        )
        worn = sorted(
            (
                (deleted[e.data_file.file_path] / e.data_file.record_count, e.data_file.file_path)
                for e in data
                if e.data_file.file_path not in small and e.data_file.file_path in deleted
            ),
            reverse=True,
        )
        return small | {path for share, path in worn[:REWRITES_PER_FOLD] if share >= REWRITE_SHARE}

    @staticmethod
    def recorded_of(snapshot) -> dict[str, str]:
        return {k: v for k, v in snapshot.summary.additional_properties.items() if k.startswith(PREFIX)}

    def _expire_oldest(self, table: Table) -> None:
        """Keep the newest ``KEEP_SNAPSHOTS`` snapshots: the table's metadata (copied whole by
        pyiceberg at every access) would otherwise grow with every batch. Files stay until
        ``compact`` removes those no snapshot holds."""
        ordered = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
        old = [s.snapshot_id for s in ordered[:-KEEP_SNAPSHOTS]]
        current = table.metadata.current_snapshot_id
        table.maintenance.expire_snapshots().by_ids([i for i in old if i != current]).commit()

    def truncate(self, properties: Mapping[str, str]) -> None:
        """An empty content as a new snapshot (TRUNCATE): readers of the old one are not disturbed."""
        table = self.table()
        if table is not None:
            self.replace(self._lake_schema(table), [], properties)

    def drop(self) -> None:
        """Remove the table from the catalog (its files stay for readers still holding it)."""
        try:
            self.catalog.drop_table(self.spec.identifier)
        except NoSuchTableError:
            return
        KeyIndex.forget(self.index_path)

    def compact(self, *, expire: bool = True) -> tuple[int, int]:
        """Rewrite the live rows without delete files, keep our summary properties; expire the
        older snapshots and delete the files only they held. Returns (rows, files removed)."""
        table = self.table()
        if table is None or table.current_snapshot() is None:
            return 0, 0
        kept = self.recorded()
        reader = table.scan().to_arrow_batch_reader()
        rows = self.replace(
            self._lake_schema(table),
            _chunks(reader, FILE_ROWS),
            {**kept, PREFIX + "op": "compact"},
            raw=False,
        )
        removed = self.expire() if expire else 0
        return rows, removed

    def expire(self) -> int:
        """Expire every snapshot but the current one, then delete the files no snapshot holds."""
        table = self.table()
        if table is None or table.current_snapshot() is None:
            return 0
        current = table.current_snapshot().snapshot_id
        older = [s.snapshot_id for s in table.snapshots() if s.snapshot_id != current]
        if older:
            table.maintenance.expire_snapshots().by_ids(older).commit()
            table = table.refresh()
        return _delete_orphans(table)

    # -- internals ------------------------------------------------------------------------------

    def _table_for(self, lake: pa.Schema) -> Table:
        table = self.table()
        if table is not None:
            return table
        with contextlib.suppress(NamespaceAlreadyExistsError):
            self.catalog.create_namespace(self.spec.namespace)
        schema = iceberg_schema(lake, self.spec.key, self.spec.hints)
        table = self.catalog.create_table(
            self.spec.identifier,
            schema=schema,
            properties={
                "format-version": "2",
                "write.delete.mode": "merge-on-read",
                "write.update.mode": "merge-on-read",
                "write.merge.mode": "merge-on-read",
                "write.metadata.previous-versions-max": "10",
                "write.metadata.delete-after-commit.enabled": "true",
            },
        )
        KeyIndex.forget(self.index_path)  # an index of an earlier table of this name
        return table

    def _lake_schema(self, table: Table) -> pa.Schema:
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        return schema_to_pyarrow(table.schema(), include_field_ids=False)

    def _write_part(
        self, txn: Transaction, part: pa.Table, producer: Replace, index: KeyIndex, staged: list, raw: bool
    ) -> int:
        if not part.num_rows:
            return 0
        metadata = txn.table_metadata
        rows = conform(part, metadata.schema(), self.spec.hints if raw else None)
        data_file = write_data_file(txn._table.io, metadata, rows)
        producer.append_data_file(data_file)
        staged.append(index.stage(data_file.file_path, row_keys(rows, self.spec.key)))
        return rows.num_rows

    def _last_images(self, changes: pa.Table) -> pa.Table:
        """The last change of each key, in first-seen order of those last changes."""
        if "Op" not in changes.schema.names:
            changes = changes.add_column(0, "Op", pa.array(["I"] * changes.num_rows, pa.string()))
        numbered = changes.append_column(_SEQ, pa.array(range(changes.num_rows), pa.int64()))
        latest = numbered.group_by(list(self.spec.key), use_threads=False).aggregate([(_SEQ, "max")])
        picked = pc.sort_indices(latest[f"{_SEQ}_max"])
        return numbered.take(pc.take(latest[f"{_SEQ}_max"], picked)).drop_columns([_SEQ])

    def _ensure_index(self, table: Table, index: KeyIndex) -> None:
        """Rebuild the key index from the table when it describes another snapshot."""
        snapshot = table.current_snapshot()
        current = snapshot.snapshot_id if snapshot else None
        if index.snapshot_id == current and current is not None:
            return
        log.info("%s: rebuilding the key index from the table", self.spec.identifier)
        tasks = list(table.scan().plan_files())
        deleted: dict[str, list] = {}
        for delete_file in {d for t in tasks for d in t.delete_files}:
            if delete_file.content != DataFileContent.POSITION_DELETES:
                raise ValueError(f"{self.spec.identifier}: equality deletes are not written by derson-lake")
            with table.io.new_input(delete_file.file_path).open() as f:
                d = pq.read_table(f, columns=["file_path", "pos"])
            for path in pc.unique(d["file_path"]).to_pylist():
                deleted.setdefault(path, []).append(d.filter(pc.equal(d["file_path"], path))["pos"])
        schema = table.schema()
        key_ids = {schema.find_field(k).field_id for k in self.spec.key}
        staged = []
        for task in tasks:
            path = task.file.file_path
            with table.io.new_input(path).open() as f:
                parquet = pq.ParquetFile(f)
                names = [
                    field.name
                    for field in parquet.schema_arrow
                    if int((field.metadata or {}).get(b"PARQUET:field_id", -1)) in key_ids
                ]
                part = parquet.read(columns=names)
            rows = conform(_by_field_id(part, schema), schema)
            gone = deleted.get(path)
            positions = pa.chunked_array(gone).to_numpy() if gone else None
            staged.append(index.stage(path, row_keys(rows, self.spec.key), positions))
        index.commit(current, added=staged, fresh=True)

    def _evolve(self, txn: Transaction, lake: pa.Schema, *, rewrite: bool) -> None:
        """Bring the table's columns to ``lake``'s: add, drop, widen (``rewrite``: also replace a
        column whose type cannot be widened, its data being rewritten by the caller)."""
        schema = txn.table_metadata.schema()
        wanted = {f.name: iceberg_type(f, self.spec.hints.get(f.name)) for f in lake}
        have = {f.name: f for f in schema.fields}
        changed = [n for n in wanted if n in have and have[n].field_type != wanted[n]]
        replaced = [n for n in changed if not _promotable(have[n].field_type, wanted[n])]
        if replaced and not rewrite:
            raise ValueError(f"{self.spec.identifier}: columns {replaced} need a rewrite")
        dropped = [n for n in have if n not in wanted] + replaced
        added = [n for n in wanted if n not in have] + replaced
        if not (dropped or added or changed):
            return
        if dropped:
            with txn.update_schema(allow_incompatible_changes=True) as update:
                for name in dropped:
                    update.delete_column(name)
        with txn.update_schema() as update:
            for name in added:
                update.add_column(name, wanted[name])
            for name in changed:
                if name not in replaced:
                    update.update_column(name, field_type=wanted[name])
        log.info(
            "%s: schema evolved (added %s, dropped %s, changed %s)",
            self.spec.identifier,
            added,
            dropped,
            changed,
        )

    def _needs_rewrite(self, schema: Schema, lake: pa.Schema) -> bool:
        have = {f.name: f.field_type for f in schema.fields}
        for f in lake:
            want = iceberg_type(f, self.spec.hints.get(f.name))
            if f.name in have and have[f.name] != want and not _promotable(have[f.name], want):
                return True
        return False

    def _rewrite(self, table: Table, lake: pa.Schema) -> None:
        """A column changed type beyond Iceberg's promotions: rewrite every row with it cast."""
        kept = self.recorded()
        current = table.scan().to_arrow()
        target = {f.name: f.type for f in lake}
        columns = [
            current.column(n).cast(target[n]) if n in target else current.column(n)
            for n in current.schema.names
        ]
        cast = pa.table(columns, names=current.schema.names)
        self.replace(lake, [cast], {**kept, PREFIX + "op": "retype"}, raw=False)


def _promotable(old, new) -> bool:
    if isinstance(old, IntegerType) and isinstance(new, LongType):
        return True
    if isinstance(old, FloatType) and isinstance(new, DoubleType):
        return True
    return (
        isinstance(old, DecimalType)
        and isinstance(new, DecimalType)
        and old.scale == new.scale
        and new.precision >= old.precision
    )


def _by_field_id(part: pa.Table, schema: Schema) -> pa.Table:
    """A data file's columns named as the schema names their field ids (files keep old names)."""
    names = []
    for f in part.schema:
        fid = (f.metadata or {}).get(b"PARQUET:field_id")
        field_ = (
            schema.find_field(int(fid)) if fid is not None and int(fid) in schema._lazy_id_to_field else None
        )
        names.append(field_.name if field_ else f.name)
    return part.rename_columns(names)


def _groups(files: list, rows: int) -> Iterable[list]:
    """Data files in groups of about ``rows`` rows (a big file alone): memory stays bounded."""
    group, count = [], 0
    for f in sorted(files, key=lambda f: f.record_count):
        if group and count + f.record_count > rows:
            yield group
            group, count = [], 0
        group.append(f)
        count += f.record_count
    if group:
        yield group


def _live_rows(io, path: str, deletes: pa.Table | None, schema: Schema) -> pa.Table:
    """The rows of data file ``path`` that ``deletes`` (all the table's position deletes) leave,
    as ``schema``'s columns. Every position delete naming ``path`` applies to it: a data file is
    written once and deletes only ever name rows that existed before them."""
    with io.new_input(path).open() as f:
        part = pq.read_table(f)
    if deletes is not None and deletes.num_rows:
        gone = deletes.filter(pc.equal(deletes["file_path"], path))["pos"]
        if len(gone):
            keep = np.ones(part.num_rows, dtype=bool)
            keep[gone.to_numpy()] = False
            part = part.filter(pa.array(keep))
    return conform(_by_field_id(part, schema), schema)


def _chunks(reader: pa.RecordBatchReader, rows: int) -> Iterable[pa.Table]:
    batches, count = [], 0
    for batch in reader:
        batches.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(batches)
            batches, count = [], 0
    if batches:
        yield pa.Table.from_batches(batches)


def _delete_orphans(table: Table) -> int:
    """Delete the table's data and delete files that no remaining snapshot references."""
    live: set[str] = set()
    for snapshot in table.snapshots():
        for manifest in snapshot.manifests(table.io):
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                live.add(entry.data_file.file_path)
    fs, root = pafs.FileSystem.from_uri(table.location().rstrip("/") + "/data")
    try:
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    except FileNotFoundError:
        return 0
    live = {p.split("://", 1)[-1] for p in live}
    removed = 0
    for info in infos:
        if info.type == pafs.FileType.File and info.path not in live:
            fs.delete_file(info.path)
            removed += 1
    return removed
