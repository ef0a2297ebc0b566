"""Schema versions of the smaller SQLite files (alerts, schedule) and the
migration runner they share (``sqlite_schema``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dersonlake.notify.alert import Alert
from dersonlake.notify.history import AlertLog, recent_alerts
from dersonlake.scheduler.store import ScheduleStore, read_overview
from dersonlake.sqlite_schema import Migration, StoreTooNew, add_column, migrate, script


def file_version(path: Path) -> int:
    """A SQLite file's ``PRAGMA user_version``, read apart from its owner (the store tests use it)."""
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def _set_version(path: Path, version: int) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version}")
    db.close()


def _open_alerts(path: Path) -> None:
    AlertLog(path).close()


def _open_schedule(path: Path) -> None:
    ScheduleStore(path).close()


OWNERS = {
    "alerts": (_open_alerts, lambda p: recent_alerts(p, None, 10)),
    "schedule": (_open_schedule, read_overview),
}


@pytest.mark.parametrize("kind", OWNERS)
def test_a_new_file_gets_version_1(tmp_path, kind):
    path = tmp_path / "f.sqlite"
    OWNERS[kind][0](path)
    assert file_version(path) == 1
    OWNERS[kind][0](path)
    assert file_version(path) == 1


@pytest.mark.parametrize("kind", OWNERS)
def test_a_file_from_a_newer_derson_lake_is_refused(tmp_path, kind):
    path = tmp_path / "f.sqlite"
    writer, reader = OWNERS[kind]
    writer(path)
    _set_version(path, 2)
    for open_it in (writer, reader) if reader else (writer,):
        with pytest.raises(StoreTooNew, match="upgrade derson-lake") as caught:
            open_it(path)
        assert str(path) in str(caught.value) and "version 2" in str(caught.value)
    assert file_version(path) == 2


def test_an_unversioned_alert_log_keeps_its_alerts(tmp_path):
    path = tmp_path / "alerts.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE alerts (key TEXT PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, owner TEXT,"
        " subject TEXT NOT NULL, payload TEXT NOT NULL, result TEXT);"
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO alerts VALUES ('k1', 5.0, 'run_failed', 'shop', 'shop failed', '{}', NULL);"
        "INSERT INTO meta VALUES ('since', '1.0');"
    )
    db.close()
    log = AlertLog(path)
    try:
        assert file_version(path) == 1
        assert log.since == 1.0
        alert = Alert("run_failed", "shop", "again", "failed", "", {}, key="k1", time=6.0)
        assert not log.claim(alert)  # sent before the upgrade: not again
    finally:
        log.close()
    assert [a.subject for a in recent_alerts(path, "shop", 10)] == ["shop failed"]


def test_unversioned_files_with_any_subset_of_the_layout_end_alike(tmp_path):
    """Steps are idempotent: a file that already has what a step adds still gets the version."""
    migrations = [
        Migration(1, "t", script("CREATE TABLE IF NOT EXISTS t (a)")),
        Migration(2, "t.b", add_column("t", "b", "INTEGER NOT NULL DEFAULT 7")),
    ]
    for pre in ("", "CREATE TABLE t (a)", "CREATE TABLE t (a, b INTEGER NOT NULL DEFAULT 7)"):
        path = tmp_path / f"f{len(pre)}.sqlite"
        conn = sqlite3.connect(path, isolation_level=None)
        if pre:
            conn.execute(pre)
            conn.execute("INSERT INTO t (a) VALUES (1)")
        assert migrate(conn, path, "test store", migrations) == 2
        assert [c[1] for c in conn.execute("PRAGMA table_info(t)")] == ["a", "b"]
        assert conn.execute("SELECT a, b FROM t").fetchall() == ([(1, 7)] if pre else [])
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        conn.close()


def test_a_failed_step_leaves_the_file_at_the_last_good_version(tmp_path):
    path = tmp_path / "f.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half (a)")
        raise RuntimeError("step failed")

    migrations = [Migration(1, "t", script("CREATE TABLE t (a)")), Migration(2, "broken", broken)]
    with pytest.raises(RuntimeError):
        migrate(conn, path, "test store", migrations)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    conn.close()
