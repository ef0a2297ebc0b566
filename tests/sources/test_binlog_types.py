"""Every column type read through the binlog equals what the full-load reader gives for the same row.

``cdc_t.zoo`` is a copy of ``shop.type_zoo`` (every MySQL type family, minimums, maximums, zero
dates, NULLs, 70 KB texts); its rows are inserted, updated (new keys) and deleted, and each image
is compared with ``snapshot.read_batches`` of the table at that moment: same Arrow schema (field
metadata included) and equal columns, no tolerance.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from dersonlake.dms_types import DmsType
from dersonlake.errors import OperationFailed
from dersonlake.sandbox.seed import TYPE_ZOO_ROWS
from dersonlake.sources.catalog import Column, Table
from dersonlake.sources.mysql.binlog import (
    BinlogPosition,
    Change,
    ChangeBatch,
    changes_to_batch,
    value_converter,
)
from dersonlake.sources.mysql.snapshot import SnapshotQuery, read_batches
from tests.sources.binlog_helpers import Cdc


def full_load(cdc: Cdc, table: Table) -> pa.Table:
    query = SnapshotQuery(table, table.columns, key=("id",))
    return pa.Table.from_batches(list(read_batches(cdc.params, query)), schema=query.schema)


def assert_same(binlog: ChangeBatch, loaded: pa.Table) -> None:
    got = pa.Table.from_batches([binlog.data]).sort_by("id")
    assert got.schema.equals(loaded.schema, check_metadata=True)
    assert got.num_rows == loaded.num_rows == len(TYPE_ZOO_ROWS)
    for name in loaded.column_names:
        assert got.column(name).equals(loaded.column(name)), (
            name,
            got.column(name).to_pylist(),
            loaded.column(name).to_pylist(),
        )


def test_type_zoo_through_the_binlog_equals_the_full_load(cdc: Cdc, row_decoder: str) -> None:
    cdc.sql("DROP TABLE IF EXISTS cdc_t.zoo", "CREATE TABLE cdc_t.zoo LIKE shop.type_zoo")
    table = cdc.table("zoo")
    start = cdc.position()
    cdc.sql("INSERT INTO cdc_t.zoo SELECT * FROM shop.type_zoo")
    inserted = full_load(cdc, table)
    cdc.sql("UPDATE cdc_t.zoo SET id = id + 100")
    updated = full_load(cdc, table)
    cdc.sql("DELETE FROM cdc_t.zoo")

    txs = cdc.read(start, tables=["zoo"])
    ins, upd, dele = ([c for c in t.changes if isinstance(c, Change)] for t in txs)
    assert [c.op for c in ins + upd + dele] == ["I"] * 5 + ["U"] * 5 + ["D"] * 5

    assert_same(changes_to_batch(table, table.columns, ins), inserted)
    assert_same(changes_to_batch(table, table.columns, upd, image="before"), inserted)
    assert_same(changes_to_batch(table, table.columns, upd), updated)
    assert_same(changes_to_batch(table, table.columns, dele), updated)


def test_change_batch_carries_op_time_and_position_per_row(cdc: Cdc) -> None:
    table = cdc.table("items")
    start = cdc.position()
    cdc.txn(
        "INSERT INTO cdc_t.items VALUES (1, 'a', 1), (2, 'b', NULL)", "DELETE FROM cdc_t.items WHERE id = 1"
    )
    (tx,) = cdc.read(start, tables=["items"])

    batch = changes_to_batch(table, table.columns, tx.changes, commit_time=tx.commit_time)

    assert batch.data.to_pylist() == [
        {"id": 1, "name": "a", "qty": 1},
        {"id": 2, "name": "b", "qty": None},
        {"id": 1, "name": "a", "qty": 1},  # the deleted row's before-image, as DMS writes D
    ]
    assert batch.op.to_pylist() == ["I", "I", "D"]
    assert batch.timestamp.to_pylist() == [tx.commit_time] * 3
    assert batch.index.to_pylist() == [0, 1, 0]
    assert [BinlogPosition.parse(p) for p in batch.position.to_pylist()] == [c.position for c in tx.changes]
    assert abs(tx.commit_time - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=1)
    befores = changes_to_batch(table, table.columns, tx.changes, image="before")
    assert befores.data.column("id").to_pylist() == [None, None, 1]


def test_a_row_without_a_discovered_column_asks_for_rediscovery(cdc: Cdc) -> None:
    table = cdc.table("items")
    start = cdc.position()
    cdc.sql("ALTER TABLE cdc_t.items DROP COLUMN qty", "INSERT INTO cdc_t.items VALUES (1, 'a')")
    changes = [c for t in cdc.read(start, tables=["items"]) for c in t.changes if isinstance(c, Change)]

    with pytest.raises(OperationFailed, match=r"no column 'qty'.*rediscover"):
        changes_to_batch(table, table.columns, changes)


def column(data_type: str, column_type: str, dms: DmsType, **extra) -> Column:
    return Column("c", 1, data_type, column_type, True, dms, **extra)


@pytest.mark.parametrize(
    ("col", "given", "expected"),
    [
        (column("year", "year(4)", DmsType("int2")), 1900, 0),  # YEAR 0000 arrives as 1900
        (column("year", "year(4)", DmsType("int2")), 1901, 1901),
        (column("timestamp", "timestamp", DmsType("datetime")), dt.datetime(1970, 1, 1), None),
        (column("timestamp", "timestamp", DmsType("datetime")), dt.datetime(1970, 1, 1, 0, 0, 1),
         dt.datetime(1970, 1, 1, 0, 0, 1)),
        (column("binary", "binary(4)", DmsType("bytes", length=4), length=4), "", b"\0\0\0\0"),
        (column("binary", "binary(4)", DmsType("bytes", length=4), length=4), b"ab", b"ab\0\0"),
        (column("varbinary", "varbinary(4)", DmsType("bytes", length=4)), "", b""),
        (column("bit", "bit(12)", DmsType("bytes", length=2)), "111111111111", b"\x0f\xff"),
        (column("bit", "bit(1)", DmsType("boolean")), "1", True),
        (column("time", "time(3)", DmsType("string", length=14), datetime_precision=3),
         -dt.timedelta(seconds=1, milliseconds=500), "-00:00:01.500"),
        (column("json", "json", DmsType("clob")), {b"a": [1, None]}, '{"a": [1, null]}'),
    ],
)  # fmt: skip
def test_value_conversions_of_library_quirks(col: Column, given, expected) -> None:
    assert value_converter(col)(given) == expected


def test_timestamps_are_utc_whatever_the_writing_session_zone(cdc: Cdc) -> None:
    cdc.sql(
        "DROP TABLE IF EXISTS cdc_t.times",
        "CREATE TABLE cdc_t.times (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, d DATETIME NULL)",
    )
    table = cdc.table("times")
    start = cdc.position()
    cdc.sql(
        "SET time_zone = '+05:00'",
        "INSERT INTO cdc_t.times VALUES (1, '2024-01-01 05:00:00.250', '2024-01-01 05:00:00')",
    )
    (tx,) = cdc.read(start, tables=["times"])

    got = changes_to_batch(table, table.columns, tx.changes).data
    query = SnapshotQuery(table, table.columns, key=("id",))
    assert got.to_pylist() == [
        {"id": 1, "ts": dt.datetime(2024, 1, 1, 0, 0, 0, 250000), "d": dt.datetime(2024, 1, 1, 5)}
    ]
    assert got.to_pylist() == pa.Table.from_batches(list(read_batches(cdc.params, query))).to_pylist()


def test_mariadb_uuid_and_inet_columns_read_as_the_full_load_text(cdc: Cdc) -> None:
    cdc.sql(
        "DROP TABLE IF EXISTS cdc_t.nets",
        "CREATE TABLE cdc_t.nets (id INT PRIMARY KEY, u UUID NULL, i6 INET6 NULL, i4 INET4 NULL)",
    )
    table = cdc.table("nets")
    start = cdc.position()
    cdc.sql(
        "INSERT INTO cdc_t.nets VALUES "
        "(1, '123e4567-e89b-12d3-a456-426655440000', '::ffff:1.2.3.4', '10.0.0.0'),"
        "(2, '00000000-0000-0000-0000-000000000000', '::', '0.0.0.0'),"
        "(3, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::1:0:0:1', '255.255.255.255'),"
        "(4, '6ccd780c-baba-1026-9564-5b8c656024db', '::1.2.3.4', '192.168.1.1'),"
        "(5, NULL, 'fe80::1:0:0', NULL)"
    )
    (tx,) = cdc.read(start, tables=["nets"])

    got = changes_to_batch(table, table.columns, tx.changes).data
    loaded = full_load(cdc, table)
    assert got.schema.equals(loaded.schema)
    assert got.to_pylist() == loaded.to_pylist()
