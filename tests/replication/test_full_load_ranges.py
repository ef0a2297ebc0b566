"""A big table whose key starts with an integer loads as key ranges in parallel (issue #14): the
lake holds every row exactly once with the table's usual file names, and a resume of a table whose
ranges had not all finished reloads it whole, never twice. Real sandbox, real lake on disk; the
"big" threshold is lowered (``split_rows``) so a small table splits."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest

from dersonlake.config import load_owner
from dersonlake.replication import status
from dersonlake.replication.full_load import RANGE_PREFIX, FullLoad
from dersonlake.replication.prepared_owner import prepare
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import create_task
from tests.replication.conftest import write_owner

ROWS = 3000
MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "ranged",
            "object-locator": {"schema-name": "shop", "table-name": "ranged_stock"},
            "rule-action": "include",
        }
    ]
}


@pytest.fixture
def ranged_stock(admin):
    """(store INT, day DATE) key as bench/multi_schema.py's daily_stock; stores 1..30, skewed ends."""
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS shop.ranged_stock")
        cur.execute(
            "CREATE TABLE shop.ranged_stock (store INT NOT NULL, day DATE NOT NULL, qty INT NULL,"
            " value DECIMAL(12,2) NOT NULL, seen DATETIME NULL, PRIMARY KEY (store, day))"
        )
        cur.execute(
            "INSERT INTO shop.ranged_stock SELECT 1 + (seq - 1) DIV 100, '2020-01-01' + INTERVAL (seq - 1) MOD 100 DAY,"
            " IF(seq MOD 7 = 0, NULL, seq), seq / 100, IF(seq MOD 5 = 0, NULL, '2021-03-04 05:06:07' + INTERVAL seq"
            f" MINUTE) FROM shop.seq_1_to_{ROWS}"
        )
        cur.execute("ANALYZE TABLE shop.ranged_stock")
        cur.fetchall()
    yield
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS shop.ranged_stock")


def source_rows(admin) -> list[tuple]:
    with admin.cursor() as cur:
        cur.execute("SELECT store, day, qty, value, seen FROM shop.ranged_stock ORDER BY store, day")
        return [tuple(r) for r in cur.fetchall()]


def lake_rows(storage) -> tuple[list[str], list[tuple]]:
    keys = sorted(o.key for o in storage.list("shop/ranged_stock/"))
    rows = []
    for key in keys:
        table = pq.read_table(storage.root / key)
        rows += [(r["store"], r["day"], r["qty"], r["value"], r["seen"]) for r in table.to_pylist()]
    return keys, sorted(rows)


def full_load(tmp_path, sandbox, start_type=status.START_REPLICATION, store=None, arn=None):
    write_owner(tmp_path, sandbox, mapping=MAPPING, s3={"DataFormat": "parquet", "MaxFileSize": 20})
    run = prepare(load_owner("acme", tmp_path / "owners"))
    params, storage = run.source(), run.storage()
    store = store or ReplicationStore(tmp_path / "r.sqlite")
    arn = arn or create_task(
        store,
        run.task_identifier,
        migration_type="full-load",
        table_mappings=json.dumps(MAPPING),
        settings_json=run.settings.to_json(),
        owner="acme",
    )
    catalog = run.catalog(params)
    load = FullLoad(
        arn=arn,
        plan=run.plan(catalog, "full-load"),
        catalog=catalog,
        endpoint=params,
        storage=storage,
        s3=run.s3,
        store=store,
        start_type=start_type,
        chunk_rows=250,
        batch_rows=100,
        split_rows=700,
    )
    outcome = load.run()
    return outcome, storage, store, arn, load


def test_a_big_table_loads_in_key_ranges_with_every_row_once(tmp_path, sandbox, ranged_stock, admin):
    outcome, storage, store, arn, load = full_load(tmp_path, sandbox)
    assert load.workers >= 2, "the test machine must run at least two units at once"
    assert outcome.failure is None and outcome.tables_loaded == 1 and outcome.rows == ROWS
    segments = store.finished_segments(arn, "shop", "ranged_stock")
    assert len(segments) >= 2 and all(name.startswith(RANGE_PREFIX) for name in segments)
    assert sum(rows for rows, _files in segments.values()) == ROWS
    keys, rows = lake_rows(storage)
    assert rows == source_rows(admin)  # every value, every row, once
    numbers = sorted(
        int(re.fullmatch(r"shop/ranged_stock/LOAD([0-9A-F]{8})\.parquet", k).group(1), 16) for k in keys
    )
    assert numbers == list(range(1, len(keys) + 1))  # the table's usual names, shared by its ranges
    stats = {r["table_name"]: r for r in store.table_stats(arn)}
    assert stats["ranged_stock"]["full_load_rows"] == ROWS


def test_resume_reloads_a_table_whose_ranges_had_not_all_finished(tmp_path, sandbox, ranged_stock, admin):
    _outcome, storage, store, arn, _load = full_load(tmp_path, sandbox)
    # as after a kill once the ranges had finished but before the table was marked completed
    segments = store.finished_segments(arn, "shop", "ranged_stock")
    assert len(segments) >= 2
    store.set_table(arn, "shop", "ranged_stock", state=status.TABLE_FULL_LOAD)
    with admin.cursor() as cur:  # the source moved on meanwhile
        cur.execute("DELETE FROM shop.ranged_stock WHERE store = 2")
        cur.execute("UPDATE shop.ranged_stock SET qty = -1 WHERE store = 30")
    outcome, storage, store, arn, _load = full_load(
        tmp_path, sandbox, status.RESUME_PROCESSING, store=store, arn=arn
    )
    assert outcome.failure is None and outcome.tables_loaded == 1
    _keys, rows = lake_rows(storage)
    assert rows == source_rows(admin)  # reloaded whole: nothing twice, nothing stale
