"""The AWS-shaped operations: state machines, executions, stop, redrive, background runner."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from dersonlake.errors import BadInput
from dersonlake.states import Engine, InvalidApiInput, InvalidDefinition, StatesApiError
from tests.states.conftest import one, result, run, start

PASS = one({"Type": "Pass"})


def test_state_machine_crud(engine):
    created = engine.create_state_machine("orders", PASS, role_arn="arn:aws:iam::000000000000:role/r")
    arn = created["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
    assert isinstance(created["creationDate"], datetime)
    assert engine.create_state_machine("orders", PASS, role_arn="arn:aws:iam::000000000000:role/r") == created
    with pytest.raises(StatesApiError) as info:
        engine.create_state_machine("orders", one({"Type": "Succeed"}))
    assert info.value.code == "StateMachineAlreadyExists"
    desc = engine.describe_state_machine(arn)
    assert desc["name"] == "orders" and desc["status"] == "ACTIVE" and json.loads(desc["definition"]) == PASS
    engine.update_state_machine(arn, one({"Type": "Succeed"}))
    assert json.loads(engine.describe_state_machine(arn)["definition"])["States"]["S"]["Type"] == "Succeed"
    assert [m["name"] for m in engine.list_state_machines()["stateMachines"]] == ["orders"]
    engine.delete_state_machine(arn)
    with pytest.raises(StatesApiError) as info:
        engine.describe_state_machine(arn)
    assert info.value.code == "StateMachineDoesNotExist"


def test_invalid_definition_and_names_are_bad_input(engine):
    with pytest.raises(InvalidDefinition):
        engine.create_state_machine("x", {"StartAt": "A", "States": {}})
    with pytest.raises(InvalidApiInput) as info:
        engine.create_state_machine("bad name", PASS)
    assert info.value.code == "InvalidName" and isinstance(info.value, BadInput)


def test_region_and_account_are_configurable(tmp_path):
    e = Engine(tmp_path / "s.sqlite", region="sa-east-1", account="123456789012", time_scale=0)
    arn = e.create_state_machine("m", PASS)["stateMachineArn"]
    assert arn == "arn:aws:states:sa-east-1:123456789012:stateMachine:m"
    x = e.start_execution(arn, "{}", name="run1")["executionArn"]
    assert x == "arn:aws:states:sa-east-1:123456789012:execution:m:run1"
    e.close()


def test_start_is_idempotent_by_name_and_input_while_running(engine):
    arn = engine.create_state_machine("w", one({"Type": "Wait", "Seconds": 10}))["stateMachineArn"]
    first = engine.start_execution(arn, '{"a": 1}', name="n1")
    assert engine.start_execution(arn, '{"a":1}', name="n1") == first
    with pytest.raises(StatesApiError) as info:
        engine.start_execution(arn, '{"a": 2}', name="n1")
    assert info.value.code == "ExecutionAlreadyExists"
    with pytest.raises(InvalidApiInput) as bad:
        engine.start_execution(arn, "{nope", name="n2")
    assert bad.value.code == "InvalidExecutionInput"


def test_describe_and_list_executions(engine):
    arn = engine.create_state_machine("m", one({"Type": "Fail", "Error": "E", "Cause": "C"}))[
        "stateMachineArn"
    ]
    x1 = engine.start_execution(arn, "{}", name="a")["executionArn"]
    engine.wait_for(x1)
    engine.update_state_machine(arn, PASS)
    x2 = engine.start_execution(arn, '{"k": 1}', name="b")["executionArn"]
    engine.wait_for(x2)
    d1, d2 = engine.describe_execution(x1), engine.describe_execution(x2)
    assert (d1["status"], d1["error"], d1["cause"], d1["redriveStatus"]) == ("FAILED", "E", "C", "REDRIVABLE")
    assert (d2["status"], json.loads(d2["output"])) == ("SUCCEEDED", {"k": 1})
    assert isinstance(d2["startDate"], datetime) and d2["stopDate"] >= d2["startDate"]
    listed = engine.list_executions(arn)["executions"]
    assert {e["name"] for e in listed} == {"a", "b"}
    assert [e["name"] for e in engine.list_executions(arn, status_filter="FAILED")["executions"]] == ["a"]
    with pytest.raises(StatesApiError) as info:
        engine.describe_execution(arn.replace("stateMachine", "execution") + ":zzz")
    assert info.value.code == "ExecutionDoesNotExist"


def test_stop_execution(engine):
    arn = start(engine, one({"Type": "Wait", "Seconds": 100}), {})
    engine.run_until_idle()
    engine.stop_execution(arn, error="Manual", cause="operator")
    r = result(engine, arn)
    assert (r.status, r.error, r.cause) == ("ABORTED", "Manual", "operator")
    assert r.types[-2:] == ["WaitStateAborted", "ExecutionAborted"]
    engine.clock.advance(200)
    engine.run_until_idle()
    assert result(engine, arn).types == r.types  # no timer fired after the stop
    with pytest.raises(StatesApiError):
        engine.stop_execution(arn)


def test_history_ids_and_reverse_order(engine):
    r = run(
        engine, {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}, {}
    )
    ids = [e["id"] for e in r.events]
    assert ids == list(range(1, len(ids) + 1))
    rev = engine.get_execution_history(r.arn, reverse_order=True)["events"]
    assert [e["id"] for e in rev] == ids[::-1]
    lean = engine.get_execution_history(r.arn, include_execution_data=False)["events"]
    assert "input" not in lean[1]["stateEnteredEventDetails"]


def test_redrive_reruns_only_failed_map_iterations(engine):
    calls = []
    broken = {"on": True}

    def work(event, ctx):
        calls.append(event)
        if event == 2 and broken["on"]:
            raise RuntimeError("disk full")
        return event * 10

    engine.register_lambda("work", work)
    proc = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:work",
                "End": True,
            }
        },
    }
    d = {
        "StartAt": "Before",
        "States": {
            "Before": {"Type": "Pass", "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": proc, "MaxConcurrency": 1, "Next": "After"},
            "After": {"Type": "Pass", "End": True},
        },
    }
    arn = start(engine, d, [1, 2, 3])
    first = engine.wait_for(arn)
    assert first["status"] == "FAILED" and first["error"] == "RuntimeError"
    assert calls == [1, 2]  # MaxConcurrency 1: item 3 never started
    broken["on"] = False
    engine.redrive_execution(arn)
    final = engine.wait_for(arn)
    assert final["status"] == "SUCCEEDED" and json.loads(final["output"]) == [10, 20, 30]
    assert calls == [1, 2, 2, 3]  # item 1 was not re-run
    assert final["redriveCount"] == 1 and "redriveDate" in final
    types = [e["type"] for e in engine.get_execution_history(arn)["events"]]
    assert types.count("ExecutionRedriven") == 1 and types.count("PassStateEntered") == 2  # Before not re-run
    with pytest.raises(StatesApiError) as info:
        engine.redrive_execution(arn)
    assert info.value.code == "ExecutionNotRedrivable"


def test_redrive_parallel_reruns_failed_branch_only(engine):
    state = {"n": 0}

    def once(event, ctx):
        state["n"] += 1
        if state["n"] == 1:
            raise RuntimeError("first time")
        return "ok"

    engine.register_lambda("once", once)
    counted = []
    engine.register_lambda("count", lambda e, c: counted.append(1) or "counted")
    fn = "arn:aws:lambda:us-east-1:000000000000:function:"
    d = one(
        {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": fn + "count", "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": fn + "once", "End": True}}},
            ],
        }
    )
    arn = start(engine, d, {})
    assert engine.wait_for(arn)["status"] == "FAILED"
    engine.redrive_execution(arn)
    final = engine.wait_for(arn)
    assert json.loads(final["output"]) == ["counted", "ok"]
    assert len(counted) == 1


def test_redrive_context_count(engine):
    d = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$$.Execution.RedriveCount", "NumericEquals": 0, "Next": "F"}],
                "Default": "P",
            },
            "F": {"Type": "Fail", "Error": "First"},
            "P": {"Type": "Pass", "Parameters": {"rc.$": "$$.Execution.RedriveCount"}, "End": True},
        },
    }
    arn = start(engine, d, {})
    assert engine.wait_for(arn)["status"] == "FAILED"
    engine.redrive_execution(arn)
    # the Fail state is redriven (re-entered), still fails: redrive resumes at the failed state
    assert engine.wait_for(arn)["error"] == "First"


def test_background_runner(tmp_path):
    e = Engine(tmp_path / "s.sqlite", time_scale=0)
    e.register_lambda("double", "tests.states.handlers:double")
    e.start_background()
    try:
        arn = e.create_state_machine(
            "m", one({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:double"})
        )
        x = e.start_execution(arn["stateMachineArn"], "4")["executionArn"]
        desc = e.wait_for(x, timeout=10)
        assert desc["status"] == "SUCCEEDED" and desc["output"] == "8"
    finally:
        e.close()


def test_pagination(engine):
    arn = engine.create_state_machine("p", PASS)["stateMachineArn"]
    for i in range(5):
        engine.wait_for(engine.start_execution(arn, "{}", name=f"e{i}")["executionArn"])
    page = engine.list_executions(arn, max_results=2)
    names = [e["name"] for e in page["executions"]]
    while "nextToken" in page:
        page = engine.list_executions(arn, max_results=2, next_token=page["nextToken"])
        names += [e["name"] for e in page["executions"]]
    assert sorted(names) == [f"e{i}" for i in range(5)]
    x = engine.list_executions(arn)["executions"][0]["executionArn"]
    first = engine.get_execution_history(x, max_results=3)
    rest = engine.get_execution_history(x, next_token=first["nextToken"])
    assert [e["id"] for e in first["events"] + rest["events"]] == [1, 2, 3, 4]
    with pytest.raises(InvalidApiInput):
        engine.list_state_machines(next_token="garbage!")


def test_validate_definition_and_describe_for_execution(engine):
    ok = engine.validate_state_machine_definition(PASS)
    assert ok == {"result": "OK", "diagnostics": [], "truncated": False}
    bad = engine.validate_state_machine_definition(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
    )
    assert bad["result"] == "FAIL"
    assert bad["diagnostics"][0]["location"] == "/States/A/Next"
    arn = engine.create_state_machine("v", PASS)["stateMachineArn"]
    x = engine.start_execution(arn, "{}")["executionArn"]
    engine.update_state_machine(arn, one({"Type": "Succeed"}))
    old = engine.describe_state_machine_for_execution(x)
    assert json.loads(old["definition"]) == PASS  # the execution keeps the definition it started with
    assert json.loads(engine.wait_for(x)["output"]) == {}
