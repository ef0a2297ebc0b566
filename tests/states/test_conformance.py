"""The conformance suite: AWS's documented Step Functions behaviour, as data, through the HTTP API.

Cases live in ``tests/states/conformance/*.json`` (see its README), one file per area. Each runs
against a real ``derson-lake serve`` app on a loopback port with boto3, exactly as a user's client
would call it; TestState and StartSyncExecution go without botocore's ``sync-`` host prefix
(``inject_host_prefix=False``), as docs/states.md tells users to configure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import RunningServer, client, serving

CASES_DIR = Path(__file__).parent / "conformance"
ROLE = "arn:aws:iam::000000000000:role/conformance"
JSON_TEXT_MEMBERS = ("definition", "input", "variables", "context")


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        for case in data["cases"]:
            kind = case.get("kind", data.get("kind"))
            params.append(pytest.param(kind, case, id=f"{path.stem}:{case['id']}"))
    return params


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    lambdas = {"echo": "tests.states.handlers:echo", "not-ready": "tests.states.handlers:not_ready"}
    yield from serving(tmp_path_factory.mktemp("conformance"), lambdas)


@pytest.fixture(scope="module")
def sfn(server: RunningServer) -> Any:
    return client("stepfunctions", server.url, inject_host_prefix=False, retries={"max_attempts": 1})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _name(case: dict[str, Any]) -> str:
    return case.get("name") or re.sub(r"[^A-Za-z0-9_-]", "-", case["id"])[:70]


def _create(sfn: Any, case: dict[str, Any], name: str) -> dict[str, Any]:
    return sfn.create_state_machine(
        name=name,
        definition=_text(case["definition"]),
        roleArn=case.get("role", ROLE),
        type=case.get("type", "STANDARD"),
        **case.get("params", {}),
    )


def _check_outcome(desc: dict[str, Any], expect: dict[str, Any]) -> None:
    assert desc["status"] == expect["status"], desc
    if "output" in expect:
        assert json.loads(desc["output"]) == expect["output"], desc
    if "input" in expect:
        assert json.loads(desc["input"]) == expect["input"], desc
    for key in ("error", "cause"):
        if key in expect:
            assert desc.get(key) == expect[key], desc
    if "cause_startswith" in expect:
        assert desc.get("cause", "").startswith(expect["cause_startswith"]), desc
    if "cause_contains" in expect:
        assert expect["cause_contains"] in desc.get("cause", ""), desc
    if expect.get("no_error"):
        assert "error" not in desc and "cause" not in desc, desc
    for key in expect.get("absent", []):
        assert key not in desc, (key, desc)


def run_execution(sfn: Any, case: dict[str, Any]) -> None:
    arn = _create(sfn, case, _name(case))["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=arn, input=_text(case.get("input", {})))["executionArn"]
    deadline = time.monotonic() + 30
    desc = sfn.describe_execution(executionArn=run)
    while desc["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
        desc = sfn.describe_execution(executionArn=run)
    _check_outcome(desc, case["expect"])


def _error(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]


def _check_error(error: dict[str, str], expect: dict[str, Any]) -> None:
    assert error["Code"] == expect["code"], error
    if "message" in expect:
        assert error["Message"] == expect["message"], error
    for part in expect.get("message_contains", []):
        assert part in error["Message"], error


def run_create(sfn: Any, case: dict[str, Any]) -> None:
    expect = case["expect"]
    if expect.get("ok"):
        result = _create(sfn, case, _name(case))
        assert result["stateMachineArn"].endswith(":stateMachine:" + _name(case))
        if expect.get("version_arn"):
            assert result["stateMachineVersionArn"] == result["stateMachineArn"] + ":1"
        return
    _check_error(_error(lambda: _create(sfn, case, _name(case))), expect)


def run_validate(sfn: Any, case: dict[str, Any]) -> None:
    extra = {"type": case["type"]} if "type" in case else {}
    result = sfn.validate_state_machine_definition(definition=_text(case["definition"]), **extra)
    expect = case["expect"]
    assert result["result"] == expect["result"], result
    if expect["result"] == "OK":
        assert result["diagnostics"] == [], result
        return
    diagnostic = result["diagnostics"][0]
    assert diagnostic["severity"] == "ERROR" and diagnostic["code"] == expect["code"], result
    if "location" in expect:
        assert diagnostic["location"] == expect["location"], result


def run_sync(sfn: Any, case: dict[str, Any]) -> None:
    arn = _create(sfn, case, _name(case))["stateMachineArn"]
    extra = case.get("params_sync", {})
    call = lambda: sfn.start_sync_execution(stateMachineArn=arn, input=_text(case.get("input", {})), **extra)  # noqa: E731
    expect = case["expect"]
    if "code" in expect:
        _check_error(_error(call), expect)
        return
    result = call()
    assert ":express:" in result["executionArn"] and result["stateMachineArn"] == arn, result
    assert result["stopDate"] >= result["startDate"], result
    _check_outcome(result, expect)


def _request(raw: dict[str, Any]) -> dict[str, Any]:
    request = {k: (_text(v) if k in JSON_TEXT_MEMBERS else v) for k, v in raw.items()}
    mock = raw.get("mock")
    if mock is not None and "result" in mock:
        request["mock"] = {**mock, "result": _text(mock["result"])}
    return request


def _as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


def run_test_state(sfn: Any, case: dict[str, Any]) -> None:
    request = _request(case["request"])
    expect = case["expect"]
    if "code" in expect:
        _check_error(_error(lambda: sfn.test_state(**request)), expect)
        return
    answer = sfn.test_state(**request)
    for key, want in expect.items():
        got = _as_json(answer.get(key))
        if key == "inspectionData":
            assert {k: got.get(k) for k in want} == want, answer
        else:
            assert got == want, (key, answer)
    for key in case.get("absent", []):
        assert key not in answer, (key, answer)


RUNNERS = {
    "execution": run_execution,
    "create": run_create,
    "validate": run_validate,
    "sync": run_sync,
    "test_state": run_test_state,
}


@pytest.mark.parametrize(("kind", "case"), _load())
def test_conformance(sfn: Any, kind: str, case: dict[str, Any]) -> None:
    RUNNERS[kind](sfn, case)


def test_aws_cli_reaches_the_sync_operations_without_the_host_prefix(server: RunningServer, sfn: Any) -> None:
    """The ``aws`` CLI, told not to inject ``sync-`` (docs/states.md), calls TestState and StartSyncExecution."""
    env = {
        **os.environ,
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    base = ["aws", "--endpoint-url", server.url, "--output", "json", "stepfunctions"]
    definition = json.dumps({"Type": "Pass", "Result": {"r": 1}, "Next": "N"})
    tested = subprocess.run(
        [*base, "test-state", "--definition", definition, "--inspection-level", "DEBUG"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert tested.returncode == 0, tested.stderr
    answer = json.loads(tested.stdout)
    assert answer["status"] == "SUCCEEDED" and answer["nextState"] == "N"
    assert json.loads(answer["inspectionData"]["result"]) == {"r": 1}
    arn = sfn.create_state_machine(
        name="cli-express",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
        type="EXPRESS",
    )["stateMachineArn"]
    synced = subprocess.run(
        [*base, "start-sync-execution", "--state-machine-arn", arn, "--input", '{"a": 1}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert synced.returncode == 0, synced.stderr
    result = json.loads(synced.stdout)
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"a": 1}
