"""Plan-level checks of the schedules, their role, every alarm and the DMS task-failure rule
(modules/schedule, modules/alarms, schedules.tf), on the offline plan of test_terraform.py: the
sample owner (schedule: rate(15 minutes) in America/Sao_Paulo, stale after 3 periods) and an owner
without a schedule."""

from __future__ import annotations

import json

import pytest

from tests.infra import tf
from tests.infra.offline_plan import ACCOUNT
from tests.infra.test_terraform import _of_type

pytestmark = pytest.mark.skipif(
    tf.terraform_bin() is None, reason="no terraform binary on PATH: init/validate/plan not run"
)

MAIN = f"arn:aws:states:sa-east-1:{ACCOUNT}:stateMachine:derson-Main"


def _changes(plan, type_):
    return {c["address"]: c for c in plan["resource_changes"] if c["type"] == type_}


def test_one_schedule_per_scheduled_owner_targets_derson_main_with_the_delta_input(plan):
    (schedule,) = _of_type(plan, "aws_scheduler_schedule").values()  # allSettings has no schedule:
    assert schedule["name"] == "derson-lake-dersonLake" and schedule["group_name"] == "default"
    assert schedule["schedule_expression"] == "rate(15 minutes)"
    assert schedule["schedule_expression_timezone"] == "America/Sao_Paulo"
    assert schedule["state"] == "ENABLED"
    assert schedule["flexible_time_window"] == [{"mode": "OFF", "maximum_window_in_minutes": None}]
    (target,) = schedule["target"]
    assert target["arn"] == MAIN
    assert json.loads(target["input"]) == {"owner": "dersonLake", "delta": True}


def test_the_scheduler_role_may_only_start_derson_main(plan):
    roles = {v["name"]: v for v in _of_type(plan, "aws_iam_role").values()}
    trust = json.loads(roles["derson-lake-scheduler"]["assume_role_policy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    (policy,) = [
        v for v in _of_type(plan, "aws_iam_role_policy").values() if v["name"] == "start-derson-main"
    ]
    (allowed,) = json.loads(policy["policy"])["Statement"]
    assert allowed["Effect"] == "Allow" and allowed["Action"] == "states:StartExecution"
    assert allowed["Resource"] == MAIN


def test_failure_alarms_on_derson_main_and_the_intake_lambda(plan):
    alarms = {v["alarm_name"]: v for v in _of_type(plan, "aws_cloudwatch_metric_alarm").values()}
    expected = {
        "derson-lake-executions-failed": ("AWS/States", "ExecutionsFailed"),
        "derson-lake-executions-timed-out": ("AWS/States", "ExecutionsTimedOut"),
        "derson-lake-executions-aborted": ("AWS/States", "ExecutionsAborted"),
        "derson-lake-intake-errors": ("AWS/Lambda", "Errors"),
        "derson-lake-intake-throttles": ("AWS/Lambda", "Throttles"),
    }
    for name, (namespace, metric) in expected.items():
        a = alarms[name]
        assert (a["namespace"], a["metric_name"], a["statistic"]) == (namespace, metric, "Sum"), name
        assert a["comparison_operator"] == "GreaterThanThreshold" and a["threshold"] == 0
        assert a["treat_missing_data"] == "notBreaching" and a["period"] == 300
        dimension = {"StateMachineArn": MAIN} if namespace == "AWS/States" else {"FunctionName": "DMS-intake"}
        assert a["dimensions"] == dimension, name
    assert set(alarms) == {*expected, "derson-lake-lake-stale"}


def test_every_alarm_notifies_the_error_topic_on_alarm_and_ok(plan):
    config = plan["configuration"]["root_module"]["module_calls"]["alarms"]
    assert config["expressions"]["topic_arn"]["references"][0] == "aws_sns_topic.errors.arn"
    for address, change in _changes(plan, "aws_cloudwatch_metric_alarm").items():
        unknown = change["change"]["after_unknown"]
        assert unknown["alarm_actions"] in (True, [True]) and unknown["ok_actions"] in (True, [True]), address


def test_stale_lake_alarm_counts_successes_per_schedule_period(plan):
    (stale,) = [
        v for v in _of_type(plan, "aws_cloudwatch_metric_alarm").values() if v["alarm_name"].endswith("stale")
    ]
    assert (stale["namespace"], stale["metric_name"]) == ("AWS/States", "ExecutionsSucceeded")
    assert stale["dimensions"] == {"StateMachineArn": MAIN}
    assert stale["period"] == 900 and stale["evaluation_periods"] == 3  # rate(15 minutes), 3 periods
    assert stale["comparison_operator"] == "LessThanThreshold" and stale["threshold"] == 1
    assert stale["treat_missing_data"] == "breaching"


def test_dms_task_failure_events_go_to_the_error_topic(plan):
    (rule,) = _of_type(plan, "aws_cloudwatch_event_rule").values()
    assert rule["name"] == "derson-lake-dms-task-failed"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.dms"],
        "detail-type": ["DMS Replication Task State Change"],
        "detail": {"eventType": ["REPLICATION_TASK_FAILED"]},
    }
    (target,) = _changes(plan, "aws_cloudwatch_event_target").values()
    assert target["change"]["after_unknown"]["arn"] is True  # the topic's ARN, known after apply
    (policy,) = _changes(plan, "aws_sns_topic_policy").values()
    assert policy["change"]["actions"] == ["create"]
