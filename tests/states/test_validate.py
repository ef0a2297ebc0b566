"""Malformed definitions are rejected with the state, the field and the problem (InvalidDefinition)."""

from __future__ import annotations

import copy

import pytest

from dersonlake.errors import BadInput
from dersonlake.states import InvalidDefinition, load_definition

TASK = "arn:aws:states:::lambda:invoke"


def machine(**states):
    first = next(iter(states))
    return {"StartAt": first, "States": states}


GOOD = machine(
    CheckStatus={
        "Type": "Task",
        "Resource": TASK,
        "Retry": [{"ErrorEquals": ["Lambda.ServiceException"]}, {"ErrorEquals": ["States.ALL"]}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
        "Next": "Done",
    },
    Done={"Type": "Succeed"},
    Failed={"Type": "Fail", "Error": "E"},
)


def with_change(path, value):
    d = copy.deepcopy(GOOD)
    node = d
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


CASES = [
    (with_change(["StartAt"], "Nope"), "StartAt", "names no state"),
    (with_change(["States", "CheckStatus", "Next"], "Nowhere"), "States.CheckStatus.Next", "names no state"),
    (with_change(["States", "CheckStatus", "Type"], "Tsk"), "States.CheckStatus.Type", "did you mean 'Task'"),
    (
        with_change(["States", "CheckStatus", "Resource"], "lambda:foo"),
        "States.CheckStatus.Resource",
        "not a valid resource ARN",
    ),
    (
        with_change(
            ["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]
        ),
        "States.CheckStatus.Retry[0].ErrorEquals",
        "must be the last",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["States.ALL", "X"]}]),
        "States.CheckStatus.Retry[0].ErrorEquals",
        "alone",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": []}]),
        "States.CheckStatus.Retry[0].ErrorEquals",
        "non-empty",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["States.Bogus"]}]),
        "States.CheckStatus.Retry[0].ErrorEquals",
        "reserved",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]),
        "States.CheckStatus.Retry[0].BackoffRate",
        ">= 1.0",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["X"], "IntervalSeconds": 0}]),
        "States.CheckStatus.Retry[0].IntervalSeconds",
        "from 1",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["X"], "MaxDelaySeconds": 0}]),
        "States.CheckStatus.Retry[0].MaxDelaySeconds",
        "from 1",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]),
        "States.CheckStatus.Retry[0].JitterStrategy",
        "FULL",
    ),
    (
        with_change(["States", "CheckStatus", "Retry"], [{"ErrorEquals": ["X"], "Tries": 1}]),
        "States.CheckStatus.Retry[0].Tries",
        "not a retrier field",
    ),
    (
        with_change(["States", "CheckStatus", "Catch"], [{"ErrorEquals": ["X"]}]),
        "States.CheckStatus.Catch[0].Next",
        "required",
    ),
    (with_change(["States", "CheckStatus", "End"], True), "States.CheckStatus", "exactly one of Next or End"),
    (
        with_change(["States", "CheckStatus", "Next"], KeyError),
        "States.CheckStatus",
        "exactly one of Next or End",
    ),
    (
        with_change(["States", "CheckStatus", "ResultPath"], "$.a[*]"),
        "States.CheckStatus.ResultPath",
        "reference path",
    ),
    (
        with_change(["States", "CheckStatus", "Parameters"], {"x.$": 5}),
        "States.CheckStatus.Parameters.x.$",
        "string path",
    ),
    (
        with_change(["States", "CheckStatus", "Parameters"], {"x.$": "States.Formatt('a')"}),
        "States.CheckStatus.Parameters.x.$",
        "unknown intrinsic",
    ),
    (
        with_change(["States", "CheckStatus", "Parameters"], {"x.$": "nopath"}),
        "States.CheckStatus.Parameters.x.$",
        "path",
    ),
    (with_change(["States", "CheckStatus", "TimeoutSeconds"], 5) | {}, None, None),  # valid, sanity
    (with_change(["States", "CheckStatus", "HeartbeatSeconds"], 5), None, None),
    (with_change(["States", "Done", "Next"], "Failed"), "States.Done.Next", "not a field of a Succeed"),
    (with_change(["States", "Extra"], {"Type": "Pass", "End": True}), "States.Extra", "not reachable"),
    (with_change(["States", "Failed", "ErrorPath"], "$.e"), "States.Failed.ErrorPath", "only one of Error"),
    (with_change(["Bogus"], 1), "Bogus", "unknown top-level field"),
    (with_change(["TimeoutSeconds"], 0), "TimeoutSeconds", "from 1"),
    (
        with_change(["States", "CheckStatus", "Output"], "{% 1 %}"),
        "States.CheckStatus.Output",
        "JSONata field",
    ),
]


@pytest.mark.parametrize(("definition", "path", "fragment"), CASES)
def test_invalid_definition(definition, path, fragment):
    if path is None:
        load_definition(definition)
        return
    with pytest.raises(InvalidDefinition) as info:
        load_definition(definition)
    assert info.value.path == path
    assert fragment in str(info.value)
    assert isinstance(info.value, BadInput) and info.value.code == "InvalidDefinition"


def _assert_invalid(definition, path, fragment):
    with pytest.raises(InvalidDefinition) as info:
        load_definition(definition)
    assert info.value.path == path, str(info.value)
    assert fragment in str(info.value)


def test_heartbeat_must_be_below_timeout():
    d = with_change(["States", "CheckStatus", "TimeoutSeconds"], 5)
    d["States"]["CheckStatus"]["HeartbeatSeconds"] = 5
    _assert_invalid(d, "States.CheckStatus.HeartbeatSeconds", "smaller than TimeoutSeconds")


def test_not_json():
    with pytest.raises(InvalidDefinition, match="not valid JSON"):
        load_definition("{nope", file="states.json")


def test_no_terminal_state():
    d = machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"})
    _assert_invalid(d, "States", "no terminal state")


CHOICE_CASES = [
    (
        {"Variable": "$.x", "StringEquals": 5, "Next": "D"},
        "States.C.Choices[0].StringEquals",
        "needs a string",
    ),
    (
        {"Variable": "$.x", "NumericEquals": "5", "Next": "D"},
        "States.C.Choices[0].NumericEquals",
        "needs a number",
    ),
    (
        {"Variable": "$.x", "TimestampEquals": "yesterday", "Next": "D"},
        "States.C.Choices[0].TimestampEquals",
        "RFC 3339",
    ),
    ({"Variable": "$.x", "IsPresent": "yes", "Next": "D"}, "States.C.Choices[0].IsPresent", "true or false"),
    ({"Variable": "x", "IsPresent": True, "Next": "D"}, "States.C.Choices[0].Variable", "start with '$'"),
    ({"StringEquals": "a", "Next": "D"}, "States.C.Choices[0].Variable", "required"),
    ({"Variable": "$.x", "Next": "D"}, "States.C.Choices[0]", "exactly one comparison"),
    ({"Variable": "$.x", "StringEquals": "a"}, "States.C.Choices[0].Next", "required"),
    (
        {"And": [{"Variable": "$.x", "IsNull": True, "Next": "D"}], "Next": "D"},
        "States.C.Choices[0].And[0].Next",
        "must not",
    ),
    ({"Or": [], "Next": "D"}, "States.C.Choices[0].Or", "non-empty"),
    (
        {"Variable": "$.x", "StringEquals": "a", "Next": "Nowhere"},
        "States.C.Choices[0].Next",
        "names no state",
    ),
]


@pytest.mark.parametrize(("rule", "path", "fragment"), CHOICE_CASES)
def test_invalid_choice_rule(rule, path, fragment):
    d = machine(C={"Type": "Choice", "Choices": [rule], "Default": "D"}, D={"Type": "Succeed"})
    _assert_invalid(d, path, fragment)


def test_wait_needs_exactly_one_form():
    _assert_invalid(
        machine(W={"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}),
        "States.W",
        "exactly one",
    )
    _assert_invalid(
        machine(W={"Type": "Wait", "Seconds": -1, "End": True}), "States.W.Seconds", "non-negative"
    )
    _assert_invalid(
        machine(W={"Type": "Wait", "Timestamp": "2026-01-01", "End": True}), "States.W.Timestamp", "RFC 3339"
    )


def test_nested_scopes_are_checked_with_their_path():
    inner = {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Outer"}}}
    d = machine(P={"Type": "Parallel", "Branches": [inner], "Next": "Outer"}, Outer={"Type": "Succeed"})
    _assert_invalid(d, "States.P.Branches[0].States.X.Next", "names no state")
    m = machine(
        M={
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Pas", "End": True}}},
            "End": True,
        }
    )
    _assert_invalid(m, "States.M.ItemProcessor.States.Y.Type", "unknown state type")


def test_map_fields():
    proc = {"StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": True}}}
    _assert_invalid(machine(M={"Type": "Map", "End": True}), "States.M.ItemProcessor", "required")
    _assert_invalid(
        machine(M={"Type": "Map", "ItemProcessor": proc, "MaxConcurrency": -1, "End": True}),
        "States.M.MaxConcurrency",
        "non-negative",
    )
    _assert_invalid(
        machine(M={"Type": "Map", "ItemProcessor": proc, "ToleratedFailurePercentage": 101, "End": True}),
        "States.M.ToleratedFailurePercentage",
        "0 to 100",
    )
    _assert_invalid(
        machine(M={"Type": "Map", "ItemProcessor": {**proc, "QueryLanguage": "JSONata"}, "End": True}),
        "States.M.ItemProcessor.QueryLanguage",
        "cannot declare QueryLanguage",
    )
    load_definition(
        machine(M={"Type": "Map", "Iterator": proc, "Parameters": {"v.$": "$$.Map.Item.Value"}, "End": True})
    )


def test_resource_forms_accepted():
    for arn in (
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::sns:publish",
        "arn:aws:states:::aws-sdk:s3:getObject",
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn",
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn:live",
        "arn:aws:states:us-east-1:123456789012:activity:act",
    ):
        load_definition(machine(T={"Type": "Task", "Resource": arn, "End": True}))


def test_jsonata_machine_cannot_hold_jsonpath_state():
    d = {"QueryLanguage": "JSONata", **machine(A={"Type": "Pass", "QueryLanguage": "JSONPath", "End": True})}
    _assert_invalid(d, "States.A.QueryLanguage", "cannot contain a JSONPath state")


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("{% $eval('1') %}", "$eval"),
        ("{% $.a %}", "top level"),
        ("{% $$ %}", "top level"),
        ("{% $x ?? 1 %}", "'??'"),
        ("{% $x ?: 1 %}", "'?:'"),
        ("{% 1 + %}", "invalid JSONata"),
    ],
)
def test_jsonata_rejects_what_aws_rejects(expr, fragment):
    d = {"QueryLanguage": "JSONata", **machine(A={"Type": "Pass", "Output": expr, "End": True})}
    _assert_invalid(d, "States.A.Output", fragment)


def test_jsonata_state_rejects_jsonpath_fields():
    d = {"QueryLanguage": "JSONata", **machine(A={"Type": "Pass", "InputPath": "$.a", "End": True})}
    _assert_invalid(d, "States.A.InputPath", "JSONPath field")
