"""``CurrentStateTable`` on its own (no source database): batches of changes applied by key with
position deletes equal a model of the table, through folds, a lost key index and compaction."""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
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


def _model_apply(model: dict, ids, ops, tag) -> None:
    for i, op in zip(ids, ops, strict=True):
        if op == "D":
            model.pop(i, None)
        else:
            model[i] = (Decimal(2**64 - 1 - i), f"{tag}-{i}")


def _data_files(t: CurrentStateTable) -> dict[str, int]:
    """Data file path -> rows, in the current snapshot."""
    table = t.table()
    return {task.file.file_path: task.file.record_count for task in table.scan().plan_files()}


def test_folds_rewrite_big_files_once_their_deleted_share_passes_the_threshold(table, tmp_path, monkeypatch):
    from dersonlake.lake.iceberg import table as table_module

    monkeypatch.setattr(table_module, "FILE_ROWS", 2000)  # big files: 2,000 rows; small: < 200
    n = 6000
    table.replace(SCHEMA, [rows(list(range(s, s + 2000)), "load") for s in range(0, n, 2000)], {})
    loaded = set(_data_files(table))
    assert len(loaded) == 3
    model = {i: (Decimal(2**64 - 1 - i), f"load-{i}") for i in range(n)}
    rng = random.Random(11)
    rewritten_seen = False
    for b in range(8 * FOLD_AT):  # 60 changes a batch: 10% of the table between two folds
        ids = rng.sample(range(n + 300), 60)
        ops = [rng.choice("IUUD") for _ in ids]
        table.apply(rows(ids, f"b{b}").add_column(0, "Op", pa.array(ops)), {})
        _model_apply(model, ids, ops, f"b{b}")
        files = _data_files(table)
        rewritten_seen |= not loaded <= set(files)
        assert table.table().scan().to_arrow().num_rows == len(model)
    assert rewritten_seen, "no load file was rewritten although random changes touched them all"
    assert content(tmp_path) == model
    # what the folds leave: no file far past its rewrite share (one fold period of changes more)
    shares = []
    for task in table.table().scan().plan_files():
        positions = sum(_deleted_in(table, d, task.file.file_path) for d in task.delete_files)
        shares.append(positions / task.file.record_count)
    assert max(shares) < table_module.REWRITE_SHARE + 0.1


def _deleted_in(t: CurrentStateTable, delete_file, path: str) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with t.table().io.new_input(delete_file.file_path).open() as f:
        d = pq.read_table(f, columns=["file_path", "pos"])
    return pc.sum(pc.equal(d["file_path"], path)).as_py() or 0


@pytest.mark.parametrize(
    "key, make",
    [
        (("code",), lambda i: {"code": f"k{i:05d}"}),
        (
            ("region", "day"),
            lambda i: {"region": f"r{i % 7}", "day": date(2026, 1, 1) + timedelta(days=i // 7)},
        ),
    ],
    ids=["string", "composite"],
)
def test_string_and_composite_keys_through_batches_folds_and_a_restart(tmp_path, key, make):
    from dersonlake.lake.iceberg import key_index

    types = {"code": pa.string(), "region": pa.string(), "day": pa.date32()}
    schema = pa.schema([*(pa.field(k, types[k]) for k in key), pa.field("v", pa.int64())])
    catalog = open_catalog(catalog_properties(str(tmp_path / "lake")))
    t = CurrentStateTable(catalog, TableSpec("shop", "k", key), tmp_path / "index")

    def batch(ids, vs, ops=None):
        cols = {name: [make(i)[name] for i in ids] for name in key}
        data = pa.table({**cols, "v": vs}, schema=schema)
        return data if ops is None else data.add_column(0, "Op", pa.array(ops))

    n = 1500
    t.replace(schema, [batch(range(n), list(range(n)))], {})
    model = {tuple(make(i)[k] for k in key): i for i in range(n)}
    rng = random.Random(5)
    for b in range(FOLD_AT + 4):
        ids = [rng.randrange(n + 200) for _ in range(200)]
        ops = [rng.choice("IUD") for _ in ids]
        vs = [10_000 * (b + 1) + i for i in ids]
        t.apply(batch(ids, vs, ops), {})
        for i, op, v in zip(ids, ops, vs, strict=True):
            k = tuple(make(i)[c] for c in key)
            if op == "D":
                model.pop(k, None)
            else:
                model[k] = v
        if b == 5:
            key_index._OPEN.clear()  # a new process: the index is loaded from its folder
    got = {tuple(r[k] for k in key): r["v"] for r in t.read().to_pylist()}
    assert got == model


def test_an_index_of_another_snapshot_or_unreadable_is_rebuilt(table, tmp_path):
    from dersonlake.lake.iceberg import key_index

    table.replace(SCHEMA, [rows(list(range(100)), "load")], {})
    model = {i: (Decimal(2**64 - 1 - i), f"load-{i}") for i in range(100)}
    stale = tmp_path / "stale"
    shutil.copytree(table.index_path, stale)
    step = [(list(range(0, 30)), ["U"] * 30, "a"), (list(range(20, 50)), ["D"] * 10 + ["U"] * 20, "b")]
    ids, ops, tag = step[0]
    table.apply(rows(ids, tag).add_column(0, "Op", pa.array(ops)), {})
    _model_apply(model, ids, ops, tag)
    # the index folder of the snapshot before (a crash between the Iceberg commit and the index's)
    shutil.rmtree(table.index_path)
    shutil.copytree(stale, table.index_path)
    key_index._OPEN.clear()
    ids, ops, tag = step[1]
    table.apply(rows(ids, tag).add_column(0, "Op", pa.array(ops)), {})
    _model_apply(model, ids, ops, tag)
    assert content(tmp_path) == model
    # an unreadable index.json: rebuilt too
    (table.index_path / "index.json").write_text("{not json")
    key_index._OPEN.clear()
    table.apply(rows([1, 2], "c").add_column(0, "Op", pa.array(["D", "U"])), {})
    _model_apply(model, [1, 2], ["D", "U"], "c")
    assert content(tmp_path) == model
