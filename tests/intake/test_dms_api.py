"""The DMS operations the intake needs, served locally and driven with boto3 and its waiters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.replication.conftest import ALL_SHOP

FAST = {"Delay": 0.2, "MaxAttempts": 100}


def make_instance(dms, ident="Derson-Acme"):
    return dms.create_replication_instance(
        ReplicationInstanceIdentifier=ident, ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]


def make_endpoints(dms, tags=()):
    source = dms.create_endpoint(
        EndpointIdentifier="acme-source",
        EndpointType="source",
        EngineName="mariadb",
        ServerName="127.0.0.1",
        Port=3306,
        Username="u",
        Password="secret",
    )["Endpoint"]
    target = dms.create_endpoint(
        EndpointIdentifier="acme-target",
        EndpointType="target",
        EngineName="s3",
        S3Settings={"BucketName": "lake", "BucketFolder": "acme", "DataFormat": "parquet"},
    )["Endpoint"]
    return source, target


def test_endpoints_are_stored_and_described_as_dms_does(dms):
    source, _target = make_endpoints(dms)
    assert source["EndpointType"] == "SOURCE" and source["Status"] == "active"
    assert "Password" not in source
    described = dms.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": ["acme-target"]}])
    (only,) = described["Endpoints"]
    assert only["EndpointType"] == "TARGET" and only["S3Settings"]["BucketFolder"] == "acme"
    with pytest.raises(ClientError) as again:
        make_endpoints(dms)
    assert again.value.response["Error"]["Code"] == "ResourceAlreadyExistsFault"
    dms.delete_endpoint(EndpointArn=source["EndpointArn"])
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [source["EndpointArn"]]}])
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.delete_endpoint(EndpointArn=source["EndpointArn"])


def test_an_instance_becomes_available_and_is_deleted_as_the_waiters_expect(dms):
    created = make_instance(dms)
    assert created["ReplicationInstanceIdentifier"] == "derson-acme"  # stored lower-case
    assert created["ReplicationInstanceStatus"] == "creating"
    arn = created["ReplicationInstanceArn"]
    flt = [{"Name": "replication-instance-arn", "Values": [arn]}]
    dms.get_waiter("replication_instance_available").wait(Filters=flt, WaiterConfig=FAST)
    (desc,) = dms.describe_replication_instances(Filters=flt)["ReplicationInstances"]
    assert desc["ReplicationInstanceStatus"] == "available" and desc["AllocatedStorage"] == 50
    with pytest.raises(dms.exceptions.ResourceAlreadyExistsFault):
        make_instance(dms, "derson-acme")
    gone = dms.delete_replication_instance(ReplicationInstanceArn=arn)["ReplicationInstance"]
    assert gone["ReplicationInstanceStatus"] == "deleting"
    dms.get_waiter("replication_instance_deleted").wait(Filters=flt, WaiterConfig=FAST)
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_replication_instances(Filters=flt)


@pytest.mark.parametrize("ident", ["1abc", "a--b", "a-", "a_b", "x" * 64])
def test_instance_identifiers_follow_dms_rules(dms, ident):
    with pytest.raises(ClientError) as bad:
        make_instance(dms, ident)
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValueException"


def _task(dms, instance_arn, source, target, mapping=None, owner="acme", **more):
    return dms.create_replication_task(
        ReplicationTaskIdentifier="derson-acme",
        SourceEndpointArn=source["EndpointArn"],
        TargetEndpointArn=target["EndpointArn"],
        ReplicationInstanceArn=instance_arn,
        TableMappings=json.dumps(mapping or ALL_SHOP),
        Tags=[{"Key": "derson-lake:owner", "Value": owner}],
        **{"MigrationType": "full-load", **more},
    )["ReplicationTask"]


def test_a_started_task_runs_the_owners_full_load_and_stops_finished(dms, owner, owners_root):
    instance = make_instance(dms)
    source, target = make_endpoints(dms)
    task = _task(dms, instance["ReplicationInstanceArn"], source, target)
    arn = task["ReplicationTaskArn"]
    dms.get_waiter("replication_task_ready").wait(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST
    )
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):  # the instance is still creating
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    dms.describe_replication_instances()
    started = dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    assert started["ReplicationTask"]["Status"] in ("starting", "running", "stopped")
    flt = [{"Name": "replication-task-arn", "Values": [arn]}]
    dms.get_waiter("replication_task_stopped").wait(Filters=flt, WaiterConfig=FAST)
    (done,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
    assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", done
    assert done["ReplicationTaskStats"]["TablesLoaded"] >= 1
    assert list((owners_root / "lake").rglob("*.parquet"))
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):  # the task still uses it
        dms.delete_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"])
    dms.delete_replication_task(ReplicationTaskArn=arn)
    dms.get_waiter("replication_task_deleted").wait(Filters=flt, WaiterConfig=FAST)


def test_a_task_that_cannot_run_fails_with_its_message(dms, owner):
    instance = make_instance(dms)
    dms.describe_replication_instances()
    source, target = make_endpoints(dms)
    nothing = {
        "rules": [{**ALL_SHOP["rules"][0], "object-locator": {"schema-name": "nope", "table-name": "%"}}]
    }
    arn = _task(dms, instance["ReplicationInstanceArn"], source, target, nothing)["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    flt = [{"Name": "replication-task-arn", "Values": [arn]}]
    with pytest.raises(Exception, match=r"failed|Failure"):
        dms.get_waiter("replication_task_stopped").wait(Filters=flt, WaiterConfig=FAST)
    (failed,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
    assert failed["Status"] == "failed" and failed["LastFailureMessage"]


def test_start_needs_a_startable_task_and_stop_stops_a_running_one(dms, owner):
    instance = make_instance(dms)
    dms.describe_replication_instances()
    source, target = make_endpoints(dms)
    # A cdc task that stops only an hour from now: it is surely running when the stop comes.
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    arn = _task(
        dms,
        instance["ReplicationInstanceArn"],
        source,
        target,
        MigrationType="cdc",
        CdcStopPosition=f"server_time:{later}",
    )["ReplicationTaskArn"]
    with pytest.raises(ClientError) as first:
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    assert first.value.response["Error"]["Code"] == "InvalidParameterCombinationException"
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):  # not running
        dms.stop_replication_task(ReplicationTaskArn=arn)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    flt = [{"Name": "replication-task-arn", "Values": [arn]}]
    dms.get_waiter("replication_task_running").wait(Filters=flt, WaiterConfig=FAST)
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):  # running: stop it first
        dms.delete_replication_task(ReplicationTaskArn=arn)
    stopping = dms.stop_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]
    assert stopping["Status"] in ("stopping", "stopped")
    dms.get_waiter("replication_task_stopped").wait(Filters=flt, WaiterConfig=FAST)
    (done,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
    assert done["StopReason"] == "Stop Reason NORMAL", done
    assert done["RecoveryCheckpoint"].startswith("mysql-bin."), done  # where a resume would go on
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_cdc_positions_are_checked_at_create_and_start(dms, owner):
    instance = make_instance(dms)
    source, target = make_endpoints(dms)
    for bad in ({"CdcStopPosition": "tomorrow"}, {"CdcStartPosition": "binlog 7"}):
        with pytest.raises(ClientError) as refused:
            _task(dms, instance["ReplicationInstanceArn"], source, target, MigrationType="cdc", **bad)
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidParameterValueException" and "Cdc" in error["Message"], error


def test_a_task_without_an_owner_cannot_start(dms):
    instance = make_instance(dms)
    dms.describe_replication_instances()
    source, target = make_endpoints(dms)
    arn = dms.create_replication_task(
        ReplicationTaskIdentifier="orphan",
        SourceEndpointArn=source["EndpointArn"],
        TargetEndpointArn=target["EndpointArn"],
        ReplicationInstanceArn=instance["ReplicationInstanceArn"],
        MigrationType="full-load",
        TableMappings=json.dumps(ALL_SHOP),
    )["ReplicationTask"]["ReplicationTaskArn"]
    with pytest.raises(ClientError, match="no owner"):
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
