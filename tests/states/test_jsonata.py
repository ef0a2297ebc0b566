"""JSONata query language (asl.md §1.9): Arguments, Output, Assign, Condition, Items, $states."""

from __future__ import annotations

import hashlib

from tests.states.conftest import run

FN = "arn:aws:lambda:us-east-1:000000000000:function:"


def jsonata(**states):
    first = next(iter(states))
    return {"QueryLanguage": "JSONata", "StartAt": first, "States": states}


def test_pass_output_and_assign_visible_after_the_state(engine):
    d = jsonata(
        A={
            "Type": "Pass",
            "Assign": {"total": "{% $sum($states.input.xs) %}", "n": 1},
            "Output": {"first": "{% $states.input.xs[0] %}", "lit": "plain"},
            "Next": "B",
        },
        B={"Type": "Pass", "Output": "{% {'total': $total, 'n': $n, 'prev': $states.input} %}", "End": True},
    )
    r = run(engine, d, {"xs": [1, 2, 3]})
    assert r.output == {"total": 6, "n": 1, "prev": {"first": 1, "lit": "plain"}}


def test_assignments_in_one_state_read_values_from_state_entry(engine):
    d = jsonata(
        A={"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        B={"Type": "Pass", "Assign": {"x": 2, "y": "{% $x %}"}, "Output": "{% $x %}", "Next": "C"},
        C={"Type": "Pass", "Output": "{% [$x, $y] %}", "End": True},
    )
    assert run(engine, d, {}).output == [2, 1]


def test_task_arguments_and_output_from_result(engine):
    engine.register_lambda("double", "tests.states.handlers:double")
    d = jsonata(
        T={
            "Type": "Task",
            "Resource": FN + "double",
            "Arguments": "{% $states.input.v + 1 %}",
            "Output": {"in": "{% $states.input.v %}", "res": "{% $states.result %}"},
            "End": True,
        }
    )
    assert run(engine, d, {"v": 4}).output == {"in": 4, "res": 10}


def test_choice_condition(engine):
    d = jsonata(
        C={
            "Type": "Choice",
            "Choices": [{"Condition": "{% $states.input.n > 5 %}", "Next": "Big", "Output": {"kind": "big"}}],
            "Default": "Small",
        },
        Big={"Type": "Succeed"},
        Small={"Type": "Pass", "Output": {"kind": "small"}, "End": True},
    )
    assert run(engine, d, {"n": 9}).output == {"kind": "big"}
    assert run(engine, d, {"n": 1}).output == {"kind": "small"}


def test_map_items_and_item_selector(engine):
    proc = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": "{% $states.input.v * 10 %}", "End": True}},
    }
    d = jsonata(
        M={
            "Type": "Map",
            "Items": "{% $states.input.list %}",
            "ItemSelector": {
                "v": "{% $states.context.Map.Item.Value %}",
                "i": "{% $states.context.Map.Item.Index %}",
            },
            "ItemProcessor": proc,
            "End": True,
        }
    )
    assert run(engine, d, {"list": [1, 2, 3]}).output == [10, 20, 30]


def test_catch_output_and_fail_expressions(engine):
    d = jsonata(
        P={
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "F",
                    "States": {
                        "F": {
                            "Type": "Fail",
                            "Error": "{% 'E' & $string($states.input.code) %}",
                            "Cause": "{% 'bad ' & $states.input.what %}",
                        }
                    },
                }
            ],
            "Catch": [
                {
                    "ErrorEquals": ["E7"],
                    "Output": {
                        "err": "{% $states.errorOutput.Error %}",
                        "why": "{% $states.errorOutput.Cause %}",
                    },
                    "Next": "Done",
                }
            ],
            "End": True,
        },
        Done={"Type": "Succeed"},
    )
    assert run(engine, d, {"code": 7, "what": "disk"}).output == {"err": "E7", "why": "bad disk"}


def test_wait_seconds_expression(engine):
    d = jsonata(W={"Type": "Wait", "Seconds": "{% $states.input.s * 2 %}", "End": True})
    r = run(engine, d, {"s": 4})
    t = {e["type"]: e["timestamp"].timestamp() for e in r.events}
    assert round(t["WaitStateExited"] - t["WaitStateEntered"]) == 8


def test_undefined_is_query_evaluation_error(engine):
    d = jsonata(A={"Type": "Pass", "Output": "{% $states.input.missing %}", "End": True})
    r = run(engine, d, {})
    assert (r.status, r.error) == ("FAILED", "States.QueryEvaluationError")


def test_aws_extra_functions(engine):
    d = jsonata(
        A={
            "Type": "Pass",
            "Output": {
                "part": "{% $partition([1,2,3,4,5], 2) %}",
                "range": "{% $range(0, 10, 5) %}",
                "hash": "{% $hash('abc', 'SHA-256') %}",
                "parsed": "{% $parse('{\"a\":1}') %}",
                "uuid": "{% $length($uuid()) %}",
            },
            "End": True,
        }
    )
    out = run(engine, d, {}).output
    assert out["part"] == [[1, 2], [3, 4], [5]]
    assert out["range"] == [0, 5, 10]
    assert out["hash"] == hashlib.sha256(b"abc").hexdigest()
    assert out["parsed"] == {"a": 1} and out["uuid"] == 36


def test_jsonpath_machine_may_hold_a_jsonata_state(engine):
    d = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Parameters": {"v.$": "$.x"}, "Next": "B"},
            "B": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $states.input.v + 1 %}",
                "End": True,
            },
        },
    }
    assert run(engine, d, {"x": 1}).output == 2


def test_null_is_a_value_not_undefined(engine):
    d = jsonata(A={"Type": "Pass", "Output": {"n": "{% null %}", "m": "{% $states.input.m %}"}, "End": True})
    r = run(engine, d, {"m": None})
    assert (r.status, r.output) == ("SUCCEEDED", {"n": None, "m": None})


def test_evaluation_failed_event_and_catchable_query_error(engine):
    d = jsonata(
        P={
            "Type": "Parallel",
            "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}}],
            "Output": "{% $states.result[0].nope %}",
            "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Done"}],
            "End": True,
        },
        Done={"Type": "Succeed"},
    )
    r = run(engine, d, {})
    assert r.status == "SUCCEEDED" and r.output["Error"] == "States.QueryEvaluationError"
    assert r.details("EvaluationFailed")[0]["state"] == "P"
