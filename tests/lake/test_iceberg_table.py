"""``CurrentStateTable`` on its own (no source database): batches of changes applied by key with
position deletes equal a model of the table, through folds, a lost key index and compaction."""

from __future__ import annotations

import random
import shutil
from decimal import Decimal

import pyarrow as pa
import pytest
from pyiceberg.catalog import load_catalog

from dersonlake.lake.iceberg import WKB, CurrentStateTable, TableSpec, catalog_properties, open_catalog
from dersonlake.lake.iceberg.table import FOLD_AT

SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("v", pa.uint64()), pa.field("s", pa.string())])


def rows(ids, tag):
    return pa.table(
        [
            pa.array(ids, pa.int64()),
            pa.array([2**64 - 1 - i for i in ids], pa.uint64()),
            [f"{tag}-{i}" for i in ids],
        ],
        schema=SCHEMA,
    )


@pytest.fixture
def table(tmp_path):
    catalog = open_catalog(catalog_properties(str(tmp_path / "lake")))
    return CurrentStateTable(catalog, TableSpec("shop", "t", ("id",)), tmp_path / "index")


def content(tmp_path) -> dict:
    """The table as plain pyiceberg reads it."""
    catalog = load_catalog("derson", **catalog_properties(str(tmp_path / "lake")))
    got = catalog.load_table("shop.t").scan().to_arrow().to_pylist()
    return {r["id"]: (r["v"], r["s"]) for r in got}


def test_batches_with_key_reuse_fold_and_a_lost_index_equal_the_model(table, tmp_path):
    n = 5000
    table.replace(SCHEMA, [rows(list(range(n)), "load")], {"dersonlake.op": "full-load"})
    model = {i: (Decimal(2**64 - 1 - i), f"load-{i}") for i in range(n)}
    rng = random.Random(7)
    for b in range(FOLD_AT + 5):
        ids = [rng.randrange(n + 500) for _ in range(600)]  # repeated keys within a batch too
        ops = [rng.choice("IUD") for _ in ids]
        table.apply(
            rows(ids, f"b{b}").add_column(0, "Op", pa.array(ops)), {"dersonlake.binlog-position": f"f:{b}"}
        )
        for i, op in zip(ids, ops, strict=True):
            if op == "D":
                model.pop(i, None)
            else:
                model[i] = (Decimal(2**64 - 1 - i), f"b{b}-{i}")
        if b == 3:
            shutil.rmtree(table.index_path)  # lost (or stale) index: rebuilt from the table
    assert content(tmp_path) == model
    summary = table.table().current_snapshot().summary
    assert int(summary["total-delete-files"]) < FOLD_AT  # the batch files were folded
    assert table.recorded()["dersonlake.binlog-position"] == f"f:{FOLD_AT + 4}"
    table.compact()
    assert content(tmp_path) == model
    assert table.table().current_snapshot().summary["total-delete-files"] == "0"


def test_applying_the_same_batch_twice_leaves_the_same_rows(table, tmp_path):
    table.replace(SCHEMA, [rows([1, 2, 3], "load")], {})
    batch = rows([2, 3, 4, 3], "x").add_column(0, "Op", pa.array(["U", "D", "I", "I"]))
    table.apply(batch, {})
    once = content(tmp_path)
    table.apply(batch, {})
    assert content(tmp_path) == once and sorted(once) == [1, 2, 3, 4]


def test_spatial_values_lose_mysqls_srid_and_keep_their_wkb(tmp_path):
    catalog = open_catalog(catalog_properties(str(tmp_path / "lake")))
    t = CurrentStateTable(catalog, TableSpec("shop", "g", ("id",), {"p": WKB}), tmp_path / "index")
    lake = pa.schema(
        [pa.field("id", pa.int32()), pa.field("p", pa.binary()), pa.field("d", pa.decimal256(50, 2))]
    )
    wkb = bytes.fromhex("0101000000000000000000f03f0000000000000040")  # POINT(1 2)
    t.replace(
        lake, [pa.table([[1], [b"\x00\x00\x00\x00" + wkb], [Decimal("1" * 48 + ".25")]], schema=lake)], {}
    )
    (row,) = t.read().to_pylist()
    assert row["p"] == wkb and row["d"] == "1" * 48 + ".25"  # beyond Iceberg's 38 digits: exact text
