"""Current state from LOAD + CDC objects: LOAD, then CDC files in name order, upsert by key, deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.lake import dms_columns, layout
from dersonlake.lake.current_state import current_state
from dersonlake.lake.storage import LocalStorage
from dersonlake.lake.writer import ObjectWriter

DATA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("qty", pa.int32())])


def write(storage, s3, phase, key, rows, ops=None):
    batch = pa.RecordBatch.from_pylist(rows, schema=DATA)
    decorated = dms_columns.decorate(
        batch, s3, phase, ops=pa.array(ops, pa.string()) if ops else "I", timestamps=datetime(2026, 11, 25)
    )
    writer = ObjectWriter(storage, s3, decorated.schema, lambda: key)
    writer.write(decorated)
    writer.close()
    return decorated.schema


@pytest.mark.parametrize(
    "settings",
    [
        {"DataFormat": "parquet"},
        {"DataFormat": "parquet", "IncludeOpForFullLoad": True, "TimestampColumnName": "ts"},
        {"DataFormat": "csv"},
    ],
)
def test_load_then_changes_in_name_order(tmp_path, settings):
    s3 = normalize_s3_settings(settings)
    storage = LocalStorage(tmp_path)
    ext = s3.extension
    load_schema = write(
        storage,
        s3,
        dms_columns.LOAD,
        f"shop/t/LOAD00000001.{ext}",
        [
            {"id": 1, "name": "a", "qty": 1},
            {"id": 2, "name": "b", "qty": 2},
            {"id": 3, "name": "c", "qty": 3},
        ],
    )
    write(
        storage,
        s3,
        dms_columns.LOAD,
        f"shop/t/SEGMENT2_LOAD00000001.{ext}",
        [{"id": 4, "name": "d", "qty": 4}],
    )
    t0 = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    second = layout.cdc_key("shop", "t", layout.cdc_file_stem(t0 + timedelta(seconds=5)), ext)
    first = layout.cdc_key("shop", "t", layout.cdc_file_stem(t0), ext)
    # written in the wrong order on purpose: names, not write order, decide
    cdc_schema = write(
        storage,
        s3,
        dms_columns.CDC,
        second,
        [{"id": 2, "name": "b3", "qty": 22}, {"id": 5, "name": "e", "qty": 5}],
        ["U", "I"],
    )
    write(
        storage,
        s3,
        dms_columns.CDC,
        first,
        [
            {"id": 1, "name": "a", "qty": 1},
            {"id": 2, "name": "b2", "qty": 2},
            {"id": 3, "name": "c", "qty": 3},
        ],
        ["D", "U", "D"],
    )
    state = current_state(storage, "shop", "t", ["id"], s3, load_schema=load_schema, cdc_schema=cdc_schema)
    assert state.schema.names == ["id", "name", "qty"]
    assert state.to_pylist() == [
        {"id": 2, "name": "b3", "qty": 22},
        {"id": 4, "name": "d", "qty": 4},
        {"id": 5, "name": "e", "qty": 5},
    ]


def test_a_table_not_in_the_lake_is_empty(tmp_path):
    s3 = normalize_s3_settings({"DataFormat": "parquet"})
    assert (
        current_state(LocalStorage(tmp_path), "shop", "nothing", ["id"], s3, load_schema=DATA).num_rows == 0
    )


def test_a_key_that_is_not_in_the_files_is_reported(tmp_path):
    s3 = normalize_s3_settings({"DataFormat": "parquet"})
    storage = LocalStorage(tmp_path)
    write(storage, s3, dms_columns.LOAD, "shop/t/LOAD00000001.parquet", [{"id": 1, "name": "a", "qty": 1}])
    with pytest.raises(ValueError, match=r"key column\(s\) \['sku'\] are not in the lake files"):
        current_state(storage, "shop", "t", ["sku"], s3)
