"""The layout of ``replication.sqlite``: its migrations, in order (``PRAGMA user_version``).

Only ``replication.store`` opens the file and runs these (``sqlite_schema.migrate``); the DDL is
kept here so the store's queries stay readable. Until versions were kept the tables below were
created where they were first used (the CDC, handoff and DMS API modules), so a file with
``user_version`` 0 may have any of them: every step is idempotent and such a file ends in the
layout of a new one, rows kept. A change to the layout is a new step at the end, never an edit of
an old one.
"""

from __future__ import annotations

from dersonlake.sqlite_schema import Migration, add_column, script, steps

FILE_KIND = "replication store"

CORE = """
CREATE TABLE IF NOT EXISTS tasks (
    arn TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    owner TEXT,
    migration_type TEXT NOT NULL,
    status TEXT NOT NULL,
    stop_reason TEXT,
    last_failure TEXT,
    table_mappings TEXT NOT NULL,
    settings TEXT NOT NULL,
    source_endpoint_arn TEXT,
    target_endpoint_arn TEXT,
    instance_arn TEXT,
    cdc_start_position TEXT,
    cdc_start_time REAL,
    cdc_stop_position TEXT,
    recovery_checkpoint TEXT,
    created REAL NOT NULL,
    start_date REAL,
    fresh_start_date REAL,
    stop_date REAL,
    full_load_start REAL,
    full_load_finish REAL,
    pid INTEGER,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS table_stats (
    task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    state TEXT NOT NULL,
    load_order INTEGER NOT NULL DEFAULT 0,
    full_load_rows INTEGER NOT NULL DEFAULT 0,
    estimated_rows INTEGER NOT NULL DEFAULT 0,
    inserts INTEGER NOT NULL DEFAULT 0,
    updates INTEGER NOT NULL DEFAULT 0,
    deletes INTEGER NOT NULL DEFAULT 0,
    ddls INTEGER NOT NULL DEFAULT 0,
    applied_inserts INTEGER NOT NULL DEFAULT 0,
    applied_updates INTEGER NOT NULL DEFAULT 0,
    applied_deletes INTEGER NOT NULL DEFAULT 0,
    applied_ddls INTEGER NOT NULL DEFAULT 0,
    truncated_lobs INTEGER NOT NULL DEFAULT 0,
    error_rows INTEGER NOT NULL DEFAULT 0,
    full_load_start REAL,
    full_load_end REAL,
    reloaded INTEGER NOT NULL DEFAULT 0,
    prep_pending INTEGER NOT NULL DEFAULT 0,
    last_update REAL,
    error TEXT,
    PRIMARY KEY (task_arn, schema_name, table_name)
);
CREATE TABLE IF NOT EXISTS load_segments (
    task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    segment TEXT NOT NULL,
    rows INTEGER NOT NULL,
    files TEXT NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (task_arn, schema_name, table_name, segment)
);
CREATE TABLE IF NOT EXISTS load_files (
    task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    segment TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (task_arn, key)
);
CREATE TABLE IF NOT EXISTS endpoints (
    arn TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    endpoint_type TEXT NOT NULL,
    engine_name TEXT NOT NULL,
    params TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
    arn TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    created REAL NOT NULL
);
"""

CDC_METRICS = """
CREATE TABLE IF NOT EXISTS cdc_metrics (task_arn TEXT PRIMARY KEY, latency_source REAL,
    latency_target REAL, throughput_rows_source REAL, throughput_rows_target REAL,
    incoming_changes INTEGER, updated REAL)
"""

CDC_FILES = """
CREATE TABLE IF NOT EXISTS cdc_files (task_arn TEXT NOT NULL, key TEXT NOT NULL,
    PRIMARY KEY (task_arn, key))
"""

HANDOFF = """
CREATE TABLE IF NOT EXISTS handoff_marks (task_arn TEXT NOT NULL, schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL, segment TEXT NOT NULL, chunk INTEGER NOT NULL, after TEXT,
    file TEXT NOT NULL, pos INTEGER NOT NULL,
    PRIMARY KEY (task_arn, schema_name, table_name, segment, chunk));
CREATE TABLE IF NOT EXISTS handoff_tables (task_arn TEXT NOT NULL,
    schema_name TEXT NOT NULL, table_name TEXT NOT NULL, definition TEXT NOT NULL,
    defined REAL NOT NULL, PRIMARY KEY (task_arn, schema_name, table_name))
"""

DMS_API = """
CREATE TABLE IF NOT EXISTS connections (
    instance_arn TEXT NOT NULL,
    endpoint_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    tested REAL NOT NULL,
    PRIMARY KEY (instance_arn, endpoint_arn)
);
CREATE TABLE IF NOT EXISTS subnet_groups (
    identifier TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    subnet_ids TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
)
"""

MIGRATIONS = [
    Migration(1, "tasks, table statistics, load segments and files, endpoints, instances", script(CORE)),
    Migration(
        2,
        "table_stats.prep_pending (a table's target prep still to do)",
        add_column("table_stats", "prep_pending", "INTEGER NOT NULL DEFAULT 0"),
    ),
    Migration(
        3,
        "CDC metrics: the table, and the latencies on tasks for monitoring",
        steps(
            add_column("tasks", "cdc_latency_source", "REAL"),
            add_column("tasks", "cdc_latency_target", "REAL"),
            script(CDC_METRICS),
        ),
    ),
    Migration(4, "cdc_files (lake files written before their checkpoint)", script(CDC_FILES)),
    Migration(5, "handoff marks and definitions (full load -> CDC)", script(HANDOFF)),
    Migration(6, "the DMS API's connections, subnet groups and resource tags", script(DMS_API)),
]
SCHEMA_VERSION = len(MIGRATIONS)
