"""CDC files as DMS writes them: names, Op matrix, commit timestamps, partitions, flush triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.lake.cdc_writer import CdcTableWriter
from dersonlake.lake.storage import LocalStorage

DATA = pa.schema([("id", pa.int64()), ("name", pa.string())])
T0 = datetime(2026, 11, 25, 23, 59, 59, 500000, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0.timestamp()

    def __call__(self) -> float:
        return self.now


def rows(*ids):
    return pa.RecordBatch.from_pylist([{"id": i, "name": f"n{i}"} for i in ids], schema=DATA)


def make(tmp_path, settings, clock=None):
    storage = LocalStorage(tmp_path)
    return storage, CdcTableWriter(
        storage, normalize_s3_settings(settings), "shop", "t", DATA, clock=clock or Clock()
    )


def test_op_first_commit_time_column_and_file_name(tmp_path):
    _storage, w = make(tmp_path, {"DataFormat": "parquet", "TimestampColumnName": "ts"})
    w.add(rows(1, 2, 1), ["I", "U", "D"], [T0, T0, T0 + timedelta(microseconds=7)])
    [file] = w.flush()
    assert file.key == "shop/t/20261125-235959500.parquet"
    table = pq.read_table(tmp_path / file.key)
    assert table.schema.names == ["Op", "ts", "id", "name"]
    assert table.column("Op").to_pylist() == ["I", "U", "D"]
    assert table.column("ts").to_pylist()[2] == "2026-11-25 23:59:59.500007"


def test_names_strictly_increase_within_one_millisecond(tmp_path):
    storage, w = make(tmp_path, {"DataFormat": "csv"})
    names = []
    for i in range(3):
        w.add(rows(i), ["I"], [T0])
        names += [f.key for f in w.flush()]
    assert names == [
        "shop/t/20261125-235959500.csv",
        "shop/t/20261125-235959501.csv",
        "shop/t/20261125-235959502.csv",
    ]
    again = CdcTableWriter(
        storage,
        normalize_s3_settings({"DataFormat": "csv"}),
        "shop",
        "t",
        DATA,
        last_stem="20261125-235959502",
        clock=Clock(),
    )
    again.add(rows(9), ["I"], [T0])
    assert [f.key for f in again.flush()] == ["shop/t/20261125-235959503.csv"]  # after a restart too


def test_inserts_only_and_inserts_and_updates(tmp_path):
    _s, only = make(tmp_path / "a", {"DataFormat": "parquet", "CdcInsertsOnly": True})
    assert only.add(rows(1, 2, 3), ["I", "U", "D"], [T0] * 3) == 1
    table = pq.read_table(tmp_path / "a" / only.flush()[0].key)
    assert table.schema.names == ["id", "name"]  # no Op column: it follows IncludeOpForFullLoad
    _s, iu = make(
        tmp_path / "b", {"DataFormat": "parquet", "CdcInsertsAndUpdates": True, "IncludeOpForFullLoad": True}
    )
    assert iu.add(rows(1, 2, 3), ["I", "U", "D"], [T0] * 3) == 2
    assert pq.read_table(tmp_path / "b" / iu.flush()[0].key).column("Op").to_pylist() == ["I", "U"]


def test_date_partitions_by_commit_date(tmp_path):
    _s, w = make(
        tmp_path, {"DataFormat": "parquet", "DatePartitionEnabled": True, "DatePartitionDelimiter": "DASH"}
    )
    w.add(rows(1, 2), ["I", "I"], [T0, T0 + timedelta(seconds=1)])
    keys = sorted(f.key for f in w.flush())
    assert keys == [
        "shop/t/2026-11-25/20261125-235959500.parquet",
        "shop/t/2026-11-26/20261125-235959501.parquet",
    ]


def test_flush_due_after_the_interval_and_rotation_at_min_file_size(tmp_path):
    clock = Clock()
    _s, w = make(tmp_path, {"DataFormat": "csv", "CdcMaxBatchInterval": 5, "CdcMinFileSize": 1}, clock)
    w.add(rows(1), ["I"], [T0])
    assert not w.flush_due()
    clock.now += 5
    assert w.flush_due()
    w.flush()
    big = pa.RecordBatch.from_pylist([{"id": i, "name": "x" * 100} for i in range(100)], schema=DATA)
    committed = []
    w.on_commit = committed.append
    w.add(big, ["I"] * 100, [T0] * 100)
    assert len(committed) >= 5  # ~1 KB files committed as they fill
    assert all(f.bytes < 1300 for f in committed)
