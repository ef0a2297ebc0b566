"""replication.sqlite's schema version: a new file, a file of the layout released before versions
were kept (user_version 0, tables created lazily by several modules), and one from a newer
derson-lake."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dersonlake.replication import ReplicationStore
from dersonlake.replication.store import read_snapshot
from dersonlake.replication.store_schema import SCHEMA_VERSION
from dersonlake.sqlite_schema import StoreTooNew
from tests.test_sqlite_schema import file_version

# The layout as the code before versions created it: the store's tables (table_stats without
# prep_pending, tasks without the CDC latencies: the oldest files) and the tables the CDC, handoff
# and API modules created where they were used; written by hand so the test does not depend on
# the migrations it checks.
OLD_CORE = """
CREATE TABLE tasks (
    arn TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE, owner TEXT, migration_type TEXT NOT NULL,
    status TEXT NOT NULL, stop_reason TEXT, last_failure TEXT, table_mappings TEXT NOT NULL,
    settings TEXT NOT NULL, source_endpoint_arn TEXT, target_endpoint_arn TEXT, instance_arn TEXT,
    cdc_start_position TEXT, cdc_start_time REAL, cdc_stop_position TEXT, recovery_checkpoint TEXT,
    created REAL NOT NULL, start_date REAL, fresh_start_date REAL, stop_date REAL,
    full_load_start REAL, full_load_finish REAL, pid INTEGER, extra TEXT NOT NULL DEFAULT '{}');
CREATE TABLE table_stats (
    task_arn TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL, state TEXT NOT NULL,
    load_order INTEGER NOT NULL DEFAULT 0, full_load_rows INTEGER NOT NULL DEFAULT 0,
    estimated_rows INTEGER NOT NULL DEFAULT 0, inserts INTEGER NOT NULL DEFAULT 0,
    updates INTEGER NOT NULL DEFAULT 0, deletes INTEGER NOT NULL DEFAULT 0,
    ddls INTEGER NOT NULL DEFAULT 0, applied_inserts INTEGER NOT NULL DEFAULT 0,
    applied_updates INTEGER NOT NULL DEFAULT 0, applied_deletes INTEGER NOT NULL DEFAULT 0,
    applied_ddls INTEGER NOT NULL DEFAULT 0, truncated_lobs INTEGER NOT NULL DEFAULT 0,
    error_rows INTEGER NOT NULL DEFAULT 0, full_load_start REAL, full_load_end REAL,
    reloaded INTEGER NOT NULL DEFAULT 0, last_update REAL, error TEXT,
    PRIMARY KEY (task_arn, schema_name, table_name));
CREATE TABLE load_segments (
    task_arn TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL, segment TEXT NOT NULL,
    rows INTEGER NOT NULL, files TEXT NOT NULL, finished REAL NOT NULL,
    PRIMARY KEY (task_arn, schema_name, table_name, segment));
CREATE TABLE load_files (
    task_arn TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL, segment TEXT NOT NULL,
    key TEXT NOT NULL, PRIMARY KEY (task_arn, key));
CREATE TABLE endpoints (
    arn TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE, endpoint_type TEXT NOT NULL,
    engine_name TEXT NOT NULL, params TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE instances (
    arn TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE, status TEXT NOT NULL, params TEXT NOT NULL,
    created REAL NOT NULL);
"""
OLD_LAZY = """
CREATE TABLE cdc_files (task_arn TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (task_arn, key));
CREATE TABLE resource_tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (arn, key));
"""
ARN = "arn:aws:dms:eu-west-1:000000000000:task:OLD"
TABLES = {
    "tasks", "table_stats", "load_segments", "load_files", "endpoints", "instances", "cdc_metrics",
    "cdc_files", "handoff_marks", "handoff_tables", "connections", "subnet_groups", "resource_tags",
}  # fmt: skip


def _old_file(path: Path, *, lazy: bool) -> None:
    db = sqlite3.connect(path)
    db.executescript(OLD_CORE + (OLD_LAZY if lazy else ""))
    db.execute(
        "INSERT INTO tasks (arn, identifier, owner, migration_type, status, table_mappings, settings, created)"
        " VALUES (?, 'old-task', 'shop', 'full-load', 'stopped', '{}', '{}', 1.0)",
        (ARN,),
    )
    db.execute(
        "INSERT INTO table_stats (task_arn, schema_name, table_name, state, full_load_rows)"
        " VALUES (?, 'shop', 'orders', 'Table completed', 42)",
        (ARN,),
    )
    if lazy:
        db.execute("INSERT INTO cdc_files VALUES (?, 'cdc/part-1.parquet')", (ARN,))
        db.execute("INSERT INTO resource_tags VALUES (?, 'team', 'data')", (ARN,))
    db.commit()
    db.close()


def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def test_a_new_file_gets_the_current_version_and_every_table(tmp_path):
    path = tmp_path / "replication.sqlite"
    ReplicationStore(path).close()
    assert file_version(path) == SCHEMA_VERSION
    assert _tables(path) == TABLES
    ReplicationStore(path).close()  # opening it again changes nothing
    assert file_version(path) == SCHEMA_VERSION


@pytest.mark.parametrize("lazy", [False, True], ids=["oldest-layout", "last-unversioned-layout"])
def test_an_unversioned_file_is_migrated_and_keeps_its_rows(tmp_path, lazy):
    path = tmp_path / "replication.sqlite"
    _old_file(path, lazy=lazy)
    assert file_version(path) == 0
    # a reader before any writer migrated it: the old columns, no latency
    (before,) = read_snapshot(path).tasks
    assert before["identifier"] == "old-task" and "cdc_latency_source" not in before.keys()  # noqa: SIM118

    store = ReplicationStore(path)
    try:
        assert file_version(path) == SCHEMA_VERSION
        assert _tables(path) == TABLES
        row = store.task(ARN)
        assert row["identifier"] == "old-task" and row["cdc_latency_source"] is None
        (stats,) = store.table_stats(ARN)
        assert stats["full_load_rows"] == 42 and stats["prep_pending"] == 0
        assert store.cdc_files(ARN) == (["cdc/part-1.parquet"] if lazy else [])
        assert store.tags(ARN) == ({"team": "data"} if lazy else {})
        # the migrated file works like a new one
        store.save_cdc_metrics(
            ARN, latency_source=3.0, latency_target=1.0, rows_source=0, rows_target=0, incoming=0, updated=2.0
        )
        assert store.task(ARN)["cdc_latency_source"] == 3.0
    finally:
        store.close()
    snapshot = read_snapshot(path)
    assert [t["arn"] for t in snapshot.tasks] == [ARN] and "cdc_latency_target" in snapshot.task_columns


def test_a_file_from_a_newer_derson_lake_is_refused(tmp_path):
    path = tmp_path / "replication.sqlite"
    ReplicationStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    for open_it in (ReplicationStore, read_snapshot):
        with pytest.raises(StoreTooNew) as caught:
            open_it(path)
        message = str(caught.value)
        assert str(path) in message
        assert f"version {SCHEMA_VERSION + 1}" in message and "newer derson-lake" in message
        assert "upgrade derson-lake" in message
    assert file_version(path) == SCHEMA_VERSION + 1  # left as it was
