"""The DMS-intake Lambda's seven steps, one by one, against the local DMS API (boto3, real loads)."""

from __future__ import annotations

import time

import pytest

from dersonlake.intake.errors import DeltaNotAvailable, IcebergNotDeployed, UnknownStep
from dersonlake.intake.lambda_function import lambda_handler


def step(name: str, owner: str = "acme", **extra):
    return lambda_handler(
        {"owner": owner, "step": name, "delta": False, "instance": {}, "task": {}, **extra}, None
    )


def test_the_seven_steps_in_order_each_one_safe_to_retry(lambda_env, owner, owners_root, dms):
    created = step("create_instance")
    assert created["ReplicationInstanceStatus"] == "creating"
    assert step("create_instance")["ReplicationInstanceArn"] == created["ReplicationInstanceArn"]
    instance = {"ReplicationInstanceArn": created["ReplicationInstanceArn"]}
    checked = step("check_instance_status", instance=instance)
    assert checked == {**instance, "ReplicationInstanceStatus": "available"}

    task = step("create_replication_task", instance=checked)
    assert task["Status"] == "ready" and {"ReplicationTaskArn", "Status"} <= set(task)
    assert (
        step("create_replication_task", instance=checked)["ReplicationTaskArn"] == task["ReplicationTaskArn"]
    )
    ref = {"ReplicationTaskArn": task["ReplicationTaskArn"]}
    started = step("start_replication_task", instance=checked, task=task)
    assert started["Status"] in ("starting", "running", "stopped")
    step("start_replication_task", instance=checked, task=task)  # a retry does not start it twice
    deadline = time.monotonic() + 60
    while (status := step("check_replication_task_status", task=ref))["Status"] != "stopped":
        assert status["Status"] in ("starting", "running"), status
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert list((owners_root / "lake").rglob("*.parquet"))

    with pytest.raises(Exception) as busy:  # the task still holds the instance: retried by the pipeline
        step("delete_instance", instance=checked)
    assert type(busy.value).__name__ == "InvalidResourceStateFault"
    assert step("delete_task", task=ref)["deleted"] is True
    assert step("delete_task", task=ref)["deleted"] is False
    assert step("delete_instance", instance=checked)["deleted"] is True
    assert step("delete_instance", instance=checked)["deleted"] is False
    for op in ("describe_replication_instances", "describe_replication_tasks", "describe_endpoints"):
        with pytest.raises(dms.exceptions.ResourceNotFoundFault):
            getattr(dms, op)()


def test_the_deletes_find_resources_by_the_owners_identifier(lambda_env, owner):
    step("create_instance")
    step("check_instance_status")
    step("create_replication_task")
    assert step("delete_task")["deleted"] is True  # task: {} (the ARN was never recorded)
    assert step("delete_instance")["deleted"] is True


def test_a_check_before_anything_exists_is_not_found(lambda_env, owner):
    with pytest.raises(Exception) as missing:
        step("check_instance_status")
    assert type(missing.value).__name__ == "ResourceNotFoundFault"


def test_delta_of_a_full_load_owner_is_refused_before_anything_is_created(lambda_env, owner, dms):
    with pytest.raises(DeltaNotAvailable, match="migration_type: full-load-and-cdc"):
        lambda_handler({"owner": "acme", "step": "create_instance", "delta": True}, None)
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_replication_instances()
    assert (
        lambda_handler({"owner": "acme", "step": "delete_instance", "delta": True}, None)["deleted"] is False
    )


def test_an_unknown_step_or_owner(lambda_env, owner):
    with pytest.raises(UnknownStep, match="start_everything"):
        step("start_everything")
    with pytest.raises(Exception, match="unknown owner 'ghost'") as unknown:
        step("create_instance", owner="ghost")  # before anything is created
    assert type(unknown.value).__name__ == "BadInput"
    with pytest.raises(Exception, match="unknown owner 'ghost'"):
        step("create_replication_task", owner="ghost")
    assert step("delete_task", owner="ghost")["deleted"] is False  # the cleanup needs no owner files
    assert step("delete_instance", owner="ghost")["deleted"] is False


def test_standing_replication_is_used_not_created_nor_deleted(lambda_env, owner, dms, monkeypatch):
    """DERSON_STANDING_REPLICATION: Terraform's instance and per-owner task, reloaded run after run."""
    monkeypatch.setenv("DERSON_STANDING_REPLICATION", "true")
    monkeypatch.setenv("DERSON_RESOURCE_PREFIX", "dl")
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="dl-replication", ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]
    assert step("create_instance")["ReplicationInstanceArn"] == instance["ReplicationInstanceArn"]
    assert step("check_instance_status")["ReplicationInstanceStatus"] == "available"
    with pytest.raises(Exception) as missing:  # the standing task is Terraform's to create
        step("create_replication_task")
    assert type(missing.value).__name__ == "ResourceNotFoundFault"
    monkeypatch.setenv("DERSON_STANDING_REPLICATION", "false")
    made = step(
        "create_replication_task", instance=instance
    )  # stands in for Terraform's task (same name: dl-acme)
    monkeypatch.setenv("DERSON_STANDING_REPLICATION", "true")
    for _run in range(2):
        assert step("create_replication_task")["ReplicationTaskArn"] == made["ReplicationTaskArn"]
        step("start_replication_task")
        deadline = time.monotonic() + 60
        while (status := step("check_replication_task_status"))["Status"] != "stopped":
            assert time.monotonic() < deadline and status["Status"] != "failed", status
            time.sleep(0.1)
        assert status["FullLoadRows"] > 0
        assert step("delete_task")["deleted"] is False
        assert step("delete_instance")["deleted"] is False
    (task,) = dms.describe_replication_tasks()["ReplicationTasks"]
    assert task["ReplicationTaskIdentifier"] == "dl-acme" and task["Status"] == "stopped"


def test_the_iceberg_step_is_a_no_op_here_unless_the_owner_keeps_iceberg_tables(
    lambda_env, owners_root, sandbox
):
    """Terraform points DMS-Handler's Iceberg step at DMS-intake when no owner keeps Iceberg tables
    (no container image to build): the step then returns at once; an owner that does keep them
    fails loudly (the deployment lacks DMS-iceberg) instead of leaving its tables behind."""
    from tests.replication.conftest import write_owner

    write_owner(owners_root, sandbox, name="acme")
    assert step("update_iceberg_tables") == {"IcebergTables": "none", "owner": "acme"}
    write_owner(owners_root, sandbox, name="acme", target={"tables": "iceberg"})
    with pytest.raises(IcebergNotDeployed, match="iceberg_image_uri"):
        step("update_iceberg_tables")
