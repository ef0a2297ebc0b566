"""Task integrations (asl.md §2): Lambda both forms, SNS, nested executions, callbacks."""

from __future__ import annotations

import json

import pytest

from dersonlake.states import StatesApiError
from tests.states.conftest import one, result, run, start

INVOKE = "arn:aws:states:::lambda:invoke"


def test_lambda_invoke_wraps_the_response_like_aws(engine):
    engine.register_lambda("echo", "tests.states.handlers:echo")
    d = one(
        {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": "echo", "Payload": {"a.$": "$.a"}},
        }
    )
    r = run(engine, d, {"a": 1})
    out = r.output
    assert set(out) == {"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}
    assert out["Payload"] == {"event": {"a": 1}, "function": "echo"}
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    sched = r.details("TaskScheduled")[0]
    assert sched["resourceType"] == "lambda" and sched["resource"] == "invoke"
    assert json.loads(sched["parameters"]) == {"FunctionName": "echo", "Payload": {"a": 1}}


def test_function_name_may_be_an_arn(engine):
    engine.register_lambda("echo", "tests.states.handlers:echo")
    fn = "arn:aws:lambda:us-east-1:123456789012:function:echo:live"
    d = one(
        {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": fn},
            "OutputPath": "$.Payload.function",
        }
    )
    assert run(engine, d, {}).output == "echo"


def test_plain_lambda_arn_returns_the_raw_payload(engine):
    engine.register_lambda("double", "tests.states.handlers:double")
    r = run(
        engine, one({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"}), 21
    )
    assert r.output == 42
    assert r.types[2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]


def test_custom_exception_becomes_catchable_error(engine):
    engine.register_lambda("nr", "tests.states.handlers:not_ready")
    d = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "nr"},
                "Catch": [{"ErrorEquals": ["NotReady"], "Next": "Wait"}],
                "End": True,
            },
            "Wait": {"Type": "Pass", "End": True},
        },
    }
    r = run(engine, d, {})
    assert r.output["Error"] == "NotReady"
    cause = json.loads(r.output["Cause"])
    assert cause["errorMessage"] == "instance still creating" and cause["errorType"] == "NotReady"


def test_unknown_function_is_lambda_resource_not_found(engine):
    r = run(engine, one({"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "ghost"}}), {})
    assert (r.status, r.error) == ("FAILED", "Lambda.ResourceNotFoundException")


def test_unhandled_resource_fails_with_a_clear_message(engine):
    r = run(engine, one({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject"}), {})
    assert r.error == "States.Runtime" and "register_resource" in r.cause
    engine.register_resource("arn:aws:states:::aws-sdk:s3:getObject", lambda params, ctx: {"Body": "hi"})
    assert run(
        engine, one({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject"}), {}
    ).output == {"Body": "hi"}


def test_sns_publish_records_and_notifies(engine):
    seen = []
    engine.notifier = seen.append
    d = one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": "arn:aws:sns:us-east-1:000000000000:alerts",
                "Message": {"owner.$": "$.o"},
                "Subject": "DMS failed",
            },
        }
    )
    r = run(engine, d, {"o": "derson"})
    assert set(r.output) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    notes = engine.notifications(r.arn)
    assert len(notes) == 1
    assert notes[0]["message"] == '{"owner":"derson"}' and notes[0]["subject"] == "DMS failed"
    assert notes[0]["target"].endswith(":alerts")
    assert seen[0].message == '{"owner":"derson"}'
    assert r.details("TaskScheduled")[0]["resourceType"] == "sns"


CHILD = {
    "StartAt": "C",
    "States": {"C": {"Type": "Pass", "Parameters": {"got.$": "$.x", "parent.$": "$.parent"}, "End": True}},
}


def parent(resource, child_arn):
    return one(
        {
            "Type": "Task",
            "Resource": resource,
            "Parameters": {
                "StateMachineArn": child_arn,
                "Input": {"x.$": "$.x", "parent.$": "$$.Execution.Id"},
            },
        }
    )


def test_start_execution_sync_2_returns_output_as_json(engine):
    child = engine.create_state_machine("child", CHILD)["stateMachineArn"]
    r = run(engine, parent("arn:aws:states:::states:startExecution.sync:2", child), {"x": 5})
    assert r.output["Status"] == "SUCCEEDED"
    assert r.output["Output"] == {"got": 5, "parent": r.arn}
    assert r.output["Input"] == {"x": 5, "parent": r.arn}
    assert r.types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    child_exec = r.output["ExecutionArn"]
    assert engine.describe_execution(child_exec)["status"] == "SUCCEEDED"


def test_start_execution_sync_returns_output_as_string(engine):
    child = engine.create_state_machine("child", CHILD)["stateMachineArn"]
    r = run(engine, parent("arn:aws:states:::states:startExecution.sync", child), {"x": 5})
    assert isinstance(r.output["Output"], str) and json.loads(r.output["Output"])["got"] == 5


def test_start_execution_request_response(engine):
    child = engine.create_state_machine("child", CHILD)["stateMachineArn"]
    r = run(engine, parent("arn:aws:states:::states:startExecution", child), {"x": 5})
    assert set(r.output) == {"ExecutionArn", "StartDate"}


def test_failed_child_fails_parent_task_with_task_failed(engine):
    child = engine.create_state_machine("badchild", one({"Type": "Fail", "Error": "Nope", "Cause": "x"}))
    r = run(
        engine, parent("arn:aws:states:::states:startExecution.sync:2", child["stateMachineArn"]), {"x": 1}
    )
    assert (r.status, r.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(r.cause)["Error"] == "Nope"


def test_child_resolved_by_name_from_another_account(engine):
    engine.create_state_machine("DMS-Handler", CHILD)
    foreign = "arn:aws:states:sa-east-1:123456789012:stateMachine:DMS-Handler"
    r = run(engine, parent("arn:aws:states:::states:startExecution.sync:2", foreign), {"x": 2})
    assert r.output["Output"]["got"] == 2


def test_stopping_parent_stops_sync_child(engine):
    child = engine.create_state_machine("slow", one({"Type": "Wait", "Seconds": 1000}))["stateMachineArn"]
    arn = start(engine, parent("arn:aws:states:::states:startExecution.sync:2", child), {"x": 1})
    engine.run_until_idle()
    child_arn = engine.list_executions(child)["executions"][0]["executionArn"]
    engine.stop_execution(arn)
    assert engine.describe_execution(child_arn)["status"] == "ABORTED"


def callback_machine():
    return one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {
                "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
                "Message": {"token.$": "$$.Task.Token"},
            },
        }
    )


def test_wait_for_task_token_success(engine):
    arn = start(engine, callback_machine(), {})
    engine.run_until_idle()
    assert engine.describe_execution(arn)["status"] == "RUNNING"
    token = json.loads(engine.notifications(arn)[0]["message"])["token"]
    engine.send_task_success(token, json.dumps({"approved": True}))
    engine.run_until_idle()
    r = result(engine, arn)
    assert r.output == {"approved": True}
    assert r.types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    with pytest.raises(StatesApiError) as info:
        engine.send_task_success(token, "{}")
    assert info.value.code == "TaskTimedOut"


def test_wait_for_task_token_failure(engine):
    arn = start(engine, callback_machine(), {})
    engine.run_until_idle()
    token = json.loads(engine.notifications(arn)[0]["message"])["token"]
    engine.send_task_failure(token, "Rejected", "no")
    engine.run_until_idle()
    r = result(engine, arn)
    assert (r.status, r.error, r.cause) == ("FAILED", "Rejected", "no")
    with pytest.raises(StatesApiError):
        engine.send_task_success("not-a-token", "{}")
