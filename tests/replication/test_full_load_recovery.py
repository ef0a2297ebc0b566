"""A lost source connection is retried with DMS's RecoverableError* backoff, then fails clearly.

The fault is real: a private sandbox is stopped right after the catalog is read (the test wraps
the task's discovery step to do it), so every read of the full load finds the server gone.
"""

from __future__ import annotations

import threading

from dersonlake.replication import status


def test_lost_connection_is_retried_then_the_task_fails_with_a_clear_message(
    load_owner_once, sandbox_factory, tmp_path
):
    box = sandbox_factory("lost")
    from dersonlake.sandbox.seed import seed

    with box.admin_connection() as conn:
        seed(conn, rows=100)
    settings = {
        "ErrorBehavior": {
            "RecoverableErrorCount": 2,
            "RecoverableErrorInterval": 1,
            "RecoverableErrorThrottling": False,
        }
    }
    from tests.replication.conftest import write_owner

    write_owner(tmp_path, box, settings=settings)
    from dersonlake.config import load_owner
    from dersonlake.replication.prepared_owner import prepare

    run = prepare(load_owner("acme", tmp_path / "owners"))

    def discover_then_lose_the_server():
        catalog = run.catalog()
        box.stop()
        return catalog

    loaded = load_owner_once(discover=discover_then_lose_the_server)
    task = loaded.task()
    assert task["status"] == status.FAILED
    assert f"127.0.0.1:{box.port}" in task["last_failure"]
    assert "gave up after 2 retries" in task["last_failure"]
    assert list(loaded.storage.list("")) == []


def test_source_back_within_the_retries_completes_the_load(
    load_owner_once, sandbox_factory, tmp_path, seed_report
):
    box = sandbox_factory("flaky")
    from dersonlake.sandbox.seed import seed

    with box.admin_connection() as conn:
        counts = seed(conn, rows=2000).counts
    settings = {"ErrorBehavior": {"RecoverableErrorCount": 10, "RecoverableErrorInterval": 1}}
    from tests.replication.conftest import write_owner

    write_owner(tmp_path, box, settings=settings)
    from dersonlake.config import load_owner
    from dersonlake.replication.prepared_owner import prepare

    run = prepare(load_owner("acme", tmp_path / "owners"))
    restarted = threading.Event()

    def discover_then_restart_the_server():
        catalog = run.catalog()
        box.stop()
        timer = threading.Timer(1.5, lambda: (box.start(), restarted.set()))
        timer.start()
        return catalog

    loaded = load_owner_once(discover=discover_then_restart_the_server)
    assert restarted.wait(30)
    assert loaded.outcome.failure is None and loaded.outcome.tables_errored == 0
    assert loaded.task()["status"] == status.STOPPED
    assert loaded.tables()["shop.orders"]["full_load_rows"] == counts["orders"]
