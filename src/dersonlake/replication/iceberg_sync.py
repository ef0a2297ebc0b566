"""Keeping an owner's current-state Iceberg tables at the lake's commit points.

The replication engine calls these after it commits lake files and before it saves the checkpoint
that covers them (one commit hook; the engine owns *when*, this module *what*):

* ``table_loaded``: a table's full load is committed: its Iceberg table becomes the LOAD files'
  rows (then the CDC files a ``DO_NOTHING`` prep left, as a batch), one new snapshot.
* ``batch_committed``: CDC files up to ``position`` are committed: each table's new files are
  applied by key in ONE Iceberg commit whose summary records ``position`` and the last file.
* ``table_truncated`` / ``table_dropped``: a TRUNCATE is an empty snapshot, a DROP drops the table.

The batch is read back from the committed DMS files, so the Iceberg table holds exactly the values
``lake show`` computes from them. A batch is not applied twice: its files are skipped when the
snapshot summary already records a position at or past ``position`` (a run that died after the
Iceberg commit and before its checkpoint reads the same changes again) or a file name at or past
theirs. Re-applying changes by key is idempotent anyway (a key ends as its last image), so a batch
that overlaps what the table has (after such a crash, a longer batch) still ends exact.

Nothing happens unless the lake records an Iceberg catalog (``target.tables: iceberg``).
Tables without a primary key get no Iceberg table: a DMS ``U`` or ``D`` row cannot say which of
several equal rows it changes, so such a table could not be kept equal to the source.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

import pyarrow as pa

from dersonlake.config import S3Settings
from dersonlake.lake import Storage, dms_columns, layout, list_tables, read_object
from dersonlake.mapping import TablePlan
from dersonlake.sources import SPATIAL_TYPES, BinlogPosition, Table

log = logging.getLogger("dersonlake.ICEBERG")

POSITION = "dersonlake.binlog-position"
GTID = "dersonlake.binlog-gtid"
LAST_FILE = "dersonlake.last-cdc-file"
OPERATION = "dersonlake.op"

_LOCK = threading.Lock()  # full-load workers finish tables in parallel; one catalog writer at a time


def _tables(storage: Storage):
    """The lake's Iceberg catalog and key-index folder, or None when the owner did not opt in."""
    from dersonlake.lake import configured, index_dir, open_catalog

    props = configured(storage)
    if props is None:
        return None
    return open_catalog(props), index_dir(storage)


def current_table(storage: Storage, plan: TablePlan, source: Table | None, opened=None):
    """The ``CurrentStateTable`` of ``plan`` in ``storage``'s lake (None: not opted in, or no key)."""
    from dersonlake.lake import UTC_TIMESTAMP, WKB, CurrentStateTable, TableSpec

    opened = opened or _tables(storage)
    if opened is None:
        return None
    if not plan.key_columns:
        log.warning("%s has no primary key: no Iceberg table (DMS files only)", plan.target)
        return None
    hints = {}
    for col in plan.columns:
        src = source.column(col.source) if source is not None and col.source else None
        if src is not None and src.data_type.lower() == "timestamp":
            hints[col.name] = UTC_TIMESTAMP
        elif src is not None and src.data_type.lower() in SPATIAL_TYPES:
            hints[col.name] = WKB
    catalog, index = opened
    spec = TableSpec(plan.target_schema, plan.target_table, tuple(plan.key_columns), hints)
    return CurrentStateTable(catalog, spec, index)


def table_loaded(storage: Storage, s3: S3Settings, plan: TablePlan, source: Table | None) -> None:
    """After a table's full load is committed (before it is marked complete)."""
    with _LOCK:
        table = current_table(storage, plan, source)
        if table is None:
            return
        files = _files(storage, plan)
        data = _lake_schema(plan)
        load_schema = dms_columns.file_schema(data, s3, dms_columns.LOAD)
        parts = (
            _strip(read_object(storage, f.key, s3, load_schema), s3, keep_op=False)
            for f in (files.load_files if files else [])
        )
        rows = table.replace(data, parts, {OPERATION: "full-load"})
        if files and files.cdc_files:  # TargetTablePrepMode DO_NOTHING kept an earlier run's changes
            _apply(table, storage, s3, plan, [f.key for f in files.cdc_files], {OPERATION: "full-load"})
        log.info("%s: Iceberg table %s written (%d rows)", plan.target, table.spec.identifier, rows)


def batch_committed(
    storage: Storage,
    s3: S3Settings,
    tables: Iterable[tuple[TablePlan, Table | None]],
    keys: Sequence[str],
    position: BinlogPosition,
) -> None:
    """After CDC files ``keys`` are committed and before the checkpoint at ``position`` is saved."""
    with _LOCK:
        opened = None
        for plan, source in tables:
            prefix = layout.table_prefix(plan.target_schema, plan.target_table) + "/"
            mine = [k for k in keys if k.startswith(prefix) and layout.CDC_NAME.match(k.rsplit("/", 1)[1])]
            if not mine:
                continue
            opened = opened or _tables(storage)
            if opened is None:
                return  # not opted in
            table = current_table(storage, plan, source, opened)
            if table is None:
                continue
            recorded = table.recorded()
            if POSITION in recorded and _covers(recorded, position):
                log.info(
                    "%s: batch up to %s already applied (Iceberg table at %s): skipped",
                    plan.target,
                    position,
                    recorded[POSITION],
                )
                continue
            properties = {OPERATION: "cdc", POSITION: str(position)}
            if position.gtid:
                properties[GTID] = position.gtid
            _apply(table, storage, s3, plan, mine, properties, after=recorded.get(LAST_FILE))


def table_truncated(
    storage: Storage, plan: TablePlan, source: Table | None, position: BinlogPosition
) -> None:
    """A TRUNCATE during CDC: an empty content as a new snapshot at ``position``."""
    with _LOCK:
        table = current_table(storage, plan, source)
        if table is not None:
            table.truncate({**table.recorded(), OPERATION: "truncate", POSITION: str(position)})


def table_dropped(storage: Storage, plan: TablePlan) -> None:
    """A DROP during CDC: the Iceberg table leaves the catalog (as the DMS files leave the lake)."""
    with _LOCK:
        table = current_table(storage, plan, None)
        if table is not None:
            table.drop()


# -- internals ------------------------------------------------------------------------------------


def _apply(
    table,
    storage: Storage,
    s3: S3Settings,
    plan: TablePlan,
    keys: Sequence[str],
    properties: dict[str, str],
    *,
    after: str | None = None,
) -> None:
    """Apply the CDC files ``keys`` (those after file name ``after``) in one Iceberg commit."""
    apply_files(table, storage, s3, _lake_schema(plan), keys, properties, after=after)


def apply_files(
    table,
    storage: Storage,
    s3: S3Settings,
    lake: pa.Schema | None,
    keys: Sequence[str],
    properties: dict[str, str],
    *,
    after: str | None = None,
) -> int:
    """Apply the CDC files ``keys`` (those after file name ``after``) to ``table`` in one Iceberg
    commit; returns the keys changed. ``lake`` (the table's lake columns) is needed for CSV only:
    Parquet files carry their own schema."""
    ordered = sorted(keys, key=lambda k: k.rsplit("/", 1)[1])
    if after is not None:
        ordered = [k for k in ordered if _stem(k) > after]
    cdc_schema = dms_columns.file_schema(lake, s3, dms_columns.CDC) if lake is not None else None
    parts = []
    for key in ordered:
        try:
            part = read_object(storage, key, s3, cdc_schema)
        except FileNotFoundError:  # removed since (a TRUNCATE or DROP later in the batch)
            continue
        parts.append(_strip(part, s3, keep_op=True))
    if not parts:
        return 0
    newest = parts[-1].schema
    changes = pa.concat_tables([_to(p, newest) for p in parts], promote_options="permissive")
    changed = table.apply(changes, {**properties, LAST_FILE: _stem(ordered[-1])})
    log.info("%s: %d change(s) applied to its Iceberg table", table.spec.identifier, changed)
    return changed


def _files(storage: Storage, plan: TablePlan):
    prefix = layout.table_prefix(plan.target_schema, plan.target_table)
    found = list_tables(storage, prefix + "/")
    return next((t for t in found if (t.schema, t.table) == (plan.target_schema, plan.target_table)), None)


def _lake_schema(plan: TablePlan) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.arrow_type) for c in plan.columns])


def _strip(part: pa.Table, s3: S3Settings, *, keep_op: bool) -> pa.Table:
    """The table's own columns (and ``Op``): DMS's timestamp column is not the source's."""
    drop = [n for n in (s3.TimestampColumnName,) if n and n in part.schema.names]
    if not keep_op and "Op" in part.schema.names:
        drop.append("Op")
    return part.drop_columns(drop) if drop else part


def _to(part: pa.Table, newest: pa.Schema) -> pa.Table:
    """An older file's rows in the newest file's columns (added: null, dropped: gone, retyped: cast)."""
    columns = []
    for f in newest:
        if f.name in part.schema.names:
            column = part.column(f.name)
            columns.append(column if column.type.equals(f.type) else column.cast(f.type))
        else:
            columns.append(pa.nulls(part.num_rows, f.type))
    return pa.table(columns, schema=newest)


def _stem(key: str) -> str:
    return key.rsplit("/", 1)[1].split(".", 1)[0]


def _covers(recorded: dict[str, str], position: BinlogPosition) -> bool:
    try:
        at = BinlogPosition.parse(recorded[POSITION])
    except Exception:
        return False
    return at.sort_key >= position.sort_key
