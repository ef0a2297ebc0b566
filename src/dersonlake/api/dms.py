"""DMS operations (``AmazonDMSv20160101.<Op>``) for replication tasks, backed by the replication store.

Served as AWS serves them, not as moto fakes them (reference/dms.md §0, §5): TableMappings and
ReplicationTaskSettings are validated (the same parsers ``derson-lake load`` uses) and the settings
are stored merged with DMS's defaults; an empty DescribeReplicationTasks is ``ResourceNotFoundFault``
(so the ``replication_task_deleted`` waiter works); a running task cannot be deleted
(``InvalidResourceStateFault``). Endpoints and instances are in ``dms_resources``; starting and
stopping tasks (real loads in background threads) in ``dms_worker``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from dersonlake.api.dms_connections import Connections
from dersonlake.api.dms_resources import AVAILABLE, Resources
from dersonlake.api.dms_subnet_groups import SubnetGroups
from dersonlake.api.dms_tags import Tags
from dersonlake.api.dms_worker import OWNER_TAG, Worker
from dersonlake.api.protocol import ApiError
from dersonlake.errors import BadInput, DersonError
from dersonlake.mapping import parse_mapping, parse_task_settings
from dersonlake.replication import (
    ReplicationStore,
    check_identifier,
    create_task,
    parse_start,
    parse_stop,
    reconcile,
    source_params,
    status,
    task_arn,
)
from dersonlake.sandbox import sandbox_params

TARGET_PREFIX = "AmazonDMSv20160101"
SERVICE = "dms"

Params = dict[str, Any]
TASK_FILTERS = {
    "replication-task-arn": lambda t: [t["arn"]],
    "replication-task-id": lambda t: [t["identifier"]],
    "migration-type": lambda t: [t["migration_type"]],
    "endpoint-arn": lambda t: [t["source_endpoint_arn"], t["target_endpoint_arn"]],
    "replication-instance-arn": lambda t: [t["instance_arn"]],
}
TABLE_FILTERS = {
    "schema-name": lambda r: r["schema_name"],
    "table-name": lambda r: r["table_name"],
    "table-state": lambda r: r["state"],
}
BUSY = (status.STARTING, status.RUNNING, status.STOPPING)
OPERATIONS = (
    "CreateReplicationTask",
    "DescribeReplicationTasks",
    "DeleteReplicationTask",
    "DescribeTableStatistics",
    "StartReplicationTask",
    "StopReplicationTask",
    "ModifyReplicationTask",
    "ReloadTables",
)
CONNECTION_OPERATIONS = ("TestConnection", "DescribeConnections")
MODIFIABLE = (status.READY, status.STOPPED, status.FAILED)
RELOADABLE = (status.RUNNING, status.STOPPED)
MAX_RELOAD_TABLES = 10
TAG_OPERATIONS = ("AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")
SUBNET_GROUP_OPERATIONS = (
    "CreateReplicationSubnetGroup",
    "ModifyReplicationSubnetGroup",
    "DescribeReplicationSubnetGroups",
    "DeleteReplicationSubnetGroup",
)
# Where a create's answer carries the new resource's ARN, so its Tags are kept (and dropped on delete).
CREATED_ARN = {
    "CreateEndpoint": ("Endpoint", "EndpointArn"),
    "CreateReplicationInstance": ("ReplicationInstance", "ReplicationInstanceArn"),
    "CreateReplicationTask": ("ReplicationTask", "ReplicationTaskArn"),
}
DELETED_ARN = {
    "DeleteEndpoint": "EndpointArn",
    "DeleteReplicationInstance": "ReplicationInstanceArn",
    "DeleteReplicationTask": "ReplicationTaskArn",
}
RESOURCE_OPERATIONS = (
    "CreateEndpoint",
    "DescribeEndpoints",
    "DeleteEndpoint",
    "CreateReplicationInstance",
    "DescribeReplicationInstances",
    "DeleteReplicationInstance",
    "ModifyReplicationInstance",
    "ModifyEndpoint",
)


class DmsApi:
    """The DMS API over one ``ReplicationStore``: tasks here, endpoints and instances in ``Resources``,
    running tasks in ``Worker`` (owners' folders from ``owners_dir``, else ``$DERSON_OWNERS_DIR``)."""

    def __init__(
        self,
        store: ReplicationStore,
        region: str = "us-east-1",
        account: str = "000000000000",
        owners_dir: str | Path | None = None,
    ):
        self.store = store
        self.region = region
        self.account = account
        self.tags = Tags(store, region, account)
        self.groups = SubnetGroups(store, region, account, self.tags)
        self.tags.groups = self.groups
        self.resources = Resources(store, region, account, self.groups)
        self.worker = Worker(store, owners_dir)
        self.connections = Connections(store, self.resources, self.tags, owners_dir)
        self.owners_dir = owners_dir

    def call(self, operation: str, params: Params) -> dict[str, Any]:
        if operation in RESOURCE_OPERATIONS:
            target: Any = self.resources
        elif operation in TAG_OPERATIONS:
            target = self.tags
        elif operation in SUBNET_GROUP_OPERATIONS:
            target = self.groups
        elif operation in CONNECTION_OPERATIONS:
            target = self.connections
        elif operation in OPERATIONS:
            target = self
        else:
            raise ApiError("UnknownOperationException", f"{operation} is not served by derson-lake serve")
        if operation == "CreateEndpoint":
            params = self._sandbox_source(params)
        try:
            result = getattr(target, _snake(operation))(params)
        except BadInput as exc:
            raise ApiError("InvalidParameterValueException", str(exc)) from None
        if operation in CREATED_ARN and params.get("Tags"):
            member, key = CREATED_ARN[operation]
            self.tags.put(result[member][key], params["Tags"])
        if operation in ("CreateEndpoint", "ModifyEndpoint"):
            self.connections.remember_password(result["Endpoint"]["EndpointArn"], params.get("Password"))
        if operation in DELETED_ARN:
            self.tags.drop(params[DELETED_ARN[operation]])
        if operation == "DeleteEndpoint":
            self.connections.forget_endpoint(params["EndpointArn"])
        if operation == "DeleteReplicationInstance":
            self.connections.forget_instance(params["ReplicationInstanceArn"])
        return result

    def _sandbox_source(self, p: Params) -> Params:
        """A source endpoint of an owner that reads the sandbox (``sandbox: true``: DMS-intake knows
        no host, port or user for it) is described with the sandbox's own, as a task on it reads."""
        from dersonlake.config import load_owner

        owner = _owner(p)
        if owner is None or str(p.get("EndpointType", "")).lower() != "source":
            return p
        try:
            source = load_owner(owner, self.owners_dir).source
            if not source.sandbox:
                return p
            params = source_params(source, sandbox_params)
        except DersonError:  # no such owner here, or no sandbox running: described as given
            return p
        return {**p, "ServerName": params.host, "Port": params.port, "Username": params.user}

    # -- operations --------------------------------------------------------------------------------
    def create_replication_task(self, p: Params) -> dict[str, Any]:
        identifier = check_identifier(p["ReplicationTaskIdentifier"])
        if self._by_identifier(identifier) is not None:
            raise ApiError(
                "ResourceAlreadyExistsFault", f"ReplicationTask with identifier {identifier} already exists"
            )
        owner = _owner(p)
        positions = _check_cdc_positions(p)
        mappings = p["TableMappings"]
        parse_mapping(mappings, file="TableMappings")
        settings = parse_task_settings(p.get("ReplicationTaskSettings"), file="ReplicationTaskSettings")
        arn = create_task(
            self.store,
            identifier,
            migration_type=p["MigrationType"],
            table_mappings=mappings,
            settings_json=settings.to_json(),
            source_endpoint_arn=p["SourceEndpointArn"],
            target_endpoint_arn=p["TargetEndpointArn"],
            instance_arn=p["ReplicationInstanceArn"],
            cdc_start_position=p.get("CdcStartPosition"),
            cdc_stop_position=p.get("CdcStopPosition"),
            arn=task_arn(self.region, self.account),
            owner=owner,
        )
        if positions:
            self.store.update_task(arn, **positions)
        if p.get("TaskData"):
            self.store.update_task(arn, extra=json.dumps({"TaskData": p["TaskData"]}))
        return {"ReplicationTask": self._describe(arn)}

    def describe_replication_tasks(self, p: Params) -> dict[str, Any]:
        rows = self.store.tasks()
        for f in p.get("Filters", []):
            pick = TASK_FILTERS.get(f["Name"])
            if pick is None:
                raise ApiError(
                    "InvalidParameterValueException",
                    f"Invalid filter name {f['Name']!r}; allowed: {', '.join(TASK_FILTERS)}",
                )
            wanted = set(f["Values"])
            rows = [r for r in rows if wanted.intersection(pick(r))]
        if not rows:
            raise ApiError("ResourceNotFoundFault", "No Tasks found matching provided filters")
        page, marker = _page(rows, _max_records(p, 100), p.get("Marker"))
        with_settings = not p.get("WithoutSettings", False)
        out: dict[str, Any] = {"ReplicationTasks": [self._describe(r["arn"], with_settings) for r in page]}
        if marker:
            out["Marker"] = marker
        return out

    def delete_replication_task(self, p: Params) -> dict[str, Any]:
        arn = self._arn(p["ReplicationTaskArn"])
        described = self._describe(arn)
        if described["Status"] in BUSY or self.worker.busy(arn):
            raise ApiError(
                "InvalidResourceStateFault",
                f"Replication task is {described['Status']}; stop it before deleting it",
            )
        self.worker.discard_uncovered(arn)
        self.store.delete_task(arn)
        return {"ReplicationTask": {**described, "Status": status.DELETING}}

    def start_replication_task(self, p: Params) -> dict[str, Any]:
        arn = self._arn(p["ReplicationTaskArn"])
        instance = self.store.task(arn)["instance_arn"]
        state = self.resources.instance_status(instance) if instance else None
        if state is not None and state != AVAILABLE:
            raise ApiError("InvalidResourceStateFault", f"Replication instance {instance} is {state}")
        positions = _check_cdc_positions(p)
        if positions:  # StartReplicationTask's own positions replace the task's (as on AWS)
            self.store.update_task(arn, **positions)
        self.worker.start(arn, p["StartReplicationTaskType"])
        return {"ReplicationTask": self._describe(arn)}

    def stop_replication_task(self, p: Params) -> dict[str, Any]:
        arn = self._arn(p["ReplicationTaskArn"])
        self.worker.stop(arn)
        return {"ReplicationTask": self._describe(arn)}

    def modify_replication_task(self, p: Params) -> dict[str, Any]:
        """Change a task's identifier, type, mappings, settings or CDC positions (dms.md §5.3).

        As on AWS only a task that is not running can be modified (``InvalidResourceStateFault``
        otherwise); new TableMappings and ReplicationTaskSettings are validated as on create, and the
        settings given are merged over the task's current ones. The answer shows ``modifying``; the
        next describe shows the task back in its status, since the change is applied at once.
        """
        arn = self._arn(p["ReplicationTaskArn"])
        described = self._describe(arn)
        if described["Status"] not in MODIFIABLE or self.worker.busy(arn):
            raise ApiError(
                "InvalidResourceStateFault",
                f"Replication task {described['ReplicationTaskIdentifier']} is {described['Status']}; "
                "only a ready, stopped or failed task can be modified",
            )
        row = self.store.task(arn)
        fields: dict[str, Any] = {}
        if p.get("ReplicationTaskIdentifier"):
            identifier = check_identifier(p["ReplicationTaskIdentifier"])
            other = self._by_identifier(identifier)
            if other is not None and other["arn"] != arn:
                raise ApiError(
                    "ResourceAlreadyExistsFault",
                    f"ReplicationTask with identifier {identifier} already exists",
                )
            fields["identifier"] = identifier
        if p.get("MigrationType"):
            fields["migration_type"] = p["MigrationType"]
        if p.get("TableMappings"):
            parse_mapping(p["TableMappings"], file="TableMappings")
            fields["table_mappings"] = p["TableMappings"]
        if p.get("ReplicationTaskSettings"):
            current = parse_task_settings(row["settings"], file="ReplicationTaskSettings")
            merged = parse_task_settings(
                p["ReplicationTaskSettings"], file="ReplicationTaskSettings", base=current
            )
            fields["settings"] = merged.to_json()
        for member, column in (
            ("CdcStartPosition", "cdc_start_position"),
            ("CdcStopPosition", "cdc_stop_position"),
        ):
            if p.get(member):
                fields[column] = p[member]
        if p.get("CdcStartTime") is not None:
            fields["cdc_start_time"] = float(p["CdcStartTime"])
        if p.get("TaskData"):
            extra = json.loads(row["extra"] or "{}")
            fields["extra"] = json.dumps({**extra, "TaskData": p["TaskData"]})
        if fields:
            self.store.update_task(arn, **fields)
        return {"ReplicationTask": {**self._describe(arn), "Status": "modifying"}}

    def reload_tables(self, p: Params) -> dict[str, Any]:
        """Reload the named tables (dms.md §5.5): each goes ``Table is being reloaded``, is loaded
        again in full (its files replaced as TargetTablePrepMode says) and ends ``Table completed``
        with ``FullLoadReloaded``. A stopped task runs just those tables now (and stops again); a
        running task reloads them as soon as its current load ends. AWS takes running tasks only;
        the local engine also takes stopped ones, whose loads end by themselves."""
        arn = self._arn(p["ReplicationTaskArn"])
        described = self._describe(arn, with_settings=False)
        if described["Status"] not in RELOADABLE:
            raise ApiError(
                "InvalidResourceStateFault",
                f"Replication task {described['ReplicationTaskIdentifier']} is {described['Status']}; "
                "tables can be reloaded on a running or stopped task",
            )
        if described["MigrationType"] == "cdc":
            raise ApiError("InvalidParameterCombinationException", "a cdc task has no full load to reload")
        if p.get("ReloadOption", "data-reload") != "data-reload":
            raise ApiError("InvalidParameterValueException", "only ReloadOption data-reload is supported")
        wanted = [(t["SchemaName"], t["TableName"]) for t in p["TablesToReload"]]
        if len(wanted) > MAX_RELOAD_TABLES or len(set(wanted)) != len(wanted):
            raise ApiError(
                "InvalidParameterValueException",
                f"TablesToReload takes at most {MAX_RELOAD_TABLES} tables, each once",
            )
        known = {(r["schema_name"], r["table_name"]) for r in self.store.table_stats(arn)}
        unknown = [f"{s}.{t}" for s, t in wanted if (s, t) not in known]
        if unknown:
            raise ApiError(
                "InvalidParameterValueException",
                f"table(s) {', '.join(unknown)} are not part of replication task "
                f"{described['ReplicationTaskIdentifier']}",
            )
        self.worker.reload(arn, wanted)
        return {"ReplicationTaskArn": arn}

    def describe_table_statistics(self, p: Params) -> dict[str, Any]:
        arn = self._arn(p["ReplicationTaskArn"])
        rows = self.store.table_stats(arn)
        for f in p.get("Filters", []):
            pick = TABLE_FILTERS.get(f["Name"])
            if pick is None:
                raise ApiError(
                    "InvalidParameterValueException",
                    f"Invalid filter name {f['Name']!r}; allowed: {', '.join(TABLE_FILTERS)}",
                )
            rows = [r for r in rows if pick(r) in f["Values"]]
        page, marker = _page(rows, _max_records(p, 500), p.get("Marker"))
        out: dict[str, Any] = {
            "ReplicationTaskArn": arn,
            "TableStatistics": [status.table_statistics(r) for r in page],
        }
        if marker:
            out["Marker"] = marker
        return out

    # -- helpers -----------------------------------------------------------------------------------
    def _by_identifier(self, identifier: str) -> Any:
        return self.store.task_named(identifier)

    def _arn(self, arn: str) -> str:
        """The task with exactly this ARN (an identifier is not an ARN, as on AWS)."""
        if not self.store.has_task(arn):
            raise ApiError("ResourceNotFoundFault", f"Replication Task not found: {arn}")
        return arn

    def _describe(self, arn: str, with_settings: bool = True) -> dict[str, Any]:
        reconcile(self.store, arn)
        row = self.store.task(arn)
        if row is None:
            raise ApiError("ResourceNotFoundFault", f"Replication Task not found: {arn}")
        return status.describe_task(row, self.store.table_stats(arn), with_settings=with_settings)


def _owner(p: Params) -> str | None:
    """Whose files the task loads: the ``derson-lake:owner`` tag, else ``{"owner": ...}`` TaskData."""
    for tag in p.get("Tags", []):
        if tag.get("Key") == OWNER_TAG and tag.get("Value"):
            return tag["Value"]
    try:
        data = json.loads(p.get("TaskData") or "{}")
    except ValueError:
        return None
    return data.get("owner") if isinstance(data, dict) else None


def _check_cdc_positions(p: Params) -> dict[str, Any]:
    """``CdcStartPosition`` (``file:pos``, the ``checkpoint:`` form, a MariaDB GTID, a date) or
    ``CdcStartTime``, and ``CdcStopPosition``, checked (BadInput → InvalidParameterValueException)."""
    out: dict[str, Any] = {}
    start_time = p.get("CdcStartTime")
    start = parse_start(p.get("CdcStartPosition"), None if start_time is None else str(start_time))
    if start is not None and start.time is not None and start_time is not None:
        out.update(cdc_start_position=None, cdc_start_time=start.time.timestamp())
    elif start is not None:
        out.update(cdc_start_position=p["CdcStartPosition"], cdc_start_time=None)
    if p.get("CdcStopPosition"):
        parse_stop(p["CdcStopPosition"])
        out["cdc_stop_position"] = p["CdcStopPosition"]
    return out


def _max_records(p: Params, highest: int) -> int:
    """``MaxRecords``: 20 to ``highest`` (DMS's documented range, not in the model), default 100."""
    value = p.get("MaxRecords")
    if value is None:
        return 100
    if not 20 <= value <= highest:
        raise ApiError("InvalidParameterValueException", f"MaxRecords must be between 20 and {highest}")
    return value


def _page(rows: list[Any], size: int, marker: str | None) -> tuple[list[Any], str | None]:
    start = 0
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except ValueError:
            raise ApiError("InvalidParameterValueException", "Invalid Marker") from None
    end = start + size
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(rows) else None
    return rows[start:end], following


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
