"""DMS endpoints and replication instances (dms.md §5.1, §5.2), kept in the replication store.

Endpoints are records: their settings are stored as given and described back (with ``EndpointType``
upper-case and ``Status: active``), the password never. An instance is the worker that runs its
tasks in the server's process; it is ``creating`` when created and ``available`` from the next
describe, and ``deleting`` when deleted and gone from the next describe, so
boto3's ``replication_instance_available`` / ``replication_instance_deleted`` waiters work.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import string
from typing import Any

from dersonlake.api.protocol import ApiError
from dersonlake.replication import ReplicationStore, check_identifier

Params = dict[str, Any]
CREATING, AVAILABLE, DELETING = "creating", "available", "deleting"
ENDPOINT_FILTERS = {
    "endpoint-arn": "arn",
    "endpoint-type": "endpoint_type",
    "endpoint-id": "identifier",
    "engine-name": "engine_name",
}
INSTANCE_FILTERS = {
    "replication-instance-arn": "arn",
    "replication-instance-id": "identifier",
    "replication-instance-class": "class",
    "engine-version": "engine_version",
}


def resource_arn(region: str, account: str, kind: str) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return f"arn:aws:dms:{region}:{account}:{kind}:" + "".join(secrets.choice(alphabet) for _ in range(26))


class Resources:
    """CreateEndpoint/DescribeEndpoints/DeleteEndpoint and the replication-instance operations."""

    def __init__(self, store: ReplicationStore, region: str, account: str, groups: Any = None) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.groups = groups  # dms_subnet_groups.SubnetGroups: the groups an instance may name

    # -- endpoints ---------------------------------------------------------------------------------
    def create_endpoint(self, p: Params) -> dict[str, Any]:
        identifier = check_identifier(p["EndpointIdentifier"], "EndpointIdentifier").lower()
        if self.store.endpoint_identifier_taken(identifier):
            raise ApiError("ResourceAlreadyExistsFault", f"Endpoint {identifier} already exists")
        arn = resource_arn(self.region, self.account, "endpoint")
        kept = {k: v for k, v in p.items() if k not in ("Password", "Tags")}
        self.store.insert_endpoint(
            arn, identifier, p["EndpointType"].upper(), p["EngineName"], json.dumps(kept)
        )
        return {"Endpoint": self._endpoint(self._endpoint_row(arn))}

    def describe_endpoints(self, p: Params) -> dict[str, Any]:
        rows = _filtered(self.store.endpoints(), p, ENDPOINT_FILTERS)
        if not rows:
            raise ApiError("ResourceNotFoundFault", "No Endpoints found matching provided filters")
        return {"Endpoints": [self._endpoint(r) for r in rows]}

    def delete_endpoint(self, p: Params) -> dict[str, Any]:
        row = self._endpoint_row(p["EndpointArn"])
        users = self.store.tasks_using_endpoint(row["arn"])
        if users:
            raise ApiError(
                "InvalidResourceStateFault",
                f"Endpoint {row['identifier']} is used by replication task {users[0]}",
            )
        self.store.delete_endpoint(row["arn"])
        return {"Endpoint": {**self._endpoint(row), "Status": "deleting"}}

    def modify_endpoint(self, p: Params) -> dict[str, Any]:
        """Change an endpoint's stored settings. As on AWS, the members of a ``*Settings`` structure
        that are given replace those stored and the others stay, unless ``ExactSettings`` is true
        (then the structure is replaced whole); a password is never kept."""
        row = self._endpoint_row(p["EndpointArn"])
        params = json.loads(row["params"])
        exact = p.get("ExactSettings", False)
        for key, value in p.items():
            if key in ("EndpointArn", "Password", "ExactSettings"):
                continue
            if key.endswith("Settings") and isinstance(value, dict) and not exact:
                params[key] = {**params.get(key, {}), **value}
            else:
                params[key] = value
        identifier = row["identifier"]
        if p.get("EndpointIdentifier"):
            identifier = check_identifier(p["EndpointIdentifier"], "EndpointIdentifier").lower()
            if self.store.endpoint_identifier_taken(identifier, other_than=row["arn"]):
                raise ApiError("ResourceAlreadyExistsFault", f"Endpoint {identifier} already exists")
            params["EndpointIdentifier"] = identifier
        self.store.update_endpoint(
            row["arn"],
            identifier,
            str(params.get("EndpointType", row["endpoint_type"])).upper(),
            params.get("EngineName", row["engine_name"]),
            json.dumps(params),
        )
        return {"Endpoint": self._endpoint(self._endpoint_row(row["arn"]))}

    def _endpoint_row(self, arn: str) -> Any:
        row = self.store.endpoint(arn)
        if row is None:
            raise ApiError("ResourceNotFoundFault", f"Endpoint not found: {arn}")
        return row

    @staticmethod
    def _endpoint(row: Any) -> dict[str, Any]:
        params = json.loads(row["params"])
        return {
            **params,
            "EndpointIdentifier": row["identifier"],
            "EndpointType": row["endpoint_type"],
            "EngineName": row["engine_name"],
            "EngineDisplayName": row["engine_name"],
            "Status": "active",
            "EndpointArn": row["arn"],
        }

    # -- replication instances ---------------------------------------------------------------------
    def create_replication_instance(self, p: Params) -> dict[str, Any]:
        # A create is a later request too: an instance deleted by the previous run is gone by now
        # (back-to-back scheduled runs in one server otherwise found its "deleting" row, then nothing).
        self._advance()
        identifier = check_identifier(
            p["ReplicationInstanceIdentifier"], "ReplicationInstanceIdentifier", 63
        ).lower()
        if self.store.instance_identifier_taken(identifier):
            raise ApiError("ResourceAlreadyExistsFault", f"Replication instance {identifier} already exists")
        arn = resource_arn(self.region, self.account, "rep")
        group = p.get("ReplicationSubnetGroupIdentifier")
        if group and self.groups is not None:
            group = self.groups.describe_group(group)["ReplicationSubnetGroupIdentifier"]
        kept = {
            "ReplicationInstanceClass": p["ReplicationInstanceClass"],
            "AllocatedStorage": p.get("AllocatedStorage", 50),
            "MultiAZ": p.get("MultiAZ", False),
            "EngineVersion": p.get("EngineVersion", "3.5.3"),
            "PubliclyAccessible": p.get("PubliclyAccessible", True),
            "AutoMinorVersionUpgrade": p.get("AutoMinorVersionUpgrade", True),
            "NetworkType": p.get("NetworkType", "IPV4"),
            # As AWS fills them when not given: the first zone, a weekly window, DMS's own key.
            "AvailabilityZone": p.get("AvailabilityZone") or f"{self.region}a",
            "PreferredMaintenanceWindow": p.get("PreferredMaintenanceWindow") or "sun:06:00-sun:06:30",
            "KmsKeyId": p.get("KmsKeyId") or f"arn:aws:kms:{self.region}:{self.account}:alias/aws/dms",
            "ReplicationSubnetGroupIdentifier": group or "default",
            "VpcSecurityGroupIds": p.get("VpcSecurityGroupIds") or [],
        }
        self.store.insert_instance(arn, identifier, CREATING, json.dumps(kept))
        return {"ReplicationInstance": self._instance(self._instance_row(arn))}

    def describe_replication_instances(self, p: Params) -> dict[str, Any]:
        self._advance()
        rows = _filtered(self.store.instances(), p, INSTANCE_FILTERS, extra=lambda r: json.loads(r["params"]))
        if not rows:
            raise ApiError("ResourceNotFoundFault", "No replication instances found matching filters")
        return {"ReplicationInstances": [self._instance(r) for r in rows]}

    def delete_replication_instance(self, p: Params) -> dict[str, Any]:
        self._advance()
        row = self._instance_row(p["ReplicationInstanceArn"])
        tasks = self.store.tasks_on_instance(row["arn"])
        if tasks:
            raise ApiError(
                "InvalidResourceStateFault",
                f"Replication instance {row['identifier']} has replication task {tasks[0]}; "
                "delete its tasks first",
            )
        if row["status"] != DELETING:
            self.store.set_instance_status(row["arn"], DELETING)
        return {"ReplicationInstance": {**self._instance(row), "ReplicationInstanceStatus": DELETING}}

    def instance_status(self, arn: str) -> str | None:
        """The stored status, without moving it on (a start does not make an instance available)."""
        row = self.store.instance(arn)
        return row["status"] if row is not None else None

    def _advance(self) -> None:
        """Move every instance one step on: ``creating`` → ``available``, ``deleting`` → gone.

        The create's (and the delete's) own response shows the first status; any later request that
        reads instances sees the next one, as a waiter polling DMS does after a while.
        """
        self.store.advance_instances(gone=DELETING, ready=(CREATING, AVAILABLE))

    def _instance_row(self, arn: str) -> Any:
        row = self.store.instance(arn)
        if row is None:
            raise ApiError("ResourceNotFoundFault", f"Replication instance not found: {arn}")
        return row

    def modify_replication_instance(self, p: Params) -> dict[str, Any]:
        """Change the stored settings (applied at once: no maintenance window here)."""
        self._advance()
        row = self._instance_row(p["ReplicationInstanceArn"])
        params = json.loads(row["params"])
        for key in (
            "AllocatedStorage",
            "ReplicationInstanceClass",
            "VpcSecurityGroupIds",
            "PreferredMaintenanceWindow",
            "MultiAZ",
            "EngineVersion",
            "AutoMinorVersionUpgrade",
            "NetworkType",
        ):
            if p.get(key) is not None:
                params[key] = p[key]
        identifier = row["identifier"]
        if p.get("ReplicationInstanceIdentifier"):
            identifier = check_identifier(
                p["ReplicationInstanceIdentifier"], "ReplicationInstanceIdentifier", 63
            ).lower()
        self.store.update_instance(row["arn"], identifier, json.dumps(params))
        return {"ReplicationInstance": self._instance(self._instance_row(row["arn"]))}

    def _instance(self, row: Any) -> dict[str, Any]:
        params = json.loads(row["params"])
        group_id = params.pop("ReplicationSubnetGroupIdentifier", "default")
        security_groups = params.pop("VpcSecurityGroupIds", [])
        group = {"ReplicationSubnetGroupIdentifier": group_id}
        if self.groups is not None and group_id != "default":
            # A group deleted behind the instance's back: describe the name only.
            with contextlib.suppress(ApiError):
                group = self.groups.describe_group(group_id)
        return {
            **params,
            "ReplicationSubnetGroup": group,
            "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in security_groups],
            "PendingModifiedValues": {},
            "ReplicationInstanceIdentifier": row["identifier"],
            "ReplicationInstanceStatus": row["status"],
            "InstanceCreateTime": row["created"],
            "ReplicationInstanceArn": row["arn"],
            "ReplicationInstancePrivateIpAddresses": ["127.0.0.1"],
        }


def _filtered(rows: list[Any], p: Params, names: dict[str, str], extra: Any = None) -> list[Any]:
    for f in p.get("Filters", []):
        column = names.get(f["Name"])
        if column is None:
            raise ApiError(
                "InvalidParameterValueException",
                f"Invalid filter name {f['Name']!r}; allowed: {', '.join(names)}",
            )
        wanted = set(f["Values"])
        if column == "endpoint_type":  # stored SOURCE/TARGET; DMS takes source/target as well
            wanted = {v.upper() for v in wanted}

        def value(r: Any, column: str = column) -> Any:
            if column in r.keys():  # noqa: SIM118 (sqlite3.Row: `in` looks at values)
                return r[column]
            return (extra(r) if extra else {}).get(_model_name(column))

        rows = [r for r in rows if value(r) in wanted]
    return rows


def _model_name(column: str) -> str:
    return {"class": "ReplicationInstanceClass", "engine_version": "EngineVersion"}[column]
