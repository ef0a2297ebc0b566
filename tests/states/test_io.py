"""JSONPath-mode input/output processing (asl.md §1.3)."""

from __future__ import annotations

from tests.states.conftest import one, run


def test_pass_result_replaces_input_by_default(engine):
    r = run(engine, one({"Type": "Pass", "Result": {"a": 1}}), {"x": 1})
    assert r.output == {"a": 1}


def test_result_path_writes_into_the_input_creating_missing_objects(engine):
    r = run(engine, one({"Type": "Pass", "Result": 5, "ResultPath": "$.a.b.c"}), {"x": 1})
    assert r.output == {"x": 1, "a": {"b": {"c": 5}}}


def test_result_path_null_discards_the_result(engine):
    r = run(engine, one({"Type": "Pass", "Result": 5, "ResultPath": None}), {"x": 1})
    assert r.output == {"x": 1}


def test_result_path_through_a_scalar_is_result_path_match_failure(engine):
    r = run(engine, one({"Type": "Pass", "Result": 5, "ResultPath": "$.x.y"}), {"x": 1})
    assert r.status == "FAILED"
    assert r.error == "States.ResultPathMatchFailure"


def test_output_path_null_gives_empty_object(engine):
    r = run(engine, one({"Type": "Pass", "OutputPath": None}), {"x": 1})
    assert r.output == {}


def test_input_path_null_gives_empty_object(engine):
    r = run(engine, one({"Type": "Pass", "InputPath": None, "ResultPath": "$.r"}), {"x": 1})
    # the effective input {} is the Pass result; ResultPath merges it into the raw input
    assert r.output == {"x": 1, "r": {}}


def test_input_path_selects_and_output_path_narrows(engine):
    d = one({"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.b", "OutputPath": "$.b"})
    r = run(engine, d, {"a": {"k": 1}, "z": 0})
    assert r.output == {"k": 1}


def test_missing_input_path_is_states_runtime(engine):
    r = run(engine, one({"Type": "Pass", "InputPath": "$.nope"}), {"x": 1})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_parameters_nested_dollar_keys_and_literals(engine):
    params = {
        "literal": "$.not_a_path",
        "from.$": "$.a",
        "nested": {"deep.$": "$.b[1]", "list": [{"x.$": "$.a"}, 3]},
        "ctx.$": "$$.State.Name",
    }
    r = run(engine, one({"Type": "Pass", "Parameters": params}), {"a": "A", "b": [0, 1]})
    assert r.output == {
        "literal": "$.not_a_path",
        "from": "A",
        "nested": {"deep": 1, "list": [{"x": "A"}, 3]},
        "ctx": "S",
    }


def test_parameters_missing_path_is_states_runtime_with_aws_cause(engine):
    # AWS answers States.Runtime here (not States.ParameterPathFailure), naming state, event and field.
    r = run(engine, one({"Type": "Pass", "Parameters": {"v.$": "$.missing"}}), {"a": 1})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")
    assert r.cause == (
        "An error occurred while executing the state 'S' (entered at the event id #2). The JSONPath"
        " '$.missing' specified for the field 'v.$' could not be found in the input '{\"a\":1}'"
    )


def test_indefinite_paths_return_lists(engine):
    params = {
        "wild.$": "$.items[*].v",
        "filter.$": "$.items[?(@.v >= 2 && @.ok == true)].v",
        "deep.$": "$..v",
        "empty.$": "$.items[?(@.v > 100)]",
        "first.$": "$.items[0].v",
    }
    items = [{"v": 1, "ok": True}, {"v": 2, "ok": True}, {"v": 3, "ok": False}]
    r = run(engine, one({"Type": "Pass", "Parameters": params}), {"items": items})
    assert r.output == {"wild": [1, 2, 3], "filter": [2], "deep": [1, 2, 3], "empty": [], "first": 1}


def test_context_object(engine):
    params = {
        "id.$": "$$.Execution.Id",
        "name.$": "$$.Execution.Name",
        "input.$": "$$.Execution.Input",
        "sm.$": "$$.StateMachine.Name",
        "state.$": "$$.State.Name",
        "retries.$": "$$.State.RetryCount",
        "entered.$": "$$.State.EnteredTime",
    }
    r = run(engine, one({"Type": "Pass", "Parameters": params}), {"q": 1}, name="ctxmachine")
    out = r.output
    assert out["id"] == r.arn
    assert out["name"] == r.arn.rsplit(":", 1)[1]
    assert out["input"] == {"q": 1}
    assert out["sm"] == "ctxmachine"
    assert out["state"] == "S" and out["retries"] == 0
    assert out["entered"].endswith("Z") and "T" in out["entered"]


def test_succeed_applies_input_and_output_paths(engine):
    r = run(engine, one({"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}), {"a": {"b": 7}})
    assert r.output == 7
    assert r.types[-3:] == ["SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]


def test_assign_variables_visible_to_later_states_only(engine):
    d = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Pass",
                "Result": {"n": 3},
                "Assign": {"count.$": "$.n", "fixed": "x"},
                "Next": "B",
            },
            "B": {
                "Type": "Pass",
                "Parameters": {"c.$": "$count", "f.$": "$fixed", "s.$": "States.MathAdd($count, 1)"},
                "End": True,
            },
        },
    }
    r = run(engine, d, {})
    assert r.output == {"c": 3, "f": "x", "s": 4}


def test_pass_history_shape(engine):
    r = run(engine, one({"Type": "Pass"}), {"a": 1})
    assert r.types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    ids = [e["id"] for e in r.events]
    assert ids == [1, 2, 3, 4]
    assert [e["previousEventId"] for e in r.events] == [0, 1, 2, 3]
    entered = r.events[1]["stateEnteredEventDetails"]
    assert entered == {"name": "S", "input": '{"a":1}', "inputDetails": {"truncated": False}}
    assert r.events[3]["executionSucceededEventDetails"]["output"] == '{"a":1}'


def test_task_result_selector_result_path_output_path_order(engine):
    engine.register_lambda("echo", "tests.states.handlers:echo")
    d = one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "InputPath": "$.req",
            "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
            "ResultSelector": {"got.$": "$.Payload.event", "code.$": "$.StatusCode"},
            "ResultPath": "$.req.res",
            "OutputPath": "$.req",
        }
    )
    r = run(engine, d, {"req": {"k": 1}, "drop": True})
    assert r.output == {"k": 1, "res": {"got": {"k": 1}, "code": 200}}


def test_choice_rule_assign_uses_state_input(engine):
    d = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 0, "Assign": {"seen.$": "$.n"}, "Next": "P"}
                ],
                "Default": "P",
            },
            "P": {"Type": "Pass", "Parameters": {"seen.$": "$seen"}, "End": True},
        },
    }
    assert run(engine, d, {"n": 4}).output == {"seen": 4}


def test_catcher_assign_reads_error_output(engine):
    d = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}}}
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["Boom"],
                        "Assign": {"err.$": "$.Error"},
                        "ResultPath": None,
                        "Next": "After",
                    }
                ],
                "End": True,
            },
            "After": {"Type": "Pass", "Parameters": {"e.$": "$err", "in.$": "$"}, "End": True},
        },
    }
    assert run(engine, d, {"x": 1}).output == {"e": "Boom", "in": {"x": 1}}
