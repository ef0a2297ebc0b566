"""The data of each dashboard page, as plain dicts: the HTML templates render them and the JSON
endpoints return them, so a page and its ``/api/...`` twin never disagree.

Reads only: the state engine's store (executions, history, definitions), the replication store
(instances, tasks, table statistics) and the owners' lakes. Nothing here changes state.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from dersonlake.api.dashboard.graph import layout
from dersonlake.api.dashboard.state_runs import NOT_REACHED, state_runs, taken_transitions
from dersonlake.replication import ReplicationStore, cdc_metrics
from dersonlake.replication.status import describe_task, table_statistics
from dersonlake.states import (
    Engine,
    execution_counts,
    execution_input,
    parent_execution,
    recent_executions,
)

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _epoch(value: datetime | float | None) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else value


def machine_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def owner_of(input_text: str | None) -> str | None:
    """The ``owner`` field of an execution's input (the seed's flow passes it down to every child)."""
    try:
        doc = json.loads(input_text or "")
    except ValueError:
        return None
    owner = doc.get("owner") if isinstance(doc, dict) else None
    return owner if isinstance(owner, str) else None


def duration(start: float | None, stop: float | None) -> float | None:
    if start is None:
        return None
    return (stop if stop is not None else time.time()) - start


# -- executions ------------------------------------------------------------------------------------


def executions(
    engine: Engine, *, status: str = "", machine: str = "", owner: str = "", limit: int = 200
) -> dict[str, Any]:
    """State machines (with run counts by status) and the newest executions, filtered."""
    machines = engine.list_state_machines()["stateMachines"]
    counts = execution_counts(engine)
    sm_arn = next((m["stateMachineArn"] for m in machines if m["name"] == machine), None)
    rows = (
        []
        if machine and sm_arn is None
        else recent_executions(engine, state_machine_arn=sm_arn, status=status or None, limit=limit)
    )
    owners = {r["executionArn"]: owner_of(r["input"]) for r in rows}
    parents = {r["executionArn"]: r["parentExecutionArn"] for r in rows}
    for arn in owners:  # a child without an owner in its input runs for its parent's owner
        seen, up = 0, parents.get(arn)
        while owners[arn] is None and up and seen < 10:
            owners[arn] = owners.get(up) or owner_of(execution_input(engine, up))
            up, seen = parents.get(up), seen + 1
    out = []
    for r in rows:
        start, stop = _epoch(r["startDate"]), _epoch(r["stopDate"])
        item = {
            "executionArn": r["executionArn"],
            "name": r["name"],
            "stateMachine": machine_name(r["stateMachineArn"]),
            "status": r["status"],
            "owner": owners[r["executionArn"]],
            "start": start,
            "stop": stop,
            "seconds": duration(start, stop),
            "error": r["error"],
            "parentExecutionArn": r["parentExecutionArn"],
        }
        if not owner or item["owner"] == owner:
            out.append(item)
    return {
        "filters": {"status": status, "machine": machine, "owner": owner},
        "statuses": list(STATUSES),
        "stateMachines": [
            {"name": m["name"], "arn": m["stateMachineArn"], "counts": counts.get(m["stateMachineArn"], {})}
            for m in machines
        ],
        "owners": sorted({o for o in owners.values() if o}),
        "executions": out,
        "running": any(e["status"] == "RUNNING" for e in out),
    }


def execution(engine: Engine, arn: str) -> dict[str, Any]:
    """One execution: its states as they ran, the graph to draw them on, and the event history.

    Raises ``StatesApiError`` (``ExecutionDoesNotExist`` / ``InvalidArn``) for an unknown ARN."""
    desc = engine.describe_execution(arn)
    definition = json.loads(engine.describe_state_machine_for_execution(arn)["definition"])
    events = engine.get_execution_history(arn)["events"]
    runs = state_runs(events, desc["status"])
    graph = layout(definition)
    start, stop = _epoch(desc["startDate"]), _epoch(desc.get("stopDate"))
    states = {}
    for node in graph.nodes:
        run = runs.get(node.name)
        states[node.name] = run.to_json() if run else {"name": node.name, "status": NOT_REACHED}
        states[node.name]["type"] = node.type
    taken = taken_transitions(events)
    return {
        "execution": {
            "executionArn": arn,
            "name": desc["name"],
            "stateMachine": machine_name(desc["stateMachineArn"]),
            "status": desc["status"],
            "owner": owner_of(desc.get("input")),
            "start": start,
            "stop": stop,
            "seconds": duration(start, stop),
            "input": desc.get("input"),
            "output": desc.get("output"),
            "error": desc.get("error"),
            "cause": desc.get("cause"),
            "parentExecutionArn": parent_execution(engine, arn),
        },
        "states": states,
        "taken": sorted([a, b] for a, b in taken),
        "events": [_event_row(e, runs_start=start) for e in events],
        "running": desc["status"] == "RUNNING",
        "_graph": graph,
    }


def _event_row(event: dict[str, Any], runs_start: float | None) -> dict[str, Any]:
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
    ts = _epoch(event["timestamp"])
    return {
        "id": event["id"],
        "previousEventId": event["previousEventId"],
        "type": event["type"],
        "timestamp": ts,
        "elapsed": (ts - runs_start) if ts is not None and runs_start is not None else None,
        "state": details.get("name") if isinstance(details, dict) else None,
        "details": details,
    }


# -- replication -----------------------------------------------------------------------------------


def replication(store: ReplicationStore) -> dict[str, Any]:
    """Replication instances and tasks (DMS shapes), each task with its per-table statistics."""
    instances = [
        {
            "identifier": r["identifier"],
            "arn": r["arn"],
            "status": r["status"],
            "class": json.loads(r["params"] or "{}").get("ReplicationInstanceClass"),
            "created": r["created"],
        }
        for r in store.instances()
    ]
    tasks = []
    for row in store.tasks():
        tables = store.table_stats(row["arn"])
        task = describe_task(row, tables, with_settings=False)
        stats = task.get("ReplicationTaskStats", {})
        tasks.append(
            {
                "identifier": row["identifier"],
                "arn": row["arn"],
                "owner": row["owner"],
                "migrationType": row["migration_type"],
                "status": row["status"],
                "stopReason": row["stop_reason"],
                "lastFailure": row["last_failure"],
                "progress": stats.get("FullLoadProgressPercent", 0),
                "elapsedSeconds": stats.get("ElapsedTimeMillis", 0) / 1000,
                "tablesLoaded": stats.get("TablesLoaded", 0),
                "tablesLoading": stats.get("TablesLoading", 0),
                "tablesQueued": stats.get("TablesQueued", 0),
                "tablesErrored": stats.get("TablesErrored", 0),
                "tables": [_table_row(t) for t in tables],
                "cdc": cdc_metrics(store, row["arn"]),  # latency and throughput of a streaming task
            }
        )
    active = ("starting", "running", "stopping", "creating", "modifying")
    return {
        "instances": instances,
        "tasks": tasks,
        "running": any(t["status"] in active for t in tasks)
        or any(i["status"] in ("creating", "deleting") for i in instances),
    }


def _table_row(row: Any) -> dict[str, Any]:
    stats = table_statistics(row)
    start, end = row["full_load_start"], row["full_load_end"]
    return {
        "schema": stats["SchemaName"],
        "table": stats["TableName"],
        "state": stats["TableState"],
        "fullLoadRows": stats["FullLoadRows"],
        "estimatedRows": row["estimated_rows"],
        "inserts": stats["Inserts"],
        "updates": stats["Updates"],
        "deletes": stats["Deletes"],
        "ddls": stats["Ddls"],
        "errorRows": stats["FullLoadErrorRows"],
        "fullLoadSeconds": (end - start) if start and end else None,
        "lastUpdate": row["last_update"],
        "sinceLastUpdate": (time.time() - row["last_update"]) if row["last_update"] else None,
        "error": row["error"],
    }


# -- lake ------------------------------------------------------------------------------------------


class RowCounts:
    """Row counts per lake object, remembered by (lake, key, size): files are written once, so a
    count read from a Parquet footer or a CSV stays true while the object is unchanged. ``iceberg``
    remembers the Iceberg tables' counts per snapshot the same way."""

    def __init__(self) -> None:
        from dersonlake.api.dashboard.lake_iceberg import IcebergCounts

        self._known: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()
        self.iceberg = IcebergCounts()

    def count(self, storage: Any, obj: Any, csv_header: bool, delimiter: str) -> int:
        from dersonlake.lake import count_rows

        key = (storage.uri, obj.key, obj.size)
        with self._lock:
            if key in self._known:
                return self._known[key]
        n = count_rows(storage, obj, csv_header=csv_header, delimiter=delimiter)
        with self._lock:
            self._known[key] = n
        return n


def lake(owners_dir: Path | None, counts: RowCounts) -> dict[str, Any]:
    """Per owner: the lake's URI and, per table, files, bytes, rows (LOAD + CDC records), last change;
    for an owner with Iceberg tables also each table's Iceberg rows, the source's rows and the
    snapshot's binlog position (``iceberg``: True). An owner whose config or lake cannot be read is
    listed with the error instead."""
    from dersonlake.api.dashboard.lake_iceberg import iceberg_columns
    from dersonlake.config import list_owners, load_owner
    from dersonlake.errors import BadInput, OperationFailed
    from dersonlake.lake import list_tables
    from dersonlake.replication import prepare
    from dersonlake.sandbox import sandbox_params

    try:
        names = list_owners(owners_dir)
    except (BadInput, OperationFailed, OSError) as exc:
        return {"owners": [], "error": str(exc)}
    out = []
    for name in names:
        entry: dict[str, Any] = {
            "owner": name,
            "uri": None,
            "tables": [],
            "error": None,
            "iceberg": False,
            "icebergError": None,
        }
        try:
            run = prepare(load_owner(name, owners_dir), sandbox_params)
            target = run.owner.target
            entry["uri"] = target.uri if target.is_s3 else str(target.folder)
            storage = run.storage()
            ice: dict[str, dict[str, Any]] = {}
            if run.iceberg_catalog() is not None:
                entry["iceberg"] = True
                ice, entry["icebergError"] = iceberg_columns(run, counts.iceberg)
            for t in list_tables(storage):
                files = t.files
                rows = sum(counts.count(storage, f, run.s3.AddColumnName, run.s3.CsvDelimiter) for f in files)
                stamps = [f.modified for f in files if f.modified is not None]
                entry["tables"].append(
                    {
                        "table": f"{t.schema}.{t.table}",
                        "loadFiles": len(t.load_files),
                        "cdcFiles": len(t.cdc_files),
                        "files": len(files),
                        "bytes": t.bytes,
                        "rows": rows,
                        "lastChange": max(stamps) if stamps else None,
                        "lastFile": t.last_file,
                        **ice.get(
                            f"{t.schema}.{t.table}",
                            {"icebergRows": None, "sourceRows": None, "position": None},
                        ),
                    }
                )
        except (BadInput, OperationFailed, OSError) as exc:
            entry["error"] = str(exc)
        entry["totals"] = {k: sum(t[k] for t in entry["tables"]) for k in ("files", "bytes", "rows")}
        out.append(entry)
    return {"owners": out, "error": None}


def schedules(engine: Engine) -> list[dict[str, Any]]:
    """Each scheduled owner: schedule, next due time, last run and alarms (the scheduler's store
    beside the state store, read-only; empty when no scheduler ran)."""
    from dersonlake.scheduler import FILE_NAME, read_overview

    if engine.store.path == ":memory:":
        return []
    out = []
    for o in read_overview(Path(engine.store.path).parent / FILE_NAME):
        s = o.state
        out.append(
            {
                "owner": s.owner,
                "expression": s.expression,
                "timezone": s.timezone,
                "enabled": s.enabled,
                "nextDue": s.next_due if s.enabled else None,
                "lastStatus": s.last_status,
                "lastExecutionArn": s.last_execution_arn,
                "lastSuccess": s.last_success,
                "lastEvent": o.last_event.action if o.last_event else None,
                "alarms": [a.name for a in o.alarms if a.state == "ALARM"],
            }
        )
    return out
