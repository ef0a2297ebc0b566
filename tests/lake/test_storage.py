"""Local and S3 storage behind one interface: whole objects or nothing, clear errors."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.errors import OperationFailed
from dersonlake.lake import layout
from dersonlake.lake.storage import LocalStorage, S3Storage
from dersonlake.lake.writer import ObjectWriter

SCHEMA = pa.schema([("id", pa.int64()), ("payload", pa.string())])


def rows(start: int, n: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {
            "id": list(range(start, start + n)),
            "payload": [f"row-{i:08d}-" + "x" * 200 for i in range(start, start + n)],
        },
        schema=SCHEMA,
    )


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "lake")
    s3 = request.getfixturevalue("s3")
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=bucket)
    return S3Storage(
        bucket, "raw/mysql", endpoint_url=s3.url, region=s3.region, staging_dir=tmp_path / "staging"
    )


def test_writer_rotates_at_max_bytes_and_commits_whole_files(storage):
    settings = normalize_s3_settings({"DataFormat": "parquet", "RowGroupLength": 1000})
    counter = iter(range(1, 100))
    writer = ObjectWriter(
        storage, settings, SCHEMA, lambda: layout.load_key("shop", "orders", next(counter), "parquet"),
        max_bytes=200_000,
    )  # fmt: skip
    for start in range(0, 5000, 1000):
        writer.write(rows(start, 1000))
    files = writer.close()
    assert len(files) >= 3
    assert [f.key for f in files] == [f"shop/orders/LOAD{i:08X}.parquet" for i in range(1, len(files) + 1)]
    listed = storage.list("shop/orders")
    assert [o.key for o in listed] == [f.key for f in files]
    ids = []
    for f in files:
        local = pq.read_table(pa.BufferReader(storage.read_bytes(f.key)))
        ids += local.column("id").to_pylist()
    assert ids == list(range(5000))
    assert sum(f.rows for f in files) == 5000


def test_aborted_writer_leaves_nothing_visible(storage):
    settings = normalize_s3_settings({"DataFormat": "csv"})
    writer = ObjectWriter(storage, settings, SCHEMA, lambda: "shop/t/LOAD00000001.csv")
    writer.write(rows(0, 10))
    writer.abort()
    assert storage.list("shop/t") == []
    assert storage.list("") == []


def test_delete_prefix_removes_a_tables_objects_only(storage):
    settings = normalize_s3_settings({"DataFormat": "csv"})
    for table in ("a", "ab"):
        w = ObjectWriter(storage, settings, SCHEMA, lambda t=table: f"shop/{t}/LOAD00000001.csv")
        w.write(rows(0, 3))
        w.close()
    assert storage.delete_prefix("shop/a") == 1
    assert [o.key for o in storage.list("shop")] == ["shop/ab/LOAD00000001.csv"]


def test_missing_bucket_is_one_clear_line(s3, tmp_path):
    storage = S3Storage("no-such-bucket", endpoint_url=s3.url, region=s3.region, staging_dir=tmp_path)
    with pytest.raises(
        OperationFailed, match=r"the bucket 'no-such-bucket' is not usable \(404.*\): create it first"
    ):
        storage.check_writable()


def test_folder_that_is_a_file_is_not_writable(tmp_path):
    blocker = tmp_path / "lake"
    blocker.write_text("not a folder")
    with pytest.raises(OperationFailed, match=r"the lake folder .*/lake is not writable"):
        LocalStorage(blocker).check_writable()


def test_local_staged_leftovers_are_hidden_and_cleaned(tmp_path):
    storage = LocalStorage(tmp_path)
    staged = storage.stage("shop/t/LOAD00000001.csv")
    staged.write_text("partial")
    assert storage.list("shop") == []
    assert storage.clean_staging("shop") == 1
    assert not staged.exists()
