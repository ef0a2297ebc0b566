"""Bringing an owner's Iceberg tables up to the DMS files its lake holds, after a run.

Locally the replication engine applies every commit to the Iceberg tables as it goes
(``iceberg_sync``). On AWS, AWS DMS writes the files and knows nothing of Iceberg, so the pipeline
runs this once the task has stopped (the ``UpdateIcebergTables`` step of DMS-Handler, the
``DMS-iceberg`` Lambda). Per table of the lake, from what the lake and the catalog hold alone (the
source need not be reachable):

* **LOAD files newer than the Iceberg table's current snapshot** (or no Iceberg table yet): the
  table was (re)loaded since; its content becomes the LOAD files' rows (``replace``), then the CDC
  files written since that load are applied (a ``full-load-and-cdc`` run's cached changes). CDC
  files older than the load (``TargetTablePrepMode: DO_NOTHING`` keeps them) are changes the load
  already holds: the replace records the newest as ``last-cdc-file``, so no run applies them.
* **CDC files after the snapshot summary's ``dersonlake.last-cdc-file``**: applied by key in ONE
  commit, whose summary records the last file. A retried step, or a second run over the same
  files, finds nothing after that file and commits nothing.

Keys come from ``owner.yaml`` (``target.keys``) or else from the existing Iceberg table's identifier
fields; a table with neither gets no Iceberg table (listed in the result, as the engine warns for a
source table without a primary key). Files are read as Parquet (they carry their types); a CSV
lake's files carry none, so such a lake needs the engine's own commits (local runs).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from dersonlake.config import S3Settings
from dersonlake.errors import BadInput
from dersonlake.lake import Storage, list_tables, read_object
from dersonlake.replication.iceberg_sync import _LOCK, LAST_FILE, OPERATION, _strip, apply_files

log = logging.getLogger("dersonlake.ICEBERG")


@dataclass
class CatchUp:
    """What one catch-up did, per table (``schema.table`` in lake names)."""

    loaded: dict[str, int] = field(default_factory=dict)  # table -> rows written by a replace
    applied: dict[str, int] = field(default_factory=dict)  # table -> keys changed by one CDC commit
    current: list[str] = field(default_factory=list)  # tables that had nothing new
    skipped: dict[str, str] = field(default_factory=dict)  # table -> why it has no Iceberg table

    def to_json(self) -> dict[str, object]:
        return {
            "loaded": self.loaded,
            "applied": self.applied,
            "current": self.current,
            "skipped": self.skipped,
            "commits": len(self.loaded) + len(self.applied),
        }


def catch_up(
    storage: Storage,
    s3: S3Settings,
    keys: Mapping[str, Sequence[str]],
    column_types: Mapping[str, str] | None = None,
) -> CatchUp:
    """Apply whatever the lake's DMS files hold that its Iceberg tables do not (see the module).

    ``keys``: ``schema.table`` -> key columns; ``column_types``: ``schema.table.column`` ->
    ``timestamptz`` | ``wkb`` (owner.yaml's ``target.keys`` / ``target.column_types``)."""
    from dersonlake.lake import configured, open_catalog

    props = configured(storage)
    if props is None:
        raise BadInput(
            "the lake records no Iceberg catalog",
            value=storage.uri,
            hint="Set target.tables: iceberg in owner.yaml (docs/iceberg.md)",
        )
    with _LOCK:  # the local engine may commit to the same tables (serve runs both)
        catalog = open_catalog(props)
        done = CatchUp()
        for files in list_tables(storage):
            _catch_up_table(storage, s3, catalog, files, keys, column_types or {}, done)
    return done


def _catch_up_table(
    storage: Storage, s3: S3Settings, catalog, files, keys, column_types, done: CatchUp
) -> None:
    from pyiceberg.exceptions import NoSuchTableError

    from dersonlake.lake import CurrentStateTable, TableSpec, index_dir

    name = f"{files.schema}.{files.table}"
    try:
        existing = catalog.load_table(name)
    except NoSuchTableError:
        existing = None
    key = tuple(keys[name]) if name in keys else _identifier(existing)
    if not key:
        why = "declared without a key in target.keys" if name in keys else "no key known"
        log.warning("%s: %s: no Iceberg table (DMS files only)", name, why)
        done.skipped[name] = why if name in keys else why + " (declare it in owner.yaml target.keys)"
        return
    declared = {c.rpartition(".")[2]: t for c, t in column_types.items() if c.rpartition(".")[0] == name}
    spec = TableSpec(files.schema, files.table, key, {**_hints(existing), **declared})
    table = CurrentStateTable(catalog, spec, index_dir(storage))
    snapshot = existing.current_snapshot() if existing is not None else None
    since = snapshot.timestamp_ms / 1000 if snapshot is not None else None
    reloaded = [f for f in files.load_files if since is None or (f.modified or 0) > since]
    after: str | None = None
    if reloaded:
        _refuse_csv(files.load_files[0].key, name)
        first = _strip(read_object(storage, files.load_files[0].key, s3), s3, keep_op=False)
        rest = (_strip(read_object(storage, f.key, s3), s3, keep_op=False) for f in files.load_files[1:])
        lake = pa.schema([f for f in first.schema if f.name != "Op"])
        started = min((f.modified or 0) for f in files.load_files)
        older = [f.key for f in files.cdc_files if (f.modified or 0) < started]  # kept by DO_NOTHING
        properties = {OPERATION: "full-load"}
        if older:  # changes the load already holds: never applied over it, now or in a later run
            properties[LAST_FILE] = after = max(_stem(k) for k in older)
        done.loaded[name] = table.replace(lake, itertools.chain([first], rest), properties)
        cdc = [f.key for f in files.cdc_files if (f.modified or 0) >= started]  # this load's changes
    else:
        cdc = [f.key for f in files.cdc_files]
        after = table.recorded().get(LAST_FILE) if existing is not None else None
    new = [k for k in cdc if after is None or _stem(k) > after]
    if not new:
        if name not in done.loaded:
            done.current.append(name)
        return
    _refuse_csv(new[0], name)
    done.applied[name] = apply_files(table, storage, s3, None, new, {OPERATION: "cdc"}, after=after)


def _identifier(table) -> tuple[str, ...]:
    """The existing Iceberg table's key (its identifier fields, in schema order)."""
    if table is None:
        return ()
    schema = table.schema()
    names = schema.identifier_field_names()
    return tuple(f.name for f in schema.fields if f.name in names)


def _hints(table) -> dict[str, str]:
    """Type hints the existing table already holds (a ``timestamptz`` column is a MySQL TIMESTAMP),
    so a batch read from zone-less Parquet timestamps keeps the column's type."""
    from pyiceberg.types import TimestamptzType

    from dersonlake.lake import UTC_TIMESTAMP

    if table is None:
        return {}
    return {f.name: UTC_TIMESTAMP for f in table.schema().fields if isinstance(f.field_type, TimestamptzType)}


def _refuse_csv(key: str, name: str) -> None:
    if not key.endswith(".parquet"):
        raise BadInput(
            "the Iceberg step reads Parquet files only (CSV files carry no column types)",
            value=f"{name}: {key}",
            hint="Set DataFormat: parquet in the owner's s3_settings, or keep the lake local "
            "(the local engine applies CSV lakes at each commit)",
        )


def _stem(key: str) -> str:
    return key.rsplit("/", 1)[1].split(".", 1)[0]
