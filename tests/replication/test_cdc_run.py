"""A bounded CDC run (delta): binlog changes after a full load land as DMS CDC files, and the lake's
merged state (LOAD, then CDC files in name order, upsert by key, deletes applied) equals the source."""

from __future__ import annotations

import pytest

from dersonlake.lake.current_state import current_state
from dersonlake.lake.reader import read_files
from dersonlake.replication.cdc import CdcCapture, CdcState
from dersonlake.sources.mysql.binlog_position import current_position

MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "c",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "cdc_items"},
        }
    ]
}


@pytest.fixture
def cdc_items(admin):
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS shop.cdc_items")
        cur.execute(
            "CREATE TABLE shop.cdc_items (id INT PRIMARY KEY, name VARCHAR(20), qty DECIMAL(8,2), at DATETIME(6))"
        )
        cur.execute(
            "INSERT INTO shop.cdc_items VALUES (1, 'one', 1.5, '2026-01-01 00:00:00.000001'), (2, 'two', 2, NULL),"
            " (3, 'three', 3, NULL)"
        )
    yield
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS shop.cdc_items")


def source_rows(admin):
    with admin.cursor() as cur:
        cur.execute("SELECT id, name, qty, at FROM shop.cdc_items ORDER BY id")
        return [dict(zip(("id", "name", "qty", "at"), r, strict=True)) for r in cur.fetchall()]


def delta(loaded, start=None):
    catalog = loaded.run.catalog()
    return CdcCapture(
        arn=loaded.arn,
        plan=loaded.run.plan(catalog, "cdc"),
        catalog=catalog,
        endpoint=loaded.run.source(),
        storage=loaded.storage,
        s3=loaded.run.s3,
        store=loaded.store,
        start=start,
    ).run()


def test_changes_after_a_full_load_make_the_lake_equal_the_source(load_owner_once, cdc_items, admin):
    loaded = load_owner_once(mapping=MAPPING, s3={"DataFormat": "parquet", "TimestampColumnName": "ts"})
    start = current_position(loaded.run.source())
    with admin.cursor() as cur:
        cur.execute("INSERT INTO shop.cdc_items VALUES (4, 'four', 4.25, NOW(6))")
        cur.execute("UPDATE shop.cdc_items SET name = 'uno', qty = qty + 1 WHERE id = 1")
        cur.execute("DELETE FROM shop.cdc_items WHERE id = 2")
        cur.execute("UPDATE shop.cdc_items SET id = 30 WHERE id = 3")  # a primary-key update
        cur.execute("BEGIN")
        cur.execute("INSERT INTO shop.cdc_items VALUES (99, 'never', 0, NULL)")
        cur.execute("ROLLBACK")
        cur.execute("BEGIN")
        cur.execute("INSERT INTO shop.cdc_items VALUES (5, 'five', 5, NULL), (6, 'six', 6, NULL)")
        cur.execute("DELETE FROM shop.cdc_items WHERE id = 5")
        cur.execute("COMMIT")
    outcome = delta(loaded, start)
    assert outcome.files == 1 and outcome.transactions >= 5
    cdc_keys = [o.key for o in loaded.storage.list("shop/cdc_items") if "LOAD" not in o.key]
    cdc = read_files(loaded.storage, cdc_keys, loaded.run.s3)
    assert cdc.schema.names[:2] == ["Op", "ts"]
    assert cdc.column("Op").to_pylist() == ["I", "U", "D", "D", "U", "I", "I", "D"]
    assert 99 not in cdc.column("id").to_pylist()  # rolled back: never written
    state = current_state(loaded.storage, "shop", "cdc_items", ["id"], loaded.run.s3)
    assert state.select(["id", "name", "qty", "at"]).to_pylist() == source_rows(admin)
    stats = loaded.tables()["shop.cdc_items"]
    assert (stats["inserts"], stats["updates"], stats["deletes"]) == (3, 2, 3)
    assert loaded.task()["recovery_checkpoint"] == str(outcome.checkpoint.position)

    again = delta(loaded)  # from the checkpoint: nothing new for this table
    assert again.files == 0
    assert [o.key for o in loaded.storage.list("shop/cdc_items") if "LOAD" not in o.key] == cdc_keys


def test_files_written_after_the_last_checkpoint_are_removed_before_reading_again(
    load_owner_once, cdc_items, admin
):
    loaded = load_owner_once(mapping=MAPPING)
    start = current_position(loaded.run.source())
    with admin.cursor() as cur:
        cur.execute("INSERT INTO shop.cdc_items VALUES (7, 'seven', 7, NULL)")
    first = delta(loaded, start)
    assert first.files == 1
    # A run that died after committing a file but before its checkpoint leaves a recorded object:
    stray = "shop/cdc_items/20991231-235959999.parquet"
    CdcState(loaded.store).intend(loaded.arn, stray)
    staged = loaded.storage.stage(stray)
    staged.write_bytes(b"a file the dead run committed")
    loaded.storage.commit(staged, stray)
    assert stray in [o.key for o in loaded.storage.list("shop/cdc_items")]
    delta(loaded)
    assert stray not in [o.key for o in loaded.storage.list("shop/cdc_items")]
    assert CdcState(loaded.store).uncovered(loaded.arn) == []


class CountingRun(CdcCapture):
    """Counts the conversions that reach the writer (instrumentation only: nothing is replaced)."""

    conversions = 0

    def _write(self, t):
        CountingRun.conversions += bool(t.pending)
        return super()._write(t)


def test_one_conversion_spans_many_transactions_and_keeps_each_commit_time(load_owner_once, cdc_items, admin):
    loaded = load_owner_once(mapping=MAPPING, s3={"DataFormat": "parquet", "TimestampColumnName": "ts"})
    start = current_position(loaded.run.source())
    # SET timestamp gives each transaction its own commit time (the binlog events carry it), so
    # the test needs no sleeping to tell transactions apart.
    stamps = ["2026-03-01 10:00:00", "2026-03-01 10:00:05", "2026-03-01 10:00:09", "2026-03-01 10:00:12"]
    statements = [
        "INSERT INTO shop.cdc_items VALUES (40, 'forty', 4, NULL)",
        "INSERT INTO shop.cdc_items VALUES (41, 'one', 1, NULL), (42, 'two', 2, NULL)",
        "UPDATE shop.cdc_items SET id = 43 WHERE id = 42",  # a primary-key update: D + U
        "DELETE FROM shop.cdc_items WHERE id = 41",
    ]
    try:
        with admin.cursor() as cur:
            for stamp, sql in zip(stamps, statements, strict=True):
                cur.execute(f"SET timestamp = UNIX_TIMESTAMP('{stamp}')")
                cur.execute("BEGIN")
                cur.execute(sql)
                cur.execute("COMMIT")
            cur.execute("SET timestamp = DEFAULT")
        catalog = loaded.run.catalog()
        CountingRun.conversions = 0
        outcome = CountingRun(
            arn=loaded.arn,
            plan=loaded.run.plan(catalog, "cdc"),
            catalog=catalog,
            endpoint=loaded.run.source(),
            storage=loaded.storage,
            s3=loaded.run.s3,
            store=loaded.store,
            start=start,
        ).run()
    finally:
        with admin.cursor() as cur:
            cur.execute("SET timestamp = DEFAULT")
    # the first transaction is converted alone (it measures the bytes per row), the other three in one go
    assert CountingRun.conversions == 2
    assert outcome.files == 1 and outcome.changes == 6
    cdc_keys = [o.key for o in loaded.storage.list("shop/cdc_items") if "LOAD" not in o.key]
    cdc = read_files(loaded.storage, cdc_keys, loaded.run.s3)
    columns = [cdc.column(name).to_pylist() for name in ("Op", "id", "ts")]
    assert [(op, key, str(ts)[:19]) for op, key, ts in zip(*columns, strict=True)] == [
        ("I", 40, stamps[0]),
        ("I", 41, stamps[1]),
        ("I", 42, stamps[1]),
        ("D", 42, stamps[2]),
        ("U", 43, stamps[2]),
        ("D", 41, stamps[3]),
    ]
    stats = loaded.tables()["shop.cdc_items"]
    assert (stats["inserts"], stats["updates"], stats["deletes"]) == (3, 1, 2)
    state = current_state(loaded.storage, "shop", "cdc_items", ["id"], loaded.run.s3)
    assert state.select(["id", "name", "qty", "at"]).to_pylist() == source_rows(admin)
