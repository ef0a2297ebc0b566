"""Killed at any instant, ``derson-lake load --resume`` finishes with exactly one copy of every row.

The real CLI runs in a subprocess against a private sandbox with enough rows for many LOAD files
(small MaxFileSize, three range segments plus a whole table, two workers) and is SIGKILLed at
seeded random moments while its task is running (after a random number of committed files, then a
random instant, so the kills land inside the load on a fast machine as on a slow one). Before
resuming, 60% of every segment's rows are deleted from the source, so a resumed segment writes far
fewer files than the killed run had: any object of the killed run that resume failed to remove
would survive as extra rows. The oracle, per
unit: the keys before the deletion if that unit had finished when the process died (a full load does
not see later changes), else the keys after it. No key twice, no staged leftover.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dersonlake.sandbox.seed import seed
from tests.replication.conftest import write_owner

ORDERS = 60_000
BOUNDS = (20_000, 40_000)
MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "o",
            "object-locator": {"schema-name": "shop", "table-name": "orders"},
            "rule-action": "include",
        },
        {
            "rule-type": "selection",
            "rule-id": "2",
            "rule-name": "i",
            "object-locator": {"schema-name": "shop", "table-name": "order_items"},
            "rule-action": "include",
        },
        {
            "rule-type": "table-settings",
            "rule-id": "4",
            "rule-name": "pl",
            "object-locator": {"schema-name": "shop", "table-name": "orders"},
            "parallel-load": {
                "type": "ranges",
                "columns": ["id"],
                "boundaries": [[str(BOUNDS[0])], [str(BOUNDS[1])]],
            },
        },
    ]
}


def cli(home: Path, *args: str, wait: bool = True):
    env = {**os.environ, "DERSON_HOME": str(home)}
    cmd = [sys.executable, "-m", "dersonlake", *args]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=home)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=home, timeout=300)


def store_rows(home: Path, sql: str) -> list[tuple]:
    path = home / "replication.sqlite"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute(sql).fetchall()
    except sqlite3.Error:
        return []


def lake_values(lake: Path, table: str, columns: list[str]) -> list[tuple]:
    out: list[tuple] = []
    for path in sorted((lake / "shop" / table).rglob("*")):
        if path.is_file():
            assert not path.name.startswith("."), f"staged leftover {path}"
            t = pq.read_table(path, columns=columns)
            out += list(zip(*(t.column(c).to_pylist() for c in columns), strict=True))
    return out


def committed_files(lake: Path) -> int:
    # os.walk, not rglob: it skips a folder the load's table preparation removes while we count
    return sum(
        1
        for _, _, files in os.walk(lake)
        for name in files
        if name.endswith(".parquet") and not name.startswith(".")
    )


def source_keys(box) -> tuple[set, set]:
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM shop.orders")
        orders = {(r[0],) for r in cur.fetchall()}
        cur.execute("SELECT order_id, line_no FROM shop.order_items")
        items = {tuple(r) for r in cur.fetchall()}
    return orders, items


def delete_most_rows(box) -> None:
    with box.admin_connection() as conn, conn.cursor() as cur:
        for low in (0, *BOUNDS):
            cur.execute("DELETE FROM shop.orders WHERE id BETWEEN %s AND %s", (low + 4000, low + 16000))
        cur.execute("DELETE FROM shop.order_items WHERE order_id % 5 <> 0")


def segment_of(order_id: int) -> str:
    return "SEGMENT1" if order_id < BOUNDS[0] else ("SEGMENT2" if order_id < BOUNDS[1] else "SEGMENT3")


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_loads_every_row_once(sandbox_factory, tmp_path):
    box = sandbox_factory("crash")
    lake = tmp_path / "lake"
    write_owner(
        tmp_path,
        box,
        mapping=MAPPING,
        uri=str(lake),
        s3={"DataFormat": "parquet", "MaxFileSize": 64, "RowGroupLength": 2000},
        settings={"FullLoadSettings": {"MaxFullLoadSubTasks": 2}},
    )
    owners = str(tmp_path / "owners")
    rng = random.Random(20261125)
    kills = 0
    for _round in range(6):
        with box.admin_connection() as conn:
            seed(conn, rows=ORDERS)
        proc = cli(tmp_path, "load", "acme", "--owners-dir", owners, wait=False)  # a fresh load each round
        deadline = time.monotonic() + 60
        while store_rows(tmp_path, "SELECT status FROM tasks") != [("running",)] and proc.poll() is None:
            assert time.monotonic() < deadline, "the task never started running"
            time.sleep(0.01)
        # a random point of the load's progress (committed LOAD files), then a random instant:
        # the kill lands inside the load however fast this machine runs it
        target = rng.randint(0, 40)
        while proc.poll() is None and committed_files(lake) < target:
            assert time.monotonic() < deadline, "the load made no progress"
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        finished = {(t, s) for t, s in store_rows(tmp_path, "SELECT table_name, segment FROM load_segments")}
        orders_before, items_before = source_keys(box)
        delete_most_rows(box)
        orders_after, items_after = source_keys(box)

        resumed = cli(tmp_path, "load", "acme", "--owners-dir", owners, "--resume")
        assert resumed.returncode == 0, resumed.stderr

        expected_orders = {k for k in orders_before if ("orders", segment_of(k[0])) in finished} | {
            k for k in orders_after if ("orders", segment_of(k[0])) not in finished
        }
        orders = lake_values(lake, "orders", ["id"])
        assert len(orders) == len(set(orders)), "a row loaded twice"
        assert set(orders) == expected_orders
        items = lake_values(lake, "order_items", ["order_id", "line_no"])
        assert len(items) == len(set(items)), "a row loaded twice"
        assert set(items) == (items_before if ("order_items", "") in finished else items_after)
    assert kills >= 4, "the load finished before most kills: make it bigger"
