"""``derson-lake stream`` as a user runs it: a real subprocess against the sandbox, changes made while
it runs reach the lake without any later transaction (timer flush), SIGTERM flushes, checkpoints,
sets the task stopped (Stop Reason NORMAL) and exits 0; the CDC metrics are readable while it runs."""

from __future__ import annotations

import time

import pytest

from dersonlake.replication import status
from dersonlake.replication.cdc import CdcState
from dersonlake.replication.cdc_metrics import cdc_metrics
from dersonlake.sources.mysql.binlog_position import current_position
from tests.cli.stream_helpers import (
    cdc_rows,
    lake_state,
    make_owner,
    source_rows,
    start_stream,
    stop_stream,
    store,
    task,
    wait_for,
)

TABLE = "stream_items"


@pytest.fixture
def stream_items(admin):
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")
        cur.execute(f"CREATE TABLE shop.{TABLE} (id INT PRIMARY KEY, name VARCHAR(20), qty INT)")
        cur.execute(f"INSERT INTO shop.{TABLE} VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3)")
    yield
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")


def test_stream_applies_changes_with_seconds_of_lag_and_stops_cleanly_on_sigterm(
    sandbox, shop_params, tmp_path, admin, stream_items
):
    make_owner(tmp_path, sandbox, TABLE)
    proc = start_stream(tmp_path, "--status-every", "1")
    try:
        # the first run loads the table, then streams from the position recorded before the load
        wait_for(lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the full load", proc=proc)
        wait_for(
            lambda: (t := task(tmp_path)) is not None and t["status"] == status.RUNNING, "running", proc=proc
        )
        with admin.cursor() as cur:
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (4, 'four', 4)")
            cur.execute(f"UPDATE shop.{TABLE} SET qty = qty + 10 WHERE id = 1")
            cur.execute(f"DELETE FROM shop.{TABLE} WHERE id = 2")
            cur.execute("BEGIN")
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (5, 'five', 5), (6, 'six', 6)")
            cur.execute(f"UPDATE shop.{TABLE} SET name = 'SIX' WHERE id = 6")
            cur.execute("COMMIT")
        after = current_position(shop_params)
        # no transaction follows: the files must appear by the CdcMaxBatchInterval timer alone
        wait_for(lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the changes", proc=proc)
        s = store(tmp_path)
        try:
            arn = s.task("acme")["arn"]
            metrics = wait_for(lambda: cdc_metrics(s, arn), "CDC metrics in the store", proc=proc)
            assert set(metrics) >= {"CDCLatencySource", "CDCLatencyTarget", "CDCThroughputRowsSource"}
            assert metrics["CDCLatencySource"] >= 0 and metrics["CDCLatencyTarget"] >= 0
        finally:
            s.close()
    finally:
        code, out, err = stop_stream(proc)
    assert code == 0, err
    assert "Stop Reason NORMAL" in out
    row = task(tmp_path)
    assert row["status"] == status.STOPPED and row["stop_reason"] == status.STOP_NORMAL
    s = store(tmp_path)
    try:
        checkpoint = CdcState(s).checkpoint(row["arn"])
        assert checkpoint is not None and checkpoint.position >= after
        assert row["recovery_checkpoint"] == str(checkpoint.position)
    finally:
        s.close()
    assert lake_state(tmp_path, TABLE) == source_rows(admin, TABLE)
    ops = [(r["Op"], r["id"]) for r in cdc_rows(tmp_path, TABLE)]
    assert ops == [("I", 4), ("U", 1), ("D", 2), ("I", 5), ("I", 6), ("U", 6)]  # each change once


def test_a_stream_killed_mid_run_resumes_from_its_checkpoint_without_loss_or_duplicates(
    sandbox, tmp_path, admin, stream_items
):
    make_owner(tmp_path, sandbox, TABLE)
    proc = start_stream(tmp_path, "--status-every", "0")
    try:
        wait_for(lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the full load", proc=proc)
        wait_for(lambda: task(tmp_path)["status"] == status.RUNNING, "running", proc=proc)
        with admin.cursor() as cur:
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (10, 'ten', 10)")
        wait_for(
            lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the first change", proc=proc
        )
        with admin.cursor() as cur:  # killed while these may be read, written or checkpointed
            for i in range(11, 41):
                cur.execute(f"INSERT INTO shop.{TABLE} VALUES ({i}, 'n{i}', {i})")
                cur.execute(f"UPDATE shop.{TABLE} SET qty = qty + 1 WHERE id = {i - 1}")
    finally:
        proc.kill()  # SIGKILL: no flush, no checkpoint, the task left "running"
        proc.communicate()
    with admin.cursor() as cur:
        cur.execute(f"DELETE FROM shop.{TABLE} WHERE id = 3")
    again = start_stream(tmp_path, "--status-every", "0")
    try:
        wait_for(
            lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the resumed stream", proc=again
        )
    finally:
        code, _out, err = stop_stream(again)
    assert code == 0, err
    changes = [(r["Op"], r["id"], r["qty"]) for r in cdc_rows(tmp_path, TABLE)]
    expected = [("I", 10, 10)]
    for i in range(11, 41):
        expected += [("I", i, i), ("U", i - 1, i)]  # the update of the row before: qty + 1
    expected.append(("D", 3, 3))
    assert changes == expected  # every change exactly once, in order


def test_a_change_is_flushed_on_time_while_only_other_tables_keep_the_server_busy(
    sandbox, tmp_path, admin, stream_items
):
    """A busy server sends no heartbeats; the reader still marks time between other tables' commits."""
    import threading

    make_owner(tmp_path, sandbox, TABLE)
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS shop.stream_noise (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    done = threading.Event()

    def noise() -> None:
        conn = sandbox.admin_connection()
        try:
            with conn.cursor() as cur:
                deadline = time.monotonic() + 30  # longer than the flush needs, bounded if it never comes
                while not done.is_set() and time.monotonic() < deadline:
                    cur.execute("INSERT INTO shop.stream_noise (v) VALUES (1)")
        finally:
            conn.close()

    proc = start_stream(tmp_path, "--status-every", "0")
    writer = threading.Thread(target=noise)
    try:
        wait_for(lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the full load", proc=proc)
        wait_for(lambda: task(tmp_path)["status"] == status.RUNNING, "running", proc=proc)
        writer.start()
        with admin.cursor() as cur:
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (7, 'seven', 7)")
        wait_for(lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the change", proc=proc)
        assert writer.is_alive()  # seen while the other table was still being written
    finally:
        done.set()
        if writer.is_alive() or writer.ident:
            writer.join()
        stop_stream(proc)
        with admin.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS shop.stream_noise")


def test_a_stream_follows_an_added_column(sandbox, tmp_path, admin, stream_items):
    """DDL during CDC (the ddl work) inside a stream: new files carry the new column."""
    make_owner(tmp_path, sandbox, TABLE)
    proc = start_stream(tmp_path, "--status-every", "0")
    try:
        wait_for(lambda: lake_state(tmp_path, TABLE) == source_rows(admin, TABLE), "the full load", proc=proc)
        wait_for(lambda: task(tmp_path)["status"] == status.RUNNING, "running", proc=proc)
        with admin.cursor() as cur:
            cur.execute(f"ALTER TABLE shop.{TABLE} ADD COLUMN note VARCHAR(10)")
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (8, 'eight', 8, 'new')")
        wait_for(
            lambda: any(r.get("note") == "new" for r in cdc_rows(tmp_path, TABLE)),
            "the new column",
            proc=proc,
        )
    finally:
        code, _out, err = stop_stream(proc)
    assert code == 0, err
    assert lake_state(tmp_path, TABLE) == source_rows(admin, TABLE)
