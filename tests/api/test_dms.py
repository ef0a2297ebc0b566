"""boto3's DMS client against the local server: replication tasks as AWS serves them (dms.md §0, §5)."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "shop",
            "object-locator": {"schema-name": "shop", "table-name": "%"},
            "rule-action": "include",
        }
    ]
}
ENDPOINTS = {
    "SourceEndpointArn": "arn:aws:dms:us-east-1:000000000000:endpoint:SOURCE",
    "TargetEndpointArn": "arn:aws:dms:us-east-1:000000000000:endpoint:TARGET",
    "ReplicationInstanceArn": "arn:aws:dms:us-east-1:000000000000:rep:derson",
}
NO_WAIT = {"Delay": 1, "MaxAttempts": 3}


def create(dms: Any, identifier: str, **overrides: Any) -> dict[str, Any]:
    params = {
        "ReplicationTaskIdentifier": identifier,
        "MigrationType": "full-load",
        "TableMappings": json.dumps(MAPPING),
        **ENDPOINTS,
        **overrides,
    }
    return dms.create_replication_task(**params)["ReplicationTask"]


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_a_created_task_is_ready_with_its_settings_merged_over_the_defaults(dms: Any) -> None:
    task = create(
        dms, "orders-full", ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}})
    )
    assert re.fullmatch(r"arn:aws:dms:us-east-1:000000000000:task:[A-Z0-9]{26}", task["ReplicationTaskArn"])
    assert task["Status"] == "ready"
    assert task["MigrationType"] == "full-load"
    assert isinstance(task["ReplicationTaskCreationDate"], datetime)
    settings = json.loads(task["ReplicationTaskSettings"])
    assert settings["Logging"]["EnableLogging"] is True
    assert "FullLoadSettings" in settings and "TargetMetadata" in settings
    assert task["ReplicationTaskStats"]["FullLoadProgressPercent"] == 0
    dms.get_waiter("replication_task_ready").wait(
        Filters=[{"Name": "replication-task-arn", "Values": [task["ReplicationTaskArn"]]}],
        WaiterConfig=NO_WAIT,
    )


def test_describe_filters_and_an_empty_result_is_resource_not_found(dms: Any) -> None:
    task = create(dms, "filtered", MigrationType="full-load-and-cdc")
    by_id = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-id", "Values": ["filtered"]}])
    assert [t["ReplicationTaskArn"] for t in by_id["ReplicationTasks"]] == [task["ReplicationTaskArn"]]
    by_type = dms.describe_replication_tasks(
        Filters=[{"Name": "migration-type", "Values": ["full-load-and-cdc"]}], WithoutSettings=True
    )["ReplicationTasks"]
    assert [t["ReplicationTaskIdentifier"] for t in by_type] == ["filtered"]
    assert "TableMappings" not in by_type[0] and "ReplicationTaskSettings" not in by_type[0]
    with pytest.raises(dms.exceptions.ResourceNotFoundFault) as exc:
        dms.describe_replication_tasks(Filters=[{"Name": "replication-task-id", "Values": ["nope"]}])
    assert exc.value.response["Error"]["Message"] == "No Tasks found matching provided filters"
    with pytest.raises(ClientError) as bad:
        dms.describe_replication_tasks(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert code(bad) == "InvalidParameterValueException"


def test_create_rejects_what_aws_rejects(dms: Any) -> None:
    create(dms, "taken")
    with pytest.raises(dms.exceptions.ResourceAlreadyExistsFault):
        create(dms, "taken")
    with pytest.raises(ClientError) as ident:
        create(dms, "1-starts-with-a-digit")
    assert code(ident) == "InvalidParameterValueException"
    assert "ReplicationTaskIdentifier must be 1-255 letters" in ident.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as migration:
        create(dms, "bad-type", MigrationType="bogus")
    assert code(migration) == "ValidationException"
    assert (
        "enum value set: [full-load, cdc, full-load-and-cdc]" in migration.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as mapping:
        create(dms, "bad-mapping", TableMappings="not json")
    assert code(mapping) == "InvalidParameterValueException"
    assert "TableMappings" in mapping.value.response["Error"]["Message"]
    broken_rule = {"rules": [{**MAPPING["rules"][0], "rule-acton": "include"}]}
    with pytest.raises(ClientError) as rule:
        create(dms, "bad-rule", TableMappings=json.dumps(broken_rule))
    assert "rule-acton" in rule.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as settings:
        create(dms, "bad-settings", ReplicationTaskSettings=json.dumps({"Loging": {}}))
    assert code(settings) == "InvalidParameterValueException"
    assert "Loging" in settings.value.response["Error"]["Message"]
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):  # nothing rejected was stored
        dms.describe_replication_tasks(Filters=[{"Name": "replication-task-id", "Values": ["bad-rule"]}])


def test_table_statistics_come_from_the_store_with_filters(dms: Any, server: Any) -> None:
    arn = create(dms, "with-tables")["ReplicationTaskArn"]
    assert dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"] == []
    server.store.reset_tables(
        arn, [("shop", "orders", 1, 100), ("shop", "customers", 0, 10)], keep_finished=False
    )
    server.store.set_table(arn, "shop", "orders", state="Table completed", full_load_rows=100)
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)
    assert stats["ReplicationTaskArn"] == arn
    by_table = {t["TableName"]: t for t in stats["TableStatistics"]}
    assert by_table["orders"]["FullLoadRows"] == 100 and by_table["orders"]["TableState"] == "Table completed"
    assert by_table["customers"]["TableState"] == "Before load"
    assert isinstance(by_table["orders"]["LastUpdateTime"], datetime)
    done = dms.describe_table_statistics(
        ReplicationTaskArn=arn, Filters=[{"Name": "table-state", "Values": ["Table completed"]}]
    )["TableStatistics"]
    assert [t["TableName"] for t in done] == ["orders"]
    task = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])
    assert task["ReplicationTasks"][0]["ReplicationTaskStats"]["TablesLoaded"] == 1
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_table_statistics(ReplicationTaskArn="arn:aws:dms:us-east-1:000000000000:task:NOPE")


def test_delete_answers_deleting_then_the_task_is_gone(dms: Any) -> None:
    arn = create(dms, "to-delete")["ReplicationTaskArn"]
    deleted = dms.delete_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]
    assert deleted["Status"] == "deleting" and deleted["ReplicationTaskArn"] == arn
    dms.get_waiter("replication_task_deleted").wait(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=NO_WAIT
    )
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.delete_replication_task(ReplicationTaskArn=arn)


def test_a_running_task_cannot_be_deleted(dms: Any, server: Any) -> None:
    arn = create(dms, "busy")["ReplicationTaskArn"]
    server.store.update_task(arn, status="running", pid=os.getpid())
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):
        dms.delete_replication_task(ReplicationTaskArn=arn)
    server.store.update_task(arn, status="stopped", pid=None)
    assert dms.delete_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]["Status"] == "deleting"


def test_a_sandbox_owners_source_endpoint_is_described_with_the_sandboxs_address(
    tmp_path, monkeypatch, sandbox
):
    """DMS-intake creates a ``sandbox: true`` owner's source endpoint knowing no host, port or user;
    the local DMS describes it with the running sandbox's, as a task on it reads (not 3306 and '')."""
    from dersonlake.api.dms import DmsApi
    from dersonlake.replication import ReplicationStore

    home = tmp_path / "home"
    home.mkdir()
    (home / "sandbox").symlink_to(sandbox.dir)  # the session's sandbox as this home's default one
    monkeypatch.setenv("DERSON_HOME", str(home))
    owner = tmp_path / "owners" / "sample"
    owner.mkdir(parents=True)
    (owner / "owner.yaml").write_text(
        "source:\n  engine: mariadb\n  sandbox: true\n  databases: [shop]\n"
        f"target:\n  uri: {tmp_path / 'lake'}\nmigration_type: full-load\n"
    )
    (owner / "mapping.json").write_text(json.dumps(MAPPING))
    (owner / "task_settings.json").write_text("{}")
    api = DmsApi(ReplicationStore(tmp_path / "replication.sqlite"), owners_dir=tmp_path / "owners")
    created = api.call(
        "CreateEndpoint",
        {"EndpointIdentifier": "derson-sample-source", "EndpointType": "source", "EngineName": "mariadb",
         "Port": 3306, "Username": "", "DatabaseName": "shop",
         "Tags": [{"Key": "derson-lake:owner", "Value": "sample"}]},
    )["Endpoint"]  # fmt: skip
    assert (created["ServerName"], created["Port"], created["Username"]) == (
        sandbox.host,
        sandbox.port,
        sandbox.replication_user,
    )
    described = api.call("DescribeEndpoints", {})["Endpoints"][0]
    assert described["Port"] == sandbox.port and described["Username"] == sandbox.replication_user
