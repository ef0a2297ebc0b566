"""Guards of continuous CDC on private servers (``sandbox_factory``): a purged binlog asks for a
reload, which ``load --reload`` does; a source restarted mid-stream is reconnected after the
``RecoverableError*`` backoff with nothing lost and nothing written twice; when the retries run
out the task fails with the cause."""

from __future__ import annotations

import pytest

from dersonlake.replication import status
from tests.cli.stream_helpers import (
    cdc_rows,
    cli,
    lake_state,
    make_owner,
    source_rows,
    start_stream,
    task,
    wait_for,
)

TABLE = "guard_items"


@pytest.fixture
def box(sandbox_factory):
    server = sandbox_factory()
    with server.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE shop")
        cur.execute(f"CREATE TABLE shop.{TABLE} (id INT PRIMARY KEY, name VARCHAR(20), qty INT)")
        cur.execute(f"INSERT INTO shop.{TABLE} VALUES (1, 'one', 1), (2, 'two', 2)")
    return server


def execute(server, *statements: str) -> None:
    with server.admin_connection() as conn, conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def rows(server) -> list[dict]:
    with server.admin_connection() as conn:
        return source_rows(conn, TABLE)


def test_purged_binlog_asks_for_a_reload_and_reload_restarts_cdc(box, tmp_path):
    make_owner(tmp_path, box, TABLE)
    first = cli(tmp_path, "load", "acme", "--delta")  # full load; CDC starts at the position before it
    assert first.returncode == 0, first.stderr
    execute(box, f"INSERT INTO shop.{TABLE} VALUES (3, 'lost', 3)", "FLUSH BINARY LOGS")
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        newest = cur.fetchone()[0]

        def purged() -> bool:  # MariaDB skips a file until its binlog checkpoint is written
            cur.execute(f"PURGE BINARY LOGS TO '{newest}'")
            cur.execute("SHOW BINARY LOGS")
            return [r[0] for r in cur.fetchall()] == [newest]

        wait_for(purged, "the old binlogs to be purged", timeout=30)
    for command in (("load", "acme", "--delta"), ("stream", "acme")):
        failed = cli(tmp_path, *command)
        assert failed.returncode == 1, failed.stderr
        assert "purged" in failed.stderr and "derson-lake load acme --reload" in failed.stderr
        assert "Traceback" not in failed.stderr
    row = task(tmp_path)
    assert (row["status"], row["stop_reason"]) == (status.FAILED, status.STOP_FATAL_ERROR)
    reloaded = cli(tmp_path, "load", "acme", "--reload")
    assert reloaded.returncode == 0, reloaded.stderr
    execute(box, f"UPDATE shop.{TABLE} SET qty = 30 WHERE id = 3")
    after = cli(tmp_path, "load", "acme", "--delta")
    assert after.returncode == 0, after.stderr
    assert "delta 1 change(s)" in after.stdout
    assert lake_state(tmp_path, TABLE) == rows(box)


def test_source_restart_mid_stream_reconnects_and_loses_nothing_then_fails_when_retries_run_out(
    box, tmp_path
):
    settings = {
        "ErrorBehavior": {
            "RecoverableErrorCount": 4,
            "RecoverableErrorInterval": 1,
            "RecoverableErrorThrottling": True,
            "RecoverableErrorThrottlingMax": 4,
            "RecoverableErrorStopRetryAfterThrottlingMax": False,
        }
    }
    make_owner(tmp_path, box, TABLE, settings=settings)
    proc = start_stream(tmp_path, "--status-every", "0")
    try:
        wait_for(lambda: lake_state(tmp_path, TABLE) == rows(box), "the full load", proc=proc)
        wait_for(lambda: task(tmp_path)["status"] == status.RUNNING, "running", proc=proc)
        execute(
            box,
            f"INSERT INTO shop.{TABLE} VALUES (3, 'three', 3)",
            f"UPDATE shop.{TABLE} SET qty = 10 WHERE id = 1",
        )
        wait_for(lambda: lake_state(tmp_path, TABLE) == rows(box), "changes before the restart", proc=proc)
        box.stop()
        box.start()
        execute(
            box,
            f"INSERT INTO shop.{TABLE} VALUES (4, 'four', 4)",
            f"DELETE FROM shop.{TABLE} WHERE id = 2",
            f"UPDATE shop.{TABLE} SET name = 'THREE' WHERE id = 3",
        )
        wait_for(lambda: lake_state(tmp_path, TABLE) == rows(box), "changes after the restart", proc=proc)
        assert "restart 1" in (task(tmp_path)["last_failure"] or "")
        ops = [(r["Op"], r["id"]) for r in cdc_rows(tmp_path, TABLE)]
        assert ops == [("I", 3), ("U", 1), ("I", 4), ("D", 2), ("U", 3)]  # nothing lost, nothing twice
        box.stop()  # gone for good: 4 restarts 1, 2, 4, 4 s apart, then the task fails
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    assert "4 restart(s) did not bring it back" in err and "Traceback" not in err
    row = task(tmp_path)
    assert (row["status"], row["stop_reason"]) == (status.FAILED, status.STOP_RECOVERABLE_ERROR)
    assert "RecoverableErrorCount 4" in row["last_failure"]
