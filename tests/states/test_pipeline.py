"""The seed's shape end to end: derson-Main starts DMS-Handler (.sync:2), which polls a handler in a
Wait/Choice loop, retries a flaky step, and notifies by SNS on failure."""

from __future__ import annotations

import json

from tests.states.conftest import result, start

FN = "arn:aws:lambda:us-east-1:000000000000:function:"
MAIN = {
    "Comment": "Pipeline de dados dersonLake",
    "StartAt": "IntakeProdDB",
    "States": {
        "IntakeProdDB": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:sa-east-1:123456789012:stateMachine:DMS-Handler",
                "Input": {
                    "owner": "dersonLake",
                    "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                },
            },
            "End": True,
        }
    },
}


def handler_machine():
    def step(name, nxt, **extra):
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "intake", "Payload": {"step": name, "owner.$": "$.owner"}},
            "ResultSelector": {"status.$": "$.Payload.status"},
            "ResultPath": "$.last",
            "Retry": [
                {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "MaxAttempts": 2}
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify"}],
            "Next": nxt,
            **extra,
        }

    return {
        "StartAt": "CreateInstance",
        "States": {
            "CreateInstance": step("create_instance", "WaitInstance"),
            "WaitInstance": {"Type": "Wait", "Seconds": 30, "Next": "CheckInstance"},
            "CheckInstance": step("check_instance_status", "InstanceReady?"),
            "InstanceReady?": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.last.status", "StringEquals": "available", "Next": "DeleteInstance"}
                ],
                "Default": "WaitInstance",
            },
            "DeleteInstance": step("delete_instance", "Done"),
            "Done": {"Type": "Pass", "Parameters": {"owner.$": "$.owner", "status": "done"}, "End": True},
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:000000000000:dms", "Message.$": "$.error"},
                "ResultPath": None,
                "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "Error": "IntakeFailed"},
        },
    }


class TooManyRequestsException(Exception):
    error_type = "Lambda.TooManyRequestsException"  # the name Lambda's service would report


def test_main_runs_handler_to_completion(engine):
    calls = []

    def intake(event, ctx):
        calls.append(event["step"])
        if event["step"] == "create_instance" and calls.count("create_instance") == 1:
            raise TooManyRequestsException("throttled")
        if event["step"] == "check_instance_status":
            return {"status": "available" if calls.count("check_instance_status") >= 3 else "creating"}
        return {"status": "ok"}

    engine.register_lambda("intake", intake)
    engine.create_state_machine("DMS-Handler", handler_machine())
    arn = start(engine, MAIN, {"owner": "dersonLake"}, name="derson-Main")
    engine.wait_for(arn)
    r = result(engine, arn)
    assert r.status == "SUCCEEDED"
    assert r.output["Output"] == {"owner": "dersonLake", "status": "done"}
    assert calls == ["create_instance", "create_instance"] + ["check_instance_status"] * 3 + [
        "delete_instance"
    ]
    child = engine.describe_execution(r.output["ExecutionArn"])
    assert json.loads(child["input"])["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == arn
    events = engine.get_execution_history(child["executionArn"])["events"]
    assert [e["type"] for e in events].count("WaitStateEntered") == 3


def test_handler_failure_notifies_and_fails_main(engine):
    def intake(event, ctx):
        raise RuntimeError("replication instance quota exceeded")

    engine.register_lambda("intake", intake)
    engine.create_state_machine("DMS-Handler", handler_machine())
    arn = start(engine, MAIN, {}, name="derson-Main")
    engine.wait_for(arn)
    r = result(engine, arn)
    assert (r.status, r.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(r.cause)["Error"] == "IntakeFailed"
    notes = engine.notifications()
    assert len(notes) == 1 and json.loads(notes[0]["message"])["Error"] == "RuntimeError"
