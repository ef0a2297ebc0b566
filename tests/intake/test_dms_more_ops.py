"""The DMS operations Terraform and DMS users need beyond the seed's flow, served locally and driven
with boto3 (and once with the ``aws`` CLI): tags, replication subnet groups, ModifyEndpoint,
ModifyReplicationInstance, ModifyReplicationTask, ReloadTables, TestConnection + DescribeConnections.

A task is held in ``starting`` for real by a source that never answers (see the test); the
sandbox's data is never changed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from tests.intake.test_dms_api import FAST, _task, make_endpoints, make_instance
from tests.replication.conftest import write_owner

AWS = Path(sys.executable).parent / "aws"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def available_instance(dms):
    instance = make_instance(dms)
    dms.describe_replication_instances()  # creating -> available
    return instance["ReplicationInstanceArn"]


def wait_status(dms, arn, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        (task,) = dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
        )["ReplicationTasks"]
        if task["Status"] in wanted:
            return task
        assert time.monotonic() < deadline, task
        time.sleep(0.05)


def stats(dms, arn):
    rows = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return {(r["SchemaName"], r["TableName"]): r for r in rows}


# -- tags -------------------------------------------------------------------------------------------
def test_tags_are_kept_per_resource_replaced_by_key_and_dropped_with_it(dms):
    source, target = make_endpoints(dms)
    arn = source["EndpointArn"]
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == []
    dms.add_tags_to_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "dev"}]
    )
    dms.add_tags_to_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    tags = dms.list_tags_for_resource(ResourceArn=arn)["TagList"]
    assert tags == [
        {"Key": "env", "Value": "prod", "ResourceArn": arn},
        {"Key": "team", "Value": "data", "ResourceArn": arn},
    ]
    dms.remove_tags_from_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert [t["Key"] for t in dms.list_tags_for_resource(ResourceArn=arn)["TagList"]] == ["env"]
    both = dms.list_tags_for_resource(ResourceArnList=[arn, target["EndpointArn"]])["TagList"]
    assert [t["ResourceArn"] for t in both] == [arn]

    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="tagged",
        ReplicationInstanceClass="dms.t3.micro",
        Tags=[{"Key": "owner", "Value": "acme"}],
    )["ReplicationInstance"]
    listed = dms.list_tags_for_resource(ResourceArn=instance["ReplicationInstanceArn"])["TagList"]
    assert [(t["Key"], t["Value"]) for t in listed] == [("owner", "acme")]

    dms.delete_endpoint(EndpointArn=arn)
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.list_tags_for_resource(ResourceArn=arn)
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.add_tags_to_resource(
            ResourceArn=arn.replace("endpoint:", "endpoint:X"), Tags=[{"Key": "a", "Value": "b"}]
        )


# -- subnet groups ----------------------------------------------------------------------------------
def test_subnet_groups_are_described_modified_and_kept_while_an_instance_uses_them(dms):
    made = dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="Lake-Private",
        ReplicationSubnetGroupDescription="two zones",
        SubnetIds=["subnet-a", "subnet-b"],
        Tags=[{"Key": "k", "Value": "v"}],
    )["ReplicationSubnetGroup"]
    assert made["ReplicationSubnetGroupIdentifier"] == "lake-private"
    assert [s["SubnetIdentifier"] for s in made["Subnets"]] == ["subnet-a", "subnet-b"]
    assert made["SubnetGroupStatus"] == "Complete" and made["VpcId"].startswith("vpc-")
    arn = "arn:aws:dms:us-east-1:000000000000:subgrp:lake-private"
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"][0]["Key"] == "k"
    with pytest.raises(ClientError) as one:
        dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="solo",
            ReplicationSubnetGroupDescription="x",
            SubnetIds=["subnet-a"],
        )
    assert code(one) == "InvalidParameterValueException"

    dms.modify_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="lake-private", SubnetIds=["subnet-a", "subnet-c"]
    )
    (group,) = dms.describe_replication_subnet_groups(
        Filters=[{"Name": "replication-subnet-group-id", "Values": ["lake-private"]}]
    )["ReplicationSubnetGroups"]
    assert [s["SubnetIdentifier"] for s in group["Subnets"]] == ["subnet-a", "subnet-c"]
    assert group["ReplicationSubnetGroupDescription"] == "two zones"

    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="in-group",
        ReplicationInstanceClass="dms.t3.micro",
        ReplicationSubnetGroupIdentifier="lake-private",
        VpcSecurityGroupIds=["sg-1"],
        PubliclyAccessible=False,
    )["ReplicationInstance"]
    assert instance["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == "lake-private"
    assert instance["VpcSecurityGroups"] == [{"VpcSecurityGroupId": "sg-1", "Status": "active"}]
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):
        dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="lake-private")

    modified = dms.modify_replication_instance(
        ReplicationInstanceArn=instance["ReplicationInstanceArn"], AllocatedStorage=100, ApplyImmediately=True
    )["ReplicationInstance"]
    assert modified["AllocatedStorage"] == 100 and modified["ReplicationInstanceClass"] == "dms.t3.micro"

    dms.delete_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"])
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_replication_instances()  # deleting -> gone
    dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="lake-private")
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_replication_subnet_groups()
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.list_tags_for_resource(ResourceArn=arn)


def test_modify_endpoint_merges_settings_and_never_keeps_the_password(dms):
    _source, target = make_endpoints(dms)
    changed = dms.modify_endpoint(
        EndpointArn=target["EndpointArn"], S3Settings={"CompressionType": "GZIP"}, Password="ignored"
    )["Endpoint"]
    assert changed["S3Settings"] == {
        "BucketName": "lake",
        "BucketFolder": "acme",
        "DataFormat": "parquet",
        "CompressionType": "GZIP",  # the model spells it gzip; DMS takes either (dms.md §3.1)
    }
    assert "Password" not in changed
    with pytest.raises(ClientError) as wrong:  # case and -/_ are loose, the value set is not
        dms.modify_endpoint(EndpointArn=target["EndpointArn"], S3Settings={"CompressionType": "zip"})
    assert code(wrong) == "ValidationException" and "gzip" in str(wrong.value)
    (only,) = dms.describe_endpoints(Filters=[{"Name": "endpoint-type", "Values": ["target"]}])["Endpoints"]
    assert only["EndpointArn"] == target["EndpointArn"]
    exact = dms.modify_endpoint(
        EndpointArn=target["EndpointArn"], S3Settings={"BucketName": "other"}, ExactSettings=True
    )["Endpoint"]
    assert exact["S3Settings"] == {"BucketName": "other"}


# -- ModifyReplicationTask and ReloadTables --------------------------------------------------------
def test_modify_task_only_when_not_running_and_settings_merge(dms, owner, owners_root, sandbox):
    instance = available_instance(dms)
    source, target = make_endpoints(dms)
    arn = _task(dms, instance, source, target)["ReplicationTaskArn"]
    one_table = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "customers",
                "object-locator": {"schema-name": "shop", "table-name": "customers"},
                "rule-action": "include",
            }
        ]
    }
    answer = dms.modify_replication_task(
        ReplicationTaskArn=arn,
        ReplicationTaskIdentifier="derson-acme-2",
        TableMappings=json.dumps(one_table),
        ReplicationTaskSettings=json.dumps({"FullLoadSettings": {"MaxFullLoadSubTasks": 3}}),
    )["ReplicationTask"]
    assert answer["Status"] == "modifying"
    task = wait_status(dms, arn, ("ready",))
    assert task["ReplicationTaskIdentifier"] == "derson-acme-2"
    (full,) = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
        "ReplicationTasks"
    ]
    settings = json.loads(full["ReplicationTaskSettings"])
    assert settings["FullLoadSettings"]["MaxFullLoadSubTasks"] == 3
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DROP_AND_CREATE"  # merged, not replaced
    assert json.loads(full["TableMappings"]) == one_table
    with pytest.raises(ClientError) as bad:
        dms.modify_replication_task(ReplicationTaskArn=arn, TableMappings='{"rules": [{"rule-typ": "x"}]}')
    assert code(bad) == "InvalidParameterValueException" and "TableMappings" in str(bad.value)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    done = wait_status(dms, arn, ("stopped", "failed"))
    assert done["Status"] == "stopped" and done["MigrationType"] == "full-load"
    assert set(stats(dms, arn)) == {("shop", "customers")}  # the modified mapping ran


def test_a_starting_task_cannot_be_modified(dms, owners_root, sandbox):
    """Held in ``starting`` for real: its owner's source accepts TCP connections but never sends
    MySQL's greeting, so discovery waits; closing the listener then resets the connection and the
    task fails."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    port = silent.getsockname()[1]
    try:
        folder = write_owner(owners_root, sandbox, name="silent")
        doc = yaml.safe_load((folder / "owner.yaml").read_text())
        doc["source"].update(port=silent.getsockname()[1])
        (folder / "owner.yaml").write_text(yaml.safe_dump(doc))
        instance = available_instance(dms)
        source, target = make_endpoints(dms)
        arn = _task(dms, instance, source, target, owner="silent")["ReplicationTaskArn"]
        starter = threading.Thread(
            target=dms.start_replication_task,
            kwargs={"ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"},
        )
        starter.start()
        wait_status(dms, arn, ("starting",))
        with pytest.raises(dms.exceptions.InvalidResourceStateFault):
            dms.modify_replication_task(ReplicationTaskArn=arn, MigrationType="full-load-and-cdc")
        with pytest.raises(dms.exceptions.InvalidResourceStateFault):
            dms.reload_tables(
                ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "shop", "TableName": "orders"}]
            )
    finally:
        silent.close()
    starter.join(timeout=30)
    failed = wait_status(dms, arn, ("failed",))
    assert failed["MigrationType"] == "full-load"
    assert f"cannot connect to MySQL at 127.0.0.1:{port}" in failed["LastFailureMessage"]


def test_reload_tables_of_a_stopped_task_loads_just_them_again(dms, owner, owners_root):
    instance = available_instance(dms)
    source, target = make_endpoints(dms)
    arn = _task(dms, instance, source, target)["ReplicationTaskArn"]
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):  # never ran
        dms.reload_tables(
            ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "shop", "TableName": "customers"}]
        )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_status(dms, arn, ("stopped",))
    before = stats(dms, arn)
    assert not any(r["FullLoadReloaded"] for r in before.values())
    customers_files = sorted((owners_root / "lake" / "shop" / "customers").rglob("*.parquet"))
    first_mtimes = [p.stat().st_mtime_ns for p in customers_files]
    orders_mtimes = [
        p.stat().st_mtime_ns for p in sorted((owners_root / "lake" / "shop" / "orders").rglob("*"))
    ]

    with pytest.raises(ClientError) as unknown:
        dms.reload_tables(
            ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "shop", "TableName": "nope"}]
        )
    assert code(unknown) == "InvalidParameterValueException" and "shop.nope" in str(unknown.value)
    many = [{"SchemaName": "shop", "TableName": f"t{i}"} for i in range(11)]
    with pytest.raises(ClientError) as too_many:
        dms.reload_tables(ReplicationTaskArn=arn, TablesToReload=many)
    assert code(too_many) == "InvalidParameterValueException"

    answer = dms.reload_tables(
        ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "shop", "TableName": "customers"}]
    )
    assert answer["ReplicationTaskArn"] == arn
    wait_status(dms, arn, ("stopped",))
    deadline = time.monotonic() + 60
    while not (after := stats(dms, arn))[("shop", "customers")]["FullLoadReloaded"]:
        assert time.monotonic() < deadline, after[("shop", "customers")]
        time.sleep(0.05)
    wait_status(dms, arn, ("stopped",))
    row = after[("shop", "customers")]
    assert row["TableState"] == "Table completed"
    assert row["FullLoadRows"] == before[("shop", "customers")]["FullLoadRows"]
    assert not after[("shop", "orders")]["FullLoadReloaded"]
    assert after[("shop", "orders")]["FullLoadRows"] == before[("shop", "orders")]["FullLoadRows"]
    reloaded = sorted((owners_root / "lake" / "shop" / "customers").rglob("*.parquet"))
    assert reloaded and [p.stat().st_mtime_ns for p in reloaded] != first_mtimes
    assert [p.stat().st_mtime_ns for p in sorted((owners_root / "lake" / "shop" / "orders").rglob("*"))] == (
        orders_mtimes
    )


def test_reload_tables_right_after_start_ends_with_the_table_reloaded(dms, owner):
    """Asked while the load runs, the reload waits for it to end; asked after, it runs at once.
    Which of the two happens depends on how fast the load is, so only the outcome is checked."""
    instance = available_instance(dms)
    source, target = make_endpoints(dms)
    arn = _task(dms, instance, source, target)["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_status(dms, arn, ("running", "stopped"))
    dms.reload_tables(ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "shop", "TableName": "orders"}])
    deadline = time.monotonic() + 60
    while not (after := stats(dms, arn))[("shop", "orders")]["FullLoadReloaded"]:
        assert time.monotonic() < deadline, after[("shop", "orders")]
        time.sleep(0.05)
    done = wait_status(dms, arn, ("stopped",))
    assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert after[("shop", "orders")]["TableState"] == "Table completed"
    assert not after[("shop", "customers")]["FullLoadReloaded"]


# -- TestConnection ---------------------------------------------------------------------------------
def test_test_connection_really_connects(dms, owner, sandbox):
    instance = available_instance(dms)
    good = dms.create_endpoint(
        EndpointIdentifier="sandbox-source",
        EndpointType="source",
        EngineName="mariadb",
        ServerName="127.0.0.1",
        Port=sandbox.port,
        Username=sandbox.replication_user,
        Password=Path(sandbox.password_file).read_text().strip(),
    )["Endpoint"]
    wrong = dms.create_endpoint(
        EndpointIdentifier="wrong-password",
        EndpointType="source",
        EngineName="mariadb",
        ServerName="127.0.0.1",
        Port=sandbox.port,
        Username=sandbox.replication_user,
        Password="not-the-password",
    )["Endpoint"]
    for endpoint in (good, wrong):
        answer = dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint["EndpointArn"])
        assert answer["Connection"]["Status"] == "testing"
    dms.get_waiter("test_connection_succeeds").wait(
        Filters=[{"Name": "endpoint-arn", "Values": [good["EndpointArn"]]}], WaiterConfig=FAST
    )
    deadline = time.monotonic() + 30
    while True:
        (conn,) = dms.describe_connections(
            Filters=[{"Name": "endpoint-arn", "Values": [wrong["EndpointArn"]]}]
        )["Connections"]
        if conn["Status"] != "testing":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert conn["Status"] == "failed" and "Access denied" in conn["LastFailureMessage"]
    assert "not-the-password" not in json.dumps(conn)
    assert conn["EndpointIdentifier"] == "wrong-password"
    described = dms.describe_connections(Filters=[{"Name": "replication-instance-arn", "Values": [instance]}])
    assert len(described["Connections"]) == 2
    dms.delete_endpoint(EndpointArn=good["EndpointArn"])
    assert len(dms.describe_connections()["Connections"]) == 1


def test_test_connection_needs_an_available_instance(dms):
    created = make_instance(dms)["ReplicationInstanceArn"]  # still creating
    source, _ = make_endpoints(dms)
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):
        dms.test_connection(ReplicationInstanceArn=created, EndpointArn=source["EndpointArn"])


def test_the_aws_cli_tags_and_tests_a_connection(server, owner, dms):
    """The real ``aws`` CLI against the server: tags, test-connection of an owner's endpoints."""
    instance = available_instance(dms)
    source = dms.create_endpoint(
        EndpointIdentifier="acme-owner-source",
        EndpointType="source",
        EngineName="mariadb",
        Tags=[{"Key": "derson-lake:owner", "Value": "acme"}],
    )["Endpoint"]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }

    def aws(*args: str) -> dict:
        proc = subprocess.run(
            [str(AWS), "--endpoint-url", server.url, "--output", "json", "dms", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    arn = source["EndpointArn"]
    aws("add-tags-to-resource", "--resource-arn", arn, "--tags", "Key=team,Value=data")
    keys = [t["Key"] for t in aws("list-tags-for-resource", "--resource-arn", arn)["TagList"]]
    assert keys == ["derson-lake:owner", "team"]
    aws("remove-tags-from-resource", "--resource-arn", arn, "--tag-keys", "team")
    assert len(aws("list-tags-for-resource", "--resource-arn", arn)["TagList"]) == 1

    started = aws("test-connection", "--replication-instance-arn", instance, "--endpoint-arn", arn)
    assert started["Connection"]["Status"] == "testing"
    aws("wait", "test-connection-succeeds", "--filters", f"Name=endpoint-arn,Values={arn}")
    (conn,) = aws("describe-connections", "--filters", f"Name=endpoint-arn,Values={arn}")["Connections"]
    assert conn["Status"] == "successful"
