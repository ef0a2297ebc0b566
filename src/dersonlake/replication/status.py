"""Task statuses, stop reasons and table states exactly as DMS names them (dms.md §5.3, §5.4),
and the DMS-shaped views of a task (``describe_task``) and its tables (``table_statistics``).

The views are computed from the store's rows on demand: ``ReplicationTaskStats`` is derived from
the per-table rows, so there is one source of truth and nothing to keep in sync.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

# Task status values (API_ReplicationTask).
CREATING, READY, STARTING, RUNNING, STOPPING, STOPPED, FAILED, DELETING, MODIFYING = (
    "creating",
    "ready",
    "starting",
    "running",
    "stopping",
    "stopped",
    "failed",
    "deleting",
    "modifying",
)

TASK_STATUSES = (CREATING, READY, STARTING, RUNNING, STOPPING, STOPPED, FAILED, DELETING, MODIFYING)

# Stop reasons, prefixed literally as DMS returns them.
STOP_NORMAL = "Stop Reason NORMAL"
STOP_FULL_LOAD_ONLY_FINISHED = "Stop Reason FULL_LOAD_ONLY_FINISHED"
STOP_AFTER_FULL_LOAD = "Stop Reason STOPPED_AFTER_FULL_LOAD"
STOP_AFTER_CACHED_EVENTS = "Stop Reason STOPPED_AFTER_CACHED_EVENTS"
STOP_AT_SERVER_TIME = "Stop Reason STOPPED_AT_SERVER_TIME"
STOP_AT_COMMIT_TIME = "Stop Reason STOPPED_AT_COMMIT_TIME"
STOP_RECOVERABLE_ERROR = "Stop Reason RECOVERABLE_ERROR"
STOP_FATAL_ERROR = "Stop Reason FATAL_ERROR"

# Table states (TableStatistics.TableState).
TABLE_BEFORE_LOAD = "Before load"
TABLE_FULL_LOAD = "Full load"
TABLE_COMPLETED = "Table completed"
TABLE_CANCELLED = "Table cancelled"
TABLE_ERROR = "Table error"
TABLE_RELOADING = "Table is being reloaded"
TABLE_DOES_NOT_EXIST = "Table does not exist"

START_REPLICATION = "start-replication"
RESUME_PROCESSING = "resume-processing"
RELOAD_TARGET = "reload-target"
START_TYPES = (START_REPLICATION, RESUME_PROCESSING, RELOAD_TARGET)


def describe_task(
    task: sqlite3.Row, tables: list[sqlite3.Row], *, with_settings: bool = True
) -> dict[str, Any]:
    """The task as ``DescribeReplicationTasks`` returns it (datetimes as epoch seconds)."""
    out: dict[str, Any] = {
        "ReplicationTaskIdentifier": task["identifier"],
        "SourceEndpointArn": task["source_endpoint_arn"],
        "TargetEndpointArn": task["target_endpoint_arn"],
        "ReplicationInstanceArn": task["instance_arn"],
        "MigrationType": task["migration_type"],
        "Status": task["status"],
        "ReplicationTaskCreationDate": task["created"],
        "ReplicationTaskArn": task["arn"],
        "ReplicationTaskStats": task_stats(task, tables),
    }
    if with_settings:
        out["TableMappings"] = task["table_mappings"]
        out["ReplicationTaskSettings"] = task["settings"]
    optional = {
        "StopReason": task["stop_reason"],
        "LastFailureMessage": task["last_failure"],
        "ReplicationTaskStartDate": task["start_date"],
        "CdcStartPosition": task["cdc_start_position"],
        "CdcStopPosition": task["cdc_stop_position"],
        "RecoveryCheckpoint": task["recovery_checkpoint"],
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    extra = json.loads(task["extra"] or "{}")
    if extra.get("TaskData"):
        out["TaskData"] = extra["TaskData"]
    return {k: v for k, v in out.items() if v is not None}


def task_stats(task: sqlite3.Row, tables: list[sqlite3.Row]) -> dict[str, Any]:
    """``ReplicationTaskStats``: progress and table counts from the per-table rows."""
    states = [t["state"] for t in tables]
    loaded = sum(s == TABLE_COMPLETED for s in states)
    errored = sum(s == TABLE_ERROR for s in states)
    total = len(tables)
    if total == 0:
        percent = 100 if task["full_load_finish"] else 0
    else:
        done = loaded + errored
        partial = sum(
            min(t["full_load_rows"] / t["estimated_rows"], 0.99)
            for t in tables
            if t["state"] == TABLE_FULL_LOAD and t["estimated_rows"]
        )
        percent = int(100 * (done + partial) / total)
    start = task["start_date"]
    end = task["stop_date"] if task["status"] in (STOPPED, FAILED) else None
    stats: dict[str, Any] = {
        "FullLoadProgressPercent": percent,
        "ElapsedTimeMillis": int(((end or time.time()) - start) * 1000) if start else 0,
        "TablesLoaded": loaded,
        "TablesLoading": sum(s in (TABLE_FULL_LOAD, TABLE_RELOADING) for s in states),
        "TablesQueued": sum(s == TABLE_BEFORE_LOAD for s in states),
        "TablesErrored": errored,
    }
    dates = {
        "FreshStartDate": task["fresh_start_date"],
        "StartDate": start,
        "StopDate": task["stop_date"],
        "FullLoadStartDate": task["full_load_start"],
        "FullLoadFinishDate": task["full_load_finish"],
    }
    stats.update({k: v for k, v in dates.items() if v is not None})
    return stats


def table_statistics(row: sqlite3.Row) -> dict[str, Any]:
    """One ``TableStatistics`` entry of ``DescribeTableStatistics``."""
    out = {
        "SchemaName": row["schema_name"],
        "TableName": row["table_name"],
        "Inserts": row["inserts"],
        "Deletes": row["deletes"],
        "Updates": row["updates"],
        "Ddls": row["ddls"],
        "AppliedInserts": row["applied_inserts"],
        "AppliedDeletes": row["applied_deletes"],
        "AppliedUpdates": row["applied_updates"],
        "AppliedDdls": row["applied_ddls"],
        "FullLoadRows": row["full_load_rows"],
        "FullLoadCondtnlChkFailedRows": 0,
        "FullLoadErrorRows": row["error_rows"],
        "FullLoadStartTime": row["full_load_start"],
        "FullLoadEndTime": row["full_load_end"],
        "FullLoadReloaded": bool(row["reloaded"]),
        "LastUpdateTime": row["last_update"],
        "TableState": row["state"],
        "ValidationPendingRecords": 0,
        "ValidationFailedRecords": 0,
        "ValidationSuspendedRecords": 0,
        "ValidationState": "Not enabled",
    }
    return {k: v for k, v in out.items() if v is not None}
