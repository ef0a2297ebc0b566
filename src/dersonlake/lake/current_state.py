"""A table's current state, materialized from the lake as a DMS consumer would do it.

The recipe every DMS-on-S3 consumer implements (dms.md §3.3): the LOAD files (every segment), then
the CDC files in name order (names are time stamps, so this is write order), rows in file order;
upsert by primary key, ``D`` deletes. LOAD rows without an ``Op`` column count as inserts. A
``U`` carries the full after-image only, so after a primary-key update the old key stays unless a
``D`` for it follows (DMS writes none), exactly as a DMS consumer sees it.

A table whose schema changed during CDC has files of several schemas (dms.md §4.4: new files carry
the new columns, old files keep theirs). The merged rows have the *newest* file's columns: an added
column is null in rows not changed since it was added (as every DMS consumer sees it), a dropped
one is gone, and a column whose type changed is cast from the older files to the newest type.

Memory: the whole table is held once (plus a sequence column); this is a reader for checks,
``lake show`` and tests, not a compaction engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from dersonlake.config import S3Settings
from dersonlake.lake.inventory import list_tables
from dersonlake.lake.reader import read_object
from dersonlake.lake.storage import Storage

_SEQ = "__dl_seq"


def current_state(
    storage: Storage,
    schema: str,
    table: str,
    key: Sequence[str],
    s3: S3Settings,
    *,
    load_schema: pa.Schema | None = None,
    cdc_schema: pa.Schema | Callable[[str], pa.Schema] | None = None,
) -> pa.Table:
    """The rows of ``schema.table`` now, without the Op and timestamp columns.

    ``key`` names the primary-key columns (as written in the lake). CSV objects need their file
    schemas (``load_schema``, ``cdc_schema``: one schema, or a function of the object key when the
    table's schema changed during CDC); Parquet carries its own. Without a key there is no
    upsert: the rows are the LOAD rows plus inserted CDC rows, deletes unmatched (DMS gives no more).
    """
    files = next((t for t in list_tables(storage) if (t.schema, t.table) == (schema, table)), None)
    if files is None:
        return (load_schema or pa.schema([])).empty_table()
    parts: list[pa.Table] = []
    seq = 0
    for obj, file_schema in [(o, load_schema) for o in files.load_files] + [
        (o, cdc_schema(o.key) if callable(cdc_schema) else cdc_schema) for o in files.cdc_files
    ]:
        part = read_object(storage, obj.key, s3, file_schema)
        if "Op" not in part.schema.names:
            part = part.add_column(0, "Op", pa.array(["I"] * part.num_rows, pa.string()))
        parts.append(part.append_column(_SEQ, pa.array(range(seq, seq + part.num_rows), pa.int64())))
        seq += part.num_rows
    newest = parts[-1].schema if parts else pa.schema([])
    rows = pa.concat_tables([_to_newest(p, newest) for p in parts], promote_options="permissive")
    drop = ["Op", _SEQ] + ([s3.TimestampColumnName] if s3.TimestampColumnName in rows.schema.names else [])
    columns = [c for c in newest.names if c not in drop]
    if not key:
        return rows.filter(pc.not_equal(rows["Op"], "D")).select(columns)
    missing = [k for k in key if k not in rows.schema.names]
    if missing:
        raise ValueError(f"{schema}.{table}: key column(s) {missing} are not in the lake files")
    latest = rows.group_by(list(key), use_threads=False).aggregate([(_SEQ, "max")])
    last_rows = rows.join(latest.rename_columns([*key, _SEQ]), keys=[*key, _SEQ], join_type="inner")
    alive = last_rows.filter(pc.not_equal(last_rows["Op"], "D"))
    return alive.sort_by([(k, "ascending") for k in key]).select(columns)


def _to_newest(part: pa.Table, newest: pa.Schema) -> pa.Table:
    """``part``'s columns that the newest file also has, cast to its types (a column changed type)."""
    for i, name in enumerate(part.schema.names):
        index = newest.get_field_index(name)
        if index >= 0 and not part.schema.field(i).type.equals(newest.field(index).type):
            part = part.set_column(i, newest.field(index), part.column(i).cast(newest.field(index).type))
    return part
