"""boto3 against the local server: the Step Functions API behaves as AWS's does for the client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

ROLE = "arn:aws:iam::000000000000:role/test"
GREET_ARN = "arn:aws:lambda:us-east-1:000000000000:function:greet"
MACHINE = {
    "Comment": "Pass, Wait, Choice and a Lambda",
    "StartAt": "Defaults",
    "States": {
        "Defaults": {"Type": "Pass", "Result": {"waited": True}, "ResultPath": "$.pass", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Greet"},
        "Greet": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": GREET_ARN, "Payload.$": "$"},
            "ResultSelector": {"greeting.$": "$.Payload.greeting"},
            "ResultPath": "$.lambda",
            "Next": "Which",
        },
        "Which": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.owner", "StringEquals": "dersonLake", "Next": "Known"}],
            "Default": "Unknown",
        },
        "Known": {"Type": "Succeed"},
        "Unknown": {"Type": "Fail", "Error": "Owner.Unknown", "Cause": "not our owner"},
    },
}
FAILING = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:000000000000:function:not-ready",
            "End": True,
        }
    },
}
WAITING = {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def wait_done(sfn: Any, arn: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sfn.describe_execution(executionArn=arn)
        if desc["status"] != "RUNNING" or time.monotonic() > deadline:
            return desc
        time.sleep(0.05)


@pytest.fixture(scope="module")
def machine(sfn: Any) -> str:
    return sfn.create_state_machine(name="api-main", definition=json.dumps(MACHINE), roleArn=ROLE)[
        "stateMachineArn"
    ]


def test_create_describe_and_list_a_state_machine(sfn: Any, machine: str) -> None:
    assert machine == "arn:aws:states:us-east-1:000000000000:stateMachine:api-main"
    desc = sfn.describe_state_machine(stateMachineArn=machine)
    assert desc["name"] == "api-main"
    assert desc["status"] == "ACTIVE"
    assert desc["type"] == "STANDARD"
    assert desc["roleArn"] == ROLE
    assert json.loads(desc["definition"]) == MACHINE
    assert isinstance(desc["creationDate"], datetime)
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert "api-main" in names


def test_an_execution_runs_pass_wait_lambda_and_choice_to_success(sfn: Any, machine: str) -> None:
    started = sfn.start_execution(stateMachineArn=machine, name="run-1", input='{"owner": "dersonLake"}')
    assert started["executionArn"].endswith(":execution:api-main:run-1")
    desc = wait_done(sfn, started["executionArn"])
    assert desc["status"] == "SUCCEEDED", desc
    output = json.loads(desc["output"])
    assert output["lambda"] == {"greeting": "hello dersonLake"}
    assert output["pass"] == {"waited": True}
    assert desc["stopDate"] >= desc["startDate"]

    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    for kind in (
        "WaitStateEntered",
        "TaskScheduled",
        "TaskSucceeded",
        "ChoiceStateEntered",
        "SucceedStateEntered",
    ):
        assert kind in types
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    newest = sfn.get_execution_history(executionArn=started["executionArn"], reverseOrder=True, maxResults=1)
    assert newest["events"][0]["type"] == "ExecutionSucceeded" and "nextToken" in newest

    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=started["executionArn"], maxResults=3
    )
    assert [e["id"] for page in pages for e in page["events"]] == [e["id"] for e in events]

    listed = sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"]
    assert started["executionArn"] in [e["executionArn"] for e in listed]
    runs = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert json.loads(runs["definition"]) == MACHINE


def test_a_choice_default_to_fail_fails_the_execution_with_its_error(sfn: Any, machine: str) -> None:
    arn = sfn.start_execution(stateMachineArn=machine, input='{"owner": "other"}')["executionArn"]
    desc = wait_done(sfn, arn)
    assert (desc["status"], desc["error"], desc["cause"]) == ("FAILED", "Owner.Unknown", "not our owner")
    assert desc["redriveStatus"] == "REDRIVABLE"


def test_a_lambda_error_fails_with_its_exception_name_and_can_be_redriven(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="api-failing", definition=json.dumps(FAILING), roleArn=ROLE)[
        "stateMachineArn"
    ]
    run = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    desc = wait_done(sfn, run)
    assert desc["status"] == "FAILED" and desc["error"] == "NotReady"
    assert json.loads(desc["cause"])["errorMessage"] == "instance still creating"
    assert "redriveDate" in sfn.redrive_execution(executionArn=run)
    assert wait_done(sfn, run)["redriveCount"] == 1


def test_stop_execution_aborts_a_waiting_run(sfn: Any, server: Any) -> None:
    arn = sfn.create_state_machine(name="api-waiting", definition=json.dumps(WAITING), roleArn=ROLE)[
        "stateMachineArn"
    ]
    server.engine.clock.time_scale = 1.0
    try:
        run = sfn.start_execution(stateMachineArn=arn, input='{"s": 3600}')["executionArn"]
        assert sfn.describe_execution(executionArn=run)["status"] == "RUNNING"
        assert isinstance(
            sfn.stop_execution(executionArn=run, error="Stop", cause="test")["stopDate"], datetime
        )
    finally:
        server.engine.clock.time_scale = 0.0
    desc = sfn.describe_execution(executionArn=run)
    assert (desc["status"], desc["error"]) == ("ABORTED", "Stop")
    with pytest.raises(ClientError) as exc:
        sfn.stop_execution(executionArn=run)
    assert code(exc) == "ExecutionNotRunning"


def test_update_then_delete_a_state_machine(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="api-temp", definition=json.dumps(WAITING), roleArn=ROLE)[
        "stateMachineArn"
    ]
    assert isinstance(
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(FAILING))["updateDate"], datetime
    )
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == FAILING
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert code(exc) == "StateMachineDoesNotExist"


def test_missing_machine_and_execution_raise_does_not_exist(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:stateMachine:nope"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=missing)
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:000000000000:execution:nope:x")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn="arn:aws:states:us-east-1:000000000000:execution:nope:x")


def test_malformed_arn_is_invalid_arn(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_state_machine(stateMachineArn="derson-Main")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:000000000000:stateMachine:x")


def test_malformed_definition_is_invalid_definition_with_the_engines_message(sfn: Any) -> None:
    bad = {"StartAt": "Missing", "States": {"P": {"Type": "Pass", "End": True}}}
    with pytest.raises(sfn.exceptions.InvalidDefinition) as exc:
        sfn.create_state_machine(name="api-bad", definition=json.dumps(bad), roleArn=ROLE)
    message = exc.value.response["Error"]["Message"]
    assert message.startswith("Invalid State Machine Definition: ") and "StartAt" in message, message
    result = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert result["result"] == "FAIL", result
    assert result["diagnostics"][0]["message"] == "names no state in this scope"
    assert result["diagnostics"][0]["location"] == "/StartAt"
    assert sfn.validate_state_machine_definition(definition=json.dumps(MACHINE))["result"] == "OK"


def test_bad_execution_input_and_names(sfn: Any, machine: str) -> None:
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=machine, input="{not json")
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=machine, name="has space", input="{}")
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        sfn.create_state_machine(name="api-main", definition=json.dumps(WAITING), roleArn=ROLE)


def test_unknown_task_token_is_invalid_token(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="nope", output="{}")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_failure(taskToken="nope", error="E")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_heartbeat(taskToken="nope")


class Reply:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def post(server: Any, op: str, body: Any) -> Reply:
    """A raw JSON-protocol request, for what boto3 would refuse to send."""
    headers = {"X-Amz-Target": f"AWSStepFunctions.{op}", "Content-Type": "application/x-amz-json-1.0"}
    data = (body if isinstance(body, str) else json.dumps(body)).encode()
    request = urllib.request.Request(server.url + "/", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read())


def test_requests_boto3_would_refuse_get_validation_errors_naming_the_member(server: Any) -> None:
    missing = post(server, "CreateStateMachine", {"name": "x", "roleArn": ROLE})
    assert missing.status_code == 400
    assert missing.json() == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value null at 'definition' failed to satisfy constraint: "
        "Member must not be null",
    }
    unknown = post(server, "DescribeStateMachine", {"stateMachineArn": "arn:x", "colour": "red"})
    assert unknown.json()["__type"] == "ValidationException"
    assert "'colour'" in unknown.json()["message"]
    too_long = post(server, "StartExecution", {"stateMachineArn": "a" * 300})
    assert "Member must have length less than or equal to 256" in too_long.json()["message"]
    enum = post(server, "ListExecutions", {"stateMachineArn": "arn:x", "statusFilter": "DONE"})
    assert "enum value set" in enum.json()["message"]
    wrong_type = post(server, "ListStateMachines", {"maxResults": "ten"})
    assert wrong_type.json()["__type"] == "SerializationException"
    not_json = post(server, "ListStateMachines", "{")
    assert not_json.json()["__type"] == "SerializationException"
    unknown_op = post(server, "Frobnicate", {})
    assert unknown_op.json()["__type"] == "UnknownOperationException"


def test_responses_carry_a_request_id(sfn: Any) -> None:
    assert len(sfn.list_state_machines()["ResponseMetadata"]["RequestId"]) == 36


def test_timestamps_are_epoch_seconds_on_the_wire(server: Any, machine: str) -> None:
    body = post(server, "DescribeStateMachine", {"stateMachineArn": machine}).json()
    assert isinstance(body["creationDate"], float)
    assert abs(body["creationDate"] - time.time()) < 3600


def test_boto3_still_validates_client_side(sfn: Any) -> None:
    with pytest.raises(ParamValidationError):
        sfn.describe_state_machine()
