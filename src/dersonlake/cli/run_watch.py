"""Progress of a ``derson-lake run``, read the way a user would read it on AWS: the pipelines'
execution histories (states entered) and DMS's describe APIs (task status, tables, rows).

Polling only the public APIs keeps ``run`` honest: what it shows is what ``aws stepfunctions`` and
``aws dms`` show, whether the endpoint is in this process or a ``derson-lake serve``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

SKIPPED_STATES = ("WaitStateEntered", "ChoiceStateEntered", "PassStateEntered")


@dataclass
class Watcher:
    sfn: Any
    dms: Any
    task_id: str
    instance_id: str
    machines: list[str]  # state machine ARNs whose executions belong to this run
    since: datetime
    echo: Callable[[str], None]
    seen_events: dict[str, int] = field(default_factory=dict)
    task_status: str | None = None
    instance_status: str | None = None
    tables: dict[str, tuple[str, int]] = field(default_factory=dict)  # "schema.table" -> (state, rows)
    final: dict[str, Any] = field(default_factory=dict)  # the last task status the pipeline read
    changed: dict[str, str] = field(default_factory=dict)  # "schema.table" -> its CDC counts shown

    def poll(self) -> None:
        self._states()
        self._instance()
        self._task()

    def _instance(self) -> None:
        flt = [{"Name": "replication-instance-id", "Values": [self.instance_id]}]
        try:
            found = self.dms.describe_replication_instances(Filters=flt)["ReplicationInstances"]
            now = found[0]["ReplicationInstanceStatus"]
        except ClientError:
            now = "gone" if self.instance_status else None
        if now and now != self.instance_status:
            self.instance_status = now
            self.echo(f"instance {self.instance_id}: {now}")

    def _states(self) -> None:
        for machine in self.machines:
            try:
                runs = self.sfn.list_executions(stateMachineArn=machine)["executions"]
            except ClientError:
                continue
            for run in runs:
                if run["startDate"] < self.since:
                    continue
                arn = run["executionArn"]
                events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
                for event in events:
                    if event["id"] <= self.seen_events.get(arn, 0):
                        continue
                    self.seen_events[arn] = event["id"]
                    kind = event["type"]
                    if kind in ("TaskSucceeded", "LambdaFunctionSucceeded"):
                        self._result(event)
                    if kind.endswith("StateEntered") and kind not in SKIPPED_STATES:
                        name = event["stateEnteredEventDetails"]["name"]
                        self.echo(f"[{machine.rsplit(':', 1)[-1]}] {name}")

    def _task(self) -> None:
        flt = [{"Name": "replication-task-id", "Values": [self.task_id]}]
        try:
            found = self.dms.describe_replication_tasks(Filters=flt, WithoutSettings=True)
            (task,) = found["ReplicationTasks"]
            stats = self.dms.describe_table_statistics(ReplicationTaskArn=task["ReplicationTaskArn"])
        except ClientError:
            return  # not created yet, or already deleted
        shown = task["Status"] + (f" ({task['StopReason']})" if task.get("StopReason") else "")
        if shown != self.task_status:
            self.task_status = shown
            self.echo(f"task {self.task_id}: {shown}")
            if task.get("LastFailureMessage"):
                self.echo(f"task {self.task_id}: {task['LastFailureMessage']}")
        cdc_only = task.get("MigrationType") == "cdc"
        for t in stats["TableStatistics"]:
            name = f"{t['SchemaName']}.{t['TableName']}"
            now = (t["TableState"], t["FullLoadRows"])
            if self.tables.get(name) != now:
                self.tables[name] = now
                if now[0] in ("Table completed", "Table error") and not cdc_only:
                    self.echo(f"  {name}: {now[0]}, {now[1]:,} rows")
            if task["Status"] in ("stopped", "failed") and (t["Inserts"] or t["Updates"] or t["Deletes"]):
                changes = f"{t['Inserts']:,} inserts, {t['Updates']:,} updates, {t['Deletes']:,} deletes"
                if self.changed.get(name) != changes:
                    self.changed[name] = changes
                    self.echo(f"  {name}: {changes}")

    def _result(self, event: dict[str, Any]) -> None:
        """Keep the DMS-intake result that carries the run's totals (check_replication_task_status)."""
        details = event.get("taskSucceededEventDetails") or event.get("lambdaFunctionSucceededEventDetails")
        try:
            output = json.loads((details or {}).get("output") or "{}")
        except ValueError:
            return
        payload = output.get("Payload", output) if isinstance(output, dict) else None
        if isinstance(payload, dict) and "FullLoadRows" in payload:
            self.final = payload

    @property
    def tables_loaded(self) -> int:
        seen = sum(1 for state, _rows in self.tables.values() if state == "Table completed")
        return max(seen, self.final.get("ReplicationTaskStats", {}).get("TablesLoaded", 0))

    @property
    def rows(self) -> int:
        return self.final.get("FullLoadRows", sum(rows for _state, rows in self.tables.values()))

    @property
    def changes(self) -> int:
        """CDC changes the task captured (inserts, updates and deletes), as the task reported them."""
        return sum(self.final.get(k, 0) for k in ("Inserts", "Updates", "Deletes"))
