"""The DMS side of the intake: one owner's endpoints, instance and task, through boto3.

The same code drives AWS DMS and derson-lake's local DMS API (``DERSON_DMS_ENDPOINT_URL``). Every
call is idempotent, because Step Functions retries steps: a create that finds its resource returns
it, a delete that finds nothing succeeds. Resources are found by identifier
(``<DERSON_RESOURCE_PREFIX>-<owner>``), so the cleanup works even when no ARN was recorded.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from dersonlake.config import Owner, load_owner
from dersonlake.intake.checkpoints import CheckpointStore, Lake
from dersonlake.intake.errors import DeltaNotAvailable, code_of, dms_error, error_class

log = logging.getLogger("dersonlake.INTAKE")
OWNER_TAG = "derson-lake:owner"
DEFAULT_PREFIX = "derson"
DEFAULT_CLASS = "dms.t3.medium"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value in (None, "") else value.strip().lower() in ("1", "true", "yes")


def identifier(owner: str, suffix: str = "") -> str:
    """``<prefix>-<owner>[-suffix]`` under DMS's identifier rules (lower-case, single hyphens)."""
    prefix = os.environ.get("DERSON_RESOURCE_PREFIX") or DEFAULT_PREFIX
    raw = "-".join(p for p in (prefix, owner, suffix) if p)
    ident = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9]", "-", raw)).strip("-").lower()
    return ident if ident[:1].isalpha() else f"d-{ident}"


def client(service: str = "dms") -> Any:
    """boto3's DMS (or ``service``'s) client; ``DERSON_DMS_ENDPOINT_URL`` points it at a local
    server (dummy keys then, or the keys ``serve --credentials-file`` hands its in-process Lambda
    in ``DERSON_DMS_ACCESS_KEY_ID`` / ``DERSON_DMS_SECRET_ACCESS_KEY``)."""
    url = os.environ.get("DERSON_DMS_ENDPOINT_URL") or None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    kwargs: dict[str, Any] = {"endpoint_url": url, "region_name": region}
    key, secret = os.environ.get("DERSON_DMS_ACCESS_KEY_ID"), os.environ.get("DERSON_DMS_SECRET_ACCESS_KEY")
    if url and key and secret:
        kwargs.update(aws_access_key_id=key, aws_secret_access_key=secret)
    elif url and boto3.Session().get_credentials() is None:
        kwargs.update(aws_access_key_id="derson-lake", aws_secret_access_key="derson-lake")
    return boto3.client(service, **kwargs)


class Dms:
    """One owner's DMS resources. ``owner_config`` is read only by the steps that need the files."""

    def __init__(self, owner: str, dms: Any | None = None) -> None:
        self.owner = owner
        self.dms = dms or client()
        self.standing = _env_bool("DERSON_STANDING_REPLICATION", False)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.dms, operation)(**params)
        except ClientError as exc:
            raise dms_error(exc) from None

    def owner_config(self) -> Owner:
        return load_owner(self.owner, os.environ.get("DERSON_OWNERS_DIR"))

    # -- identifiers -------------------------------------------------------------------------------
    @property
    def instance_id(self) -> str:
        if self.standing:
            return identifier("replication")
        return identifier(self.owner)

    @property
    def task_id(self) -> str:
        return identifier(self.owner)

    # -- instance ----------------------------------------------------------------------------------
    def create_instance(self, delta: bool = False) -> dict[str, Any]:
        owner = self.owner_config()  # an unknown or malformed owner fails before anything is created
        if delta:  # (and billed), and so does a delta run the owner cannot have
            self.check_delta(owner)
        if self.standing:
            return self.find_instance() or self._missing("replication instance", self.instance_id)
        params: dict[str, Any] = {
            "ReplicationInstanceIdentifier": self.instance_id,
            "ReplicationInstanceClass": os.environ.get("DERSON_REPLICATION_INSTANCE_CLASS") or DEFAULT_CLASS,
            "MultiAZ": _env_bool("DERSON_REPLICATION_MULTI_AZ", False),
            "PubliclyAccessible": _env_bool("DERSON_REPLICATION_PUBLICLY_ACCESSIBLE", False),
            "Tags": [{"Key": OWNER_TAG, "Value": self.owner}],
        }
        storage = os.environ.get("DERSON_REPLICATION_ALLOCATED_STORAGE")
        if storage:
            params["AllocatedStorage"] = int(storage)
        version = os.environ.get("DERSON_REPLICATION_ENGINE_VERSION")
        if version and version != "default":
            params["EngineVersion"] = version
        if os.environ.get("DERSON_REPLICATION_SUBNET_GROUP"):
            params["ReplicationSubnetGroupIdentifier"] = os.environ["DERSON_REPLICATION_SUBNET_GROUP"]
        groups = [g.strip() for g in os.environ.get("DERSON_REPLICATION_SECURITY_GROUPS", "").split(",")]
        if any(groups):
            params["VpcSecurityGroupIds"] = [g for g in groups if g]
        try:
            return self.call("create_replication_instance", **params)["ReplicationInstance"]
        except Exception as exc:
            if code_of(exc) != "ResourceAlreadyExistsFault":
                raise
        return self.find_instance() or self._missing("replication instance", self.instance_id)

    def find_instance(self, arn: str | None = None) -> dict[str, Any] | None:
        by_arn = ("replication-instance-arn", arn)
        name, value = by_arn if arn else ("replication-instance-id", self.instance_id)
        try:
            found = self.call("describe_replication_instances", Filters=[{"Name": name, "Values": [value]}])
        except Exception as exc:
            if code_of(exc) == "ResourceNotFoundFault":
                return None
            raise
        return found["ReplicationInstances"][0] if found["ReplicationInstances"] else None

    def delete_instance(self, arn: str | None = None) -> dict[str, Any]:
        if self.standing:
            return {"deleted": False, "reason": "standing replication instance (managed by Terraform)"}
        self.delete_endpoints()
        found = self.find_instance(arn) or (self.find_instance() if arn else None)
        if found is None:
            return {"deleted": False, "reason": f"no replication instance {self.instance_id}"}
        try:
            arn = found["ReplicationInstanceArn"]
            gone = self.call("delete_replication_instance", ReplicationInstanceArn=arn)
        except Exception as exc:
            if code_of(exc) == "ResourceNotFoundFault":
                return {"deleted": False, "reason": f"no replication instance {self.instance_id}"}
            raise
        return {"deleted": True, **_instance_result(gone["ReplicationInstance"])}

    # -- endpoints ---------------------------------------------------------------------------------
    def endpoints(self) -> tuple[str, str]:
        """(source ARN, target ARN): Terraform's (``DERSON_ENDPOINTS``), else created from owner.yaml."""
        given = json.loads(os.environ.get("DERSON_ENDPOINTS") or "{}").get(self.owner)
        if given:
            return given["source"], given["target"]
        owner = self.owner_config()
        src = owner.source
        source = {
            "EndpointType": "source",
            "EngineName": src.engine,
            "ServerName": src.host,
            "Port": src.port,
            "Username": src.user,
            "Password": src.password() if not src.sandbox else "",
            "DatabaseName": ",".join(src.databases),
        }
        target = {
            "EndpointType": "target",
            "EngineName": "s3",
            "S3Settings": {**owner.target.s3.api, **_bucket(owner)},
        }
        return self._endpoint("source", source), self._endpoint("target", target)

    def _endpoint(self, role: str, params: dict[str, Any]) -> str:
        ident = identifier(self.owner, role)
        tags = [{"Key": OWNER_TAG, "Value": self.owner}]
        try:
            made = self.call("create_endpoint", EndpointIdentifier=ident, Tags=tags, **params)
            return made["Endpoint"]["EndpointArn"]
        except Exception as exc:
            if code_of(exc) != "ResourceAlreadyExistsFault":
                raise
        found = self.call("describe_endpoints", Filters=[{"Name": "endpoint-id", "Values": [ident]}])
        return found["Endpoints"][0]["EndpointArn"]

    def delete_endpoints(self) -> None:
        if os.environ.get("DERSON_ENDPOINTS") and json.loads(os.environ["DERSON_ENDPOINTS"]).get(self.owner):
            return  # Terraform's endpoints outlive the run
        for role in ("source", "target"):
            ident = identifier(self.owner, role)
            try:
                found = self.call("describe_endpoints", Filters=[{"Name": "endpoint-id", "Values": [ident]}])
                for endpoint in found["Endpoints"]:
                    self.call("delete_endpoint", EndpointArn=endpoint["EndpointArn"])
            except Exception as exc:
                if code_of(exc) == "InvalidResourceStateFault":
                    # Still used by a task whose deletion failed: endpoints cost nothing, and the
                    # instance (which does) must still be deleted; the next run reuses them.
                    log.warning("endpoint %s left in place: %s", ident, exc)
                elif code_of(exc) != "ResourceNotFoundFault":
                    raise

    # -- task --------------------------------------------------------------------------------------
    def run_kind(self, delta: bool) -> dict[str, Any]:
        """``MigrationType`` and CDC positions of this run's task (the seed's ``delta`` flag).

        ``delta=false`` is a full load; for an owner whose ``migration_type`` captures changes it is
        ``full-load-and-cdc`` stopping at ``server_time:<now>``, so the task ends by itself and its
        ``RecoveryCheckpoint`` marks where the next delta starts. ``delta=true`` is ``cdc`` from the
        saved checkpoint to now; without a checkpoint (first run, or a lake wiped since) it is the
        full load above. A full load forgets the saved checkpoint first: were it to fail halfway,
        the next delta must not apply changes onto a half-reloaded lake.
        """
        owner = self.owner_config()
        store = CheckpointStore(owner, self.lake(owner))
        stop = "server_time:" + datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if delta:
            self.check_delta(owner)
        if owner.migration_type == "full-load":
            return {"MigrationType": "full-load"}
        saved = store.load() if delta or owner.migration_type == "cdc" else None
        if saved is not None:
            return {
                "MigrationType": "cdc",
                "CdcStartPosition": saved["RecoveryCheckpoint"],
                "CdcStopPosition": stop,
            }
        if owner.migration_type == "cdc":  # never a full load: capture starts now
            return {"MigrationType": "cdc", "CdcStopPosition": stop}
        store.clear()
        return {"MigrationType": "full-load-and-cdc", "CdcStopPosition": stop}

    def check_delta(self, owner: Owner) -> None:
        """A delta run needs an owner whose runs capture changes, and a task of its own."""
        if owner.migration_type == "full-load":
            raise DeltaNotAvailable(
                f"owner {self.owner} has migration_type full-load, so its runs do not capture "
                f"changes; set migration_type: full-load-and-cdc in {owner.dir / 'owner.yaml'} "
                "and run a full load (delta: false) once"
            )
        if self.standing:
            raise DeltaNotAvailable(
                "the standing replication task (DERSON_STANDING_REPLICATION) is Terraform's "
                "full-load task; delta runs create their own task: unset it for delta runs"
            )

    def save_checkpoint(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """Keep a finished task's ``RecoveryCheckpoint`` for the next delta (DMS forgets it with the
        task); a failed CDC run's checkpoint is kept too: the lake is current up to it."""
        checkpoint = task.get("RecoveryCheckpoint")
        if not checkpoint or task.get("MigrationType") == "full-load":
            return None
        owner = self.owner_config()
        return CheckpointStore(owner, self.lake(owner)).save(checkpoint, task["ReplicationTaskArn"])

    def lake(self, owner: Owner) -> Lake:
        """Where this owner's task writes, so its checkpoint goes there too (docs/aws.md).

        Terraform's ``DERSON_LAKES`` (``s3://<bucket>/<folder>`` of the owner's S3 endpoint, the
        prefix its IAM policy allows); else, for endpoints Terraform made without it, the target
        endpoint's own ``S3Settings``; else the endpoint the intake creates from owner.yaml.
        """
        lakes = _env_json("DERSON_LAKES")
        if self.owner in lakes:
            return Lake.of_uri(lakes[self.owner])
        given = _env_json("DERSON_ENDPOINTS").get(self.owner)
        if not given:
            return Lake.of_owner(owner)
        found = self.call(
            "describe_endpoints", Filters=[{"Name": "endpoint-arn", "Values": [given["target"]]}]
        )
        settings = (found["Endpoints"] or [{}])[0].get("S3Settings") or {}
        if not settings.get("BucketName"):
            raise error_class("ResourceNotFoundFault")(
                "ResourceNotFoundFault",
                f"the target endpoint {given['target']} of owner {self.owner} has no S3Settings.BucketName; "
                "set DERSON_LAKES (Terraform does) to the owner's s3://<bucket>/<folder>",
            )
        return Lake(settings["BucketName"], (settings.get("BucketFolder") or "").strip("/"))

    def create_task(self, instance_arn: str | None, delta: bool = False) -> dict[str, Any]:
        found = self.find_task()
        if found is not None or self.standing:
            if delta:
                self.check_delta(self.owner_config())
            return found or self._missing("replication task", self.task_id)
        owner = self.owner_config()
        kind = self.run_kind(delta)
        instance = self.find_instance(instance_arn) if instance_arn else self.find_instance()
        if instance is None:
            self._missing("replication instance", self.instance_id)
        source, target = self.endpoints()
        try:
            made = self.call(
                "create_replication_task",
                ReplicationTaskIdentifier=self.task_id,
                SourceEndpointArn=source,
                TargetEndpointArn=target,
                ReplicationInstanceArn=instance["ReplicationInstanceArn"],
                TableMappings=json.dumps(owner.mapping),
                ReplicationTaskSettings=json.dumps(owner.task_settings or {}),
                Tags=[{"Key": OWNER_TAG, "Value": self.owner}],
                **kind,
            )
            return made["ReplicationTask"]
        except Exception as exc:
            if code_of(exc) != "ResourceAlreadyExistsFault":
                raise
        return self.find_task() or self._missing("replication task", self.task_id)

    def find_task(self, arn: str | None = None) -> dict[str, Any] | None:
        name, value = ("replication-task-arn", arn) if arn else ("replication-task-id", self.task_id)
        try:
            found = self.call(
                "describe_replication_tasks",
                Filters=[{"Name": name, "Values": [value]}],
                WithoutSettings=True,
            )
        except Exception as exc:
            if code_of(exc) == "ResourceNotFoundFault":
                return None
            raise
        return found["ReplicationTasks"][0] if found["ReplicationTasks"] else None

    def start_task(self, arn: str | None) -> dict[str, Any]:
        """Start a ``ready`` task; a retried start (already starting/running/stopped) returns it as is.

        Standing tasks (``DERSON_STANDING_REPLICATION``) that are stopped or failed are reloaded.
        """
        task = self.find_task(arn) if arn else self.find_task()
        if task is None:
            self._missing("replication task", self.task_id)
        if task["Status"] != "ready":
            if task["Status"] in ("creating", "modifying"):
                raise error_class("InvalidResourceStateFault")(
                    "InvalidResourceStateFault", f"replication task {self.task_id} is {task['Status']}"
                )
            if not (self.standing and task["Status"] in ("stopped", "failed")):
                return task
        # A standing task (Terraform's, reused run after run) that ran before is reloaded, as
        # Terraform's provider starts a task that is not ready.
        kind = "start-replication" if task["Status"] == "ready" else "reload-target"
        started = self.call(
            "start_replication_task",
            ReplicationTaskArn=task["ReplicationTaskArn"],
            StartReplicationTaskType=kind,
        )
        return started["ReplicationTask"]

    def run_totals(self, arn: str) -> dict[str, int]:
        """The task's rows loaded and changes applied, summed over its tables."""
        pages = self.dms.get_paginator("describe_table_statistics").paginate(ReplicationTaskArn=arn)
        totals = dict.fromkeys(("FullLoadRows", "Inserts", "Updates", "Deletes"), 0)
        try:
            for page in pages:
                for table in page["TableStatistics"]:
                    for key in totals:
                        totals[key] += table.get(key, 0)
        except ClientError as exc:
            raise dms_error(exc) from None
        return totals

    def delete_task(self, arn: str | None) -> dict[str, Any]:
        """Delete the task; a running one is stopped first (and the step retried while it stops)."""
        if self.standing:
            return {"deleted": False, "reason": "standing replication task (managed by Terraform)"}
        task = (self.find_task(arn) if arn else None) or self.find_task()
        if task is None:
            return {"deleted": False, "reason": f"no replication task {self.task_id}"}
        if task["Status"] in ("starting", "running"):
            self.call("stop_replication_task", ReplicationTaskArn=task["ReplicationTaskArn"])
        try:  # on the success and the error pipeline alike
            saved = self.save_checkpoint(task)
        except Exception as exc:
            # The task and the instance must go even when the lake is unreachable (an idle
            # instance costs money); the next delta then starts at the previous checkpoint and
            # writes the changes since again (the merged state is the same).
            log.error("owner %s: the CDC checkpoint was not saved: %s", self.owner, exc)
            saved = None
        try:
            gone = self.call("delete_replication_task", ReplicationTaskArn=task["ReplicationTaskArn"])
        except Exception as exc:
            if code_of(exc) == "ResourceNotFoundFault":
                return {"deleted": False, "reason": f"no replication task {self.task_id}"}
            raise
        out = {"deleted": True, **task_result(gone["ReplicationTask"])}
        if saved is not None:
            out["SavedCheckpoint"] = saved["RecoveryCheckpoint"]
        return out

    def _missing(self, what: str, ident: str) -> Any:
        raise error_class("ResourceNotFoundFault")("ResourceNotFoundFault", f"no {what} {ident}")


def _env_json(name: str) -> dict[str, Any]:
    return json.loads(os.environ.get(name) or "{}")


def _bucket(owner: Owner) -> dict[str, Any]:
    target = owner.target
    if target.is_s3:
        return {"BucketName": target.bucket, "BucketFolder": target.folder}
    return {"BucketName": "local", "BucketFolder": target.folder}


def _instance_result(instance: dict[str, Any]) -> dict[str, Any]:
    return {
        "ReplicationInstanceArn": instance["ReplicationInstanceArn"],
        "ReplicationInstanceStatus": instance["ReplicationInstanceStatus"],
    }


def instance_result(instance: dict[str, Any]) -> dict[str, Any]:
    """What the pipelines read of an instance."""
    return _instance_result(instance)


def task_result(task: dict[str, Any]) -> dict[str, Any]:
    """What the pipelines read of a task (``Status``, ``StopReason``), plus failure and progress."""
    out: dict[str, Any] = {"ReplicationTaskArn": task["ReplicationTaskArn"], "Status": task["Status"]}
    for key in ("MigrationType", "RecoveryCheckpoint"):
        if task.get(key):
            out[key] = task[key]
    if task.get("StopReason"):
        out["StopReason"] = task["StopReason"]
    if task.get("LastFailureMessage"):
        out["LastFailureMessage"] = task["LastFailureMessage"]
    stats = task.get("ReplicationTaskStats")
    if stats:
        out["ReplicationTaskStats"] = {k: v for k, v in stats.items() if not hasattr(v, "isoformat")}
    return out
