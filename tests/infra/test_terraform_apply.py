"""terraform apply / plan / destroy of the root module against real endpoints on this machine.

DMS and Step Functions are ``derson-lake serve`` (a subprocess); IAM, STS, S3, Lambda, SNS,
CloudWatch Logs, Glue (and the rest the provider may touch) are one moto server. The AWS provider, a
client nobody here wrote, creates every resource of the deployment (standing replication, lake
bucket, e-mail subscription on), a second ``plan -detailed-exitcode`` must show no change; a change
of an owner's settings and of the pipelines' log level is applied in place and shows no change
after; ``destroy`` must leave nothing, checked with boto3 describes against both servers.

The one patch: moto's Lambda drops ``LoggingConfig`` (AWS returns it); see local_aws.py.
Slow (the provider's DMS waiters poll every 30 s): a few minutes. Skipped without terraform; fails
without the provider mirror (as test_terraform.py).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.infra import local_aws, tf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(tf.terraform_bin() is None, reason="no terraform binary on PATH: apply not run"),
]

ACCOUNT, REGION = local_aws.ACCOUNT, local_aws.REGION
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:derson-lake/shop-AbCdEf"
APPLY_TIMEOUT = 900
ICEBERG_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/derson-lake-iceberg:test"
ALARMS = (
    "derson-lake-executions-failed",
    "derson-lake-executions-timed-out",
    "derson-lake-executions-aborted",
    "derson-lake-intake-errors",
    "derson-lake-intake-throttles",
    "derson-lake-lake-stale",
)


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _workdir(base: Path, moto_url: str, serve_url: str) -> Path:
    root = base / "terraform"
    shutil.copytree(
        tf.TF_ROOT, root, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
    )
    (root / "zz_local_override.tf").write_text(local_aws.provider_override(moto_url, serve_url))
    with zipfile.ZipFile(base / "dms-intake.zip", "w") as z:
        z.writestr(
            "dersonlake/intake/lambda_function.py", "def lambda_handler(event, context):\n    return {}\n"
        )
    tfvars = {
        "aws_region": REGION,
        "lake_bucket_name": "derson-lake-apply-test",
        "create_lake_bucket": True,
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "lambda_zip_path": str(base / "dms-intake.zip"),
        "iceberg_image_uri": ICEBERG_IMAGE,  # dersonLake keeps Iceberg tables (owner.yaml)
        "standing_replication": True,
        "error_email": "ops@example.com",
        "owners": {"dersonLake": {"source": {"secret_arn": SECRET}}},
    }
    (root / "local.auto.tfvars.json").write_text(json.dumps(tfvars))
    return root


def _not_found(call: Any, error: type[Exception]) -> bool:
    try:
        call()
    except error:
        return True
    return False


@pytest.fixture(scope="module")
def mirror():
    path, how = tf.find_mirror()
    if path is None:
        pytest.fail(how, pytrace=False)
    return path


def test_apply_then_no_drift_then_destroy_leaves_nothing(mirror, tmp_path):
    with local_aws.moto_server() as moto_url, local_aws.serve_process(tmp_path / "serve") as serve_url:
        root = _workdir(tmp_path, moto_url, serve_url)
        tf.run_tf(["init", "-backend=false", "-input=false", f"-plugin-dir={mirror}"], cwd=root, timeout=180)
        tf.run_tf(["apply", "-auto-approve", "-input=false", "-no-color"], cwd=root, timeout=APPLY_TIMEOUT)

        dms, sfn = _client("dms", serve_url), _client("stepfunctions", serve_url)
        _check_deployed(root, dms, sfn, moto_url)

        plan = tf.run_tf(
            ["plan", "-detailed-exitcode", "-input=false", "-no-color"],
            cwd=root,
            timeout=APPLY_TIMEOUT,
            check=False,
        )
        assert plan.returncode == 0, f"the second plan shows changes (drift):\n{plan.stdout[-6000:]}"

        # An owner's settings and the pipelines' logging change: the provider updates in place
        # (ModifyEndpoint, ModifyReplicationTask, UpdateStateMachine), and then sees no drift again.
        owner_file = root / "owners" / "dersonLake.json"
        owner = json.loads(owner_file.read_text())
        owner["s3_settings"]["cdc_max_batch_interval"] = 60
        owner["task_settings"]["FullLoadSettings"]["MaxFullLoadSubTasks"] = 2
        owner_file.write_text(json.dumps(owner))
        tfvars = root / "local.auto.tfvars.json"
        tfvars.write_text(json.dumps({**json.loads(tfvars.read_text()), "pipeline_log_level": "ALL"}))
        changed = tf.run_tf(
            ["apply", "-auto-approve", "-input=false", "-no-color"], cwd=root, timeout=APPLY_TIMEOUT
        )
        assert "0 added, 5 changed, 0 destroyed" in changed.stdout, changed.stdout[-3000:]
        _check_updated(dms, sfn)
        plan = tf.run_tf(
            ["plan", "-detailed-exitcode", "-input=false", "-no-color"],
            cwd=root,
            timeout=APPLY_TIMEOUT,
            check=False,
        )
        assert plan.returncode == 0, f"drift after the update:\n{plan.stdout[-6000:]}"

        tf.run_tf(["destroy", "-auto-approve", "-input=false", "-no-color"], cwd=root, timeout=APPLY_TIMEOUT)
        _check_nothing_left(dms, sfn, moto_url)


def _check_updated(dms: Any, sfn: Any) -> None:
    (target,) = dms.describe_endpoints(Filters=[{"Name": "endpoint-type", "Values": ["target"]}])["Endpoints"]
    assert target["S3Settings"]["CdcMaxBatchInterval"] == 60
    (task,) = dms.describe_replication_tasks()["ReplicationTasks"]
    assert json.loads(task["ReplicationTaskSettings"])["FullLoadSettings"]["MaxFullLoadSubTasks"] == 2
    for machine in sfn.list_state_machines()["stateMachines"]:
        described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
        assert described["loggingConfiguration"]["level"] == "ALL", machine["name"]


def _check_deployed(root: Path, dms: Any, sfn: Any, moto_url: str) -> None:
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    assert sorted(machines) == ["DMS-ErrorHandling", "DMS-Handler", "derson-Main"]
    main = sfn.describe_state_machine(stateMachineArn=machines["derson-Main"])
    assert (
        main["loggingConfiguration"]["level"] == "ERROR" and main["tracingConfiguration"]["enabled"] is True
    )
    assert "arn:aws:states:us-east-1:123456789012:stateMachine:DMS-Handler" in main["definition"]
    tags = sfn.list_tags_for_resource(resourceArn=machines["derson-Main"])["tags"]
    assert {"key": "derson-lake", "value": "derson-lake"} in tags

    endpoints = {e["EndpointIdentifier"]: e for e in dms.describe_endpoints()["Endpoints"]}
    assert sorted(endpoints) == ["derson-lake-dersonlake-source", "derson-lake-dersonlake-target"]
    target = endpoints["derson-lake-dersonlake-target"]
    assert target["S3Settings"]["BucketFolder"] == "dms/dersonLake"
    assert target["S3Settings"]["TimestampColumnName"] == "ingested_at"
    owner_tags = dms.list_tags_for_resource(ResourceArn=target["EndpointArn"])["TagList"]
    assert {
        "Key": "derson-lake:owner",
        "Value": "dersonLake",
        "ResourceArn": target["EndpointArn"],
    } in owner_tags

    (task,) = dms.describe_replication_tasks()["ReplicationTasks"]
    assert task["ReplicationTaskIdentifier"] == "derson-lake-dersonlake" and task["Status"] == "ready"
    merged = json.loads((root / "owners" / "dersonLake.json").read_text())["task_settings"]
    stored = json.loads(task["ReplicationTaskSettings"])
    assert stored["TargetMetadata"] == merged["TargetMetadata"]
    (instance,) = dms.describe_replication_instances()["ReplicationInstances"]
    assert instance["PubliclyAccessible"] is False
    assert instance["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == "derson-lake-replication"

    lam = _client("lambda", moto_url).get_function(FunctionName="DMS-intake")["Configuration"]
    assert (
        lam["Handler"] == "dersonlake.intake.lambda_function.lambda_handler"
        and lam["Runtime"] == "python3.12"
    )
    assert (
        json.loads(lam["Environment"]["Variables"]["DERSON_ENDPOINTS"])["dersonLake"]["target"]
        == (target["EndpointArn"])
    )
    roles = {r["RoleName"] for r in _client("iam", moto_url).list_roles()["Roles"]}
    assert {"dms-vpc-role", "derson-lake-dms-intake", "derson-lake-step-functions"} <= roles
    _check_iceberg(sfn, machines["DMS-Handler"], moto_url)
    _check_schedule_and_alarms(root, machines["derson-Main"], moto_url)


def _check_iceberg(sfn: Any, handler_arn: str, moto_url: str) -> None:
    """dersonLake keeps Iceberg tables: the Glue database of its namespace, the DMS-iceberg image
    function with its role, and DMS-Handler's Iceberg step calling it."""
    (db,) = _client("glue", moto_url).get_databases()["DatabaseList"]
    assert db["Name"] == "shop" and "dersonLake" in db["Description"]
    fn = _client("lambda", moto_url).get_function(FunctionName="DMS-iceberg")
    assert fn["Configuration"]["PackageType"] == "Image" and fn["Code"]["ImageUri"] == ICEBERG_IMAGE
    assert fn["Configuration"]["Role"].endswith(":role/derson-lake-dms-iceberg")
    env = fn["Configuration"]["Environment"]["Variables"]
    assert json.loads(env["DERSON_LAKES"]) == {"dersonLake": "s3://derson-lake-apply-test/dms/dersonLake"}
    states = json.loads(sfn.describe_state_machine(stateMachineArn=handler_arn)["definition"])["States"]
    assert states["UpdateIcebergTables"]["Parameters"]["FunctionName"] == fn["Configuration"]["FunctionArn"]


def _check_schedule_and_alarms(root: Path, main_arn: str, moto_url: str) -> None:
    """The owner's schedule, its role, the alarms and the DMS rule, as moto's APIs return them."""
    schedule = _client("scheduler", moto_url).get_schedule(Name="derson-lake-dersonLake")
    owner = json.loads((root / "owners" / "dersonLake.json").read_text())["schedule"]
    assert schedule["ScheduleExpression"] == owner["expression"] == "rate(15 minutes)"
    assert schedule["ScheduleExpressionTimezone"] == "America/Sao_Paulo" and schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == main_arn
    assert json.loads(schedule["Target"]["Input"]) == {"owner": "dersonLake", "delta": True}
    iam = _client("iam", moto_url)
    assert schedule["Target"]["RoleArn"] == iam.get_role(RoleName="derson-lake-scheduler")["Role"]["Arn"]
    policy = iam.get_role_policy(RoleName="derson-lake-scheduler", PolicyName="start-derson-main")
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "states:StartExecution" and statement["Resource"] == main_arn

    alarms = {a["AlarmName"]: a for a in _client("cloudwatch", moto_url).describe_alarms()["MetricAlarms"]}
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:derson-lake-errors"
    for name in ALARMS:
        assert alarms[name]["AlarmActions"] == [topic] and alarms[name]["OKActions"] == [topic], name
    stale = alarms["derson-lake-lake-stale"]
    assert stale["MetricName"] == "ExecutionsSucceeded" and stale["TreatMissingData"] == "breaching"
    assert stale["Period"] == 900 and stale["EvaluationPeriods"] == 3
    events = _client("events", moto_url)
    rule = events.describe_rule(Name="derson-lake-dms-task-failed")
    assert json.loads(rule["EventPattern"])["source"] == ["aws.dms"]
    (target,) = events.list_targets_by_rule(Rule="derson-lake-dms-task-failed")["Targets"]
    assert target["Arn"] == topic


def _check_nothing_left(dms: Any, sfn: Any, moto_url: str) -> None:
    """Nothing of the deployment is left. moto's state lives in this process and other tests' moto
    servers share it, so its services are checked for the deployment's names, not for emptiness."""
    assert sfn.list_state_machines()["stateMachines"] == []
    missing = dms.exceptions.ResourceNotFoundFault
    assert _not_found(dms.describe_endpoints, missing)
    assert _not_found(dms.describe_replication_tasks, missing)
    assert _not_found(dms.describe_replication_instances, missing)
    assert _not_found(dms.describe_replication_subnet_groups, missing)

    roles = {r["RoleName"] for r in _client("iam", moto_url).list_roles()["Roles"]}
    assert not [r for r in roles if r.startswith("derson-lake-") or r.startswith("dms-")], roles
    functions = [f["FunctionName"] for f in _client("lambda", moto_url).list_functions()["Functions"]]
    assert "DMS-intake" not in functions and "DMS-iceberg" not in functions
    databases = [d["Name"] for d in _client("glue", moto_url).get_databases()["DatabaseList"]]
    assert "shop" not in databases
    topics = [t["TopicArn"] for t in _client("sns", moto_url).list_topics()["Topics"]]
    assert not [t for t in topics if t.endswith(":derson-lake-errors")]
    groups = [g["logGroupName"] for g in _client("logs", moto_url).describe_log_groups()["logGroups"]]
    assert not [
        g
        for g in groups
        if g in ("/aws/lambda/DMS-intake", "/aws/lambda/DMS-iceberg")
        or g.startswith("/aws/vendedlogs/states/")
    ]
    buckets = [b["Name"] for b in _client("s3", moto_url).list_buckets()["Buckets"]]
    assert "derson-lake-apply-test" not in buckets
    schedules = _client("scheduler", moto_url).list_schedules()["Schedules"]
    assert not [s for s in schedules if s["Name"].startswith("derson-lake-")]
    alarms = _client("cloudwatch", moto_url).describe_alarms()["MetricAlarms"]
    assert not [a for a in alarms if a["AlarmName"] in ALARMS]
    rules = _client("events", moto_url).list_rules(NamePrefix="derson-lake-")["Rules"]
    assert rules == []
