"""The Step Functions store's schema version: a new file, a file of the layout released before
versions were kept (user_version 0), and one from a newer derson-lake."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dersonlake.sqlite_schema import StoreTooNew
from dersonlake.states import Engine
from dersonlake.states.stats import read_executions
from dersonlake.states.store import ReadOnlyStore, Store
from dersonlake.states.store_schema import SCHEMA_VERSION
from tests.test_sqlite_schema import file_version

# The engine's tables as the code before versions created them, and the local API's settings
# table as its first start created it; written by hand so the test does not depend on the
# migrations it checks.
OLD_ENGINE = """
CREATE TABLE state_machines(
  arn TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, definition TEXT NOT NULL, role_arn TEXT,
  type TEXT NOT NULL, created REAL NOT NULL, updated REAL);
CREATE TABLE executions(
  arn TEXT PRIMARY KEY, sm_arn TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,
  status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
  start REAL NOT NULL, stop REAL, redrive_count INTEGER NOT NULL DEFAULT 0, redrive_date REAL,
  parent_task INTEGER, next_event INTEGER NOT NULL DEFAULT 1, root_frame INTEGER, role_arn TEXT);
CREATE TABLE frames(
  id INTEGER PRIMARY KEY, exec_arn TEXT NOT NULL, parent_id INTEGER, gen INTEGER NOT NULL DEFAULT 0,
  idx INTEGER NOT NULL DEFAULT 0, scope TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL,
  state TEXT NOT NULL, input TEXT NOT NULL, data TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
  runnable INTEGER NOT NULL DEFAULT 0, vars TEXT NOT NULL DEFAULT '{}');
CREATE TABLE timers(
  id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, exec_arn TEXT NOT NULL, due REAL NOT NULL,
  kind TEXT NOT NULL, ref INTEGER);
CREATE TABLE tasks(
  id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, exec_arn TEXT NOT NULL, key TEXT NOT NULL,
  resource TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL,
  token TEXT UNIQUE, child_exec TEXT, created REAL NOT NULL, deadline REAL, claimed_by INTEGER);
CREATE TABLE history(
  exec_arn TEXT NOT NULL, id INTEGER NOT NULL, prev INTEGER, ts REAL NOT NULL, type TEXT NOT NULL,
  details TEXT, PRIMARY KEY(exec_arn, id));
CREATE TABLE notifications(
  id INTEGER PRIMARY KEY, key TEXT UNIQUE, ts REAL NOT NULL, exec_arn TEXT, target TEXT,
  subject TEXT, message TEXT, attributes TEXT);
"""
OLD_API = """
CREATE TABLE api_state_machine_settings (
    name TEXT PRIMARY KEY, logging TEXT, tracing TEXT, tags TEXT NOT NULL DEFAULT '{}');
"""
SM = "arn:aws:states:eu-west-1:000000000000:stateMachine:old"
EXEC = "arn:aws:states:eu-west-1:000000000000:execution:old:run-1"
DEFINITION = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'


def _old_file(path: Path, *, api: bool) -> None:
    db = sqlite3.connect(path)
    db.executescript(OLD_ENGINE + (OLD_API if api else ""))
    db.execute(
        "INSERT INTO state_machines (arn, name, definition, type, created) VALUES (?, 'old', ?, 'STANDARD', 1.0)",
        (SM, DEFINITION),
    )
    db.execute(
        "INSERT INTO executions (arn, sm_arn, name, definition, status, input, output, start, stop)"
        " VALUES (?, ?, 'run-1', ?, 'SUCCEEDED', '{\"owner\": \"shop\"}', '{}', 1.0, 2.0)",
        (EXEC, SM, DEFINITION),
    )
    if api:
        db.execute(
            "INSERT INTO api_state_machine_settings (name, tags) VALUES ('old', '{\"team\": \"data\"}')"
        )
    db.commit()
    db.close()


def test_a_new_file_gets_the_current_version(tmp_path):
    path = tmp_path / "states.sqlite"
    Store(path).close()
    assert file_version(path) == SCHEMA_VERSION
    store = Store(path)
    try:
        assert store.machine_settings("anything") is None  # the API's table is there from the start
    finally:
        store.close()


@pytest.mark.parametrize("api", [False, True], ids=["engine-only", "with-api-settings"])
def test_an_unversioned_file_is_migrated_and_keeps_its_rows(tmp_path, api):
    path = tmp_path / "states.sqlite"
    _old_file(path, api=api)
    assert file_version(path) == 0
    assert [e.name for e in read_executions(path)] == ["run-1"]  # readable before any migration

    engine = Engine(path)
    try:
        assert file_version(path) == SCHEMA_VERSION
        assert engine.describe_state_machine(SM)["name"] == "old"
        assert engine.describe_execution(EXEC)["status"] == "SUCCEEDED"
        settings = engine.store.machine_settings("old")
        assert (settings["tags"] if settings else None) == ('{"team": "data"}' if api else None)
        # the migrated file runs executions like a new one
        started = engine.start_execution(SM, "{}", "run-2")["executionArn"]
        engine.run_until_idle()
        assert engine.describe_execution(started)["status"] == "SUCCEEDED"
    finally:
        engine.close()
    stats = read_executions(path)
    assert [(e.name, e.owner) for e in stats] == [("run-1", "shop"), ("run-2", "")]


def test_a_file_from_a_newer_derson_lake_is_refused(tmp_path):
    path = tmp_path / "states.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()

    def read_only(p: Path) -> None:
        with ReadOnlyStore.open(p):
            pass

    for open_it in (Store, read_only, read_executions):
        with pytest.raises(StoreTooNew) as caught:
            open_it(path)
        message = str(caught.value)
        assert str(path) in message
        assert f"version {SCHEMA_VERSION + 1}" in message and "newer derson-lake" in message
        assert "upgrade derson-lake" in message
    assert file_version(path) == SCHEMA_VERSION + 1  # left as it was
