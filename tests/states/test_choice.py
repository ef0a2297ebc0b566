"""Choice rules (asl.md §1.5): every operator, its Path variant, type tests and combinators."""

from __future__ import annotations

import pytest

from dersonlake.states import choice
from tests.states.conftest import run

DATA = {
    "s": "banana",
    "n": 5,
    "f": 2.5,
    "b": True,
    "t": "2026-01-02T03:04:05Z",
    "nul": None,
    "other_s": "cherry",
    "other_n": 5,
    "other_t": "2026-01-02T04:04:05+01:00",
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.s", "StringEquals": "banana"}, True),
        ({"Variable": "$.s", "StringLessThan": "cherry"}, True),
        ({"Variable": "$.s", "StringGreaterThan": "apple"}, True),
        ({"Variable": "$.s", "StringLessThanEquals": "banana"}, True),
        ({"Variable": "$.s", "StringGreaterThanEquals": "bananas"}, False),
        ({"Variable": "$.s", "StringEqualsPath": "$.other_s"}, False),
        ({"Variable": "$.s", "StringLessThanPath": "$.other_s"}, True),
        ({"Variable": "$.s", "StringGreaterThanPath": "$.other_s"}, False),
        ({"Variable": "$.s", "StringLessThanEqualsPath": "$.other_s"}, True),
        ({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.s"}, True),
        ({"Variable": "$.n", "NumericEquals": 5}, True),
        ({"Variable": "$.f", "NumericLessThan": 3}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 5}, False),
        ({"Variable": "$.n", "NumericLessThanEquals": 5}, True),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 6}, False),
        ({"Variable": "$.n", "NumericEqualsPath": "$.other_n"}, True),
        ({"Variable": "$.f", "NumericLessThanPath": "$.n"}, True),
        ({"Variable": "$.f", "NumericGreaterThanPath": "$.n"}, False),
        ({"Variable": "$.n", "NumericLessThanEqualsPath": "$.other_n"}, True),
        ({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.f"}, True),
        ({"Variable": "$.b", "BooleanEquals": True}, True),
        ({"Variable": "$.b", "BooleanEqualsPath": "$.b"}, True),
        ({"Variable": "$.t", "TimestampEquals": "2026-01-02T03:04:05Z"}, True),
        ({"Variable": "$.t", "TimestampEqualsPath": "$.other_t"}, True),  # same instant, other offset
        ({"Variable": "$.t", "TimestampLessThan": "2026-01-02T03:04:06Z"}, True),
        ({"Variable": "$.t", "TimestampGreaterThan": "2026-01-02T03:04:06Z"}, False),
        ({"Variable": "$.t", "TimestampLessThanEquals": "2026-01-02T03:04:05Z"}, True),
        ({"Variable": "$.t", "TimestampGreaterThanEquals": "2027-01-01T00:00:00Z"}, False),
        ({"Variable": "$.t", "TimestampLessThanPath": "$.other_t"}, False),
        ({"Variable": "$.t", "TimestampGreaterThanPath": "$.other_t"}, False),
        ({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.other_t"}, True),
        ({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.other_t"}, True),
        ({"Variable": "$.s", "StringMatches": "ban*"}, True),
        ({"Variable": "$.s", "StringMatches": "*nan*"}, True),
        ({"Variable": "$.s", "StringMatches": "b*x"}, False),
        ({"Variable": "$.nul", "IsNull": True}, True),
        ({"Variable": "$.s", "IsNull": True}, False),
        ({"Variable": "$.s", "IsPresent": True}, True),
        ({"Variable": "$.missing", "IsPresent": False}, True),
        ({"Variable": "$.n", "IsNumeric": True}, True),
        ({"Variable": "$.b", "IsNumeric": True}, False),  # booleans are not numbers
        ({"Variable": "$.s", "IsString": True}, True),
        ({"Variable": "$.b", "IsBoolean": True}, True),
        ({"Variable": "$.t", "IsTimestamp": True}, True),
        ({"Variable": "$.s", "IsTimestamp": False}, True),
        # a type mismatch is no match, never an error
        ({"Variable": "$.s", "NumericEquals": 5}, False),
        ({"Variable": "$.n", "StringEquals": "5"}, False),
        ({"Variable": "$.s", "TimestampEquals": "2026-01-02T03:04:05Z"}, False),
        (
            {"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.b", "BooleanEquals": True}]},
            True,
        ),
        (
            {"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.b", "BooleanEquals": False}]},
            False,
        ),
        ({"Or": [{"Variable": "$.n", "NumericEquals": 4}, {"Variable": "$.b", "BooleanEquals": True}]}, True),
        ({"Not": {"Variable": "$.s", "StringEquals": "banana"}}, False),
        ({"Not": {"Variable": "$.missing", "IsPresent": True}}, True),
    ],
)
def test_rule(rule, expected):
    assert choice.evaluate(rule, DATA) is expected


def test_string_matches_escaped_star_is_literal():
    assert choice.string_matches("a*b", "a\\*b")
    assert not choice.string_matches("axb", "a\\*b")


def test_strings_compare_by_utf16_code_units():
    # U+FF5E (one UTF-16 unit) sorts before U+1F600 (a surrogate pair starting 0xD83D)... not after
    assert choice.evaluate({"Variable": "$.a", "StringLessThan": "\U0001f600"}, {"a": "\uff5e"}) is False


def _machine(rules, default=True):
    states = {
        "C": {"Type": "Choice", "Choices": rules},
        "Yes": {"Type": "Pass", "Result": "yes", "End": True},
        "No": {"Type": "Pass", "Result": "no", "End": True},
    }
    if default:
        states["C"]["Default"] = "No"
    return {"StartAt": "C", "States": states}


def test_choice_goes_to_first_matching_rule_and_keeps_input(engine):
    rules = [
        {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Yes"},
        {"Variable": "$.n", "IsPresent": True, "Next": "No"},
    ]
    r = run(engine, _machine(rules), {"n": 2})
    assert r.output == "yes"
    assert r.types[1:4] == ["ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered"]
    assert r.details("ChoiceStateExited")[0]["output"] == '{"n":2}'


def test_choice_default(engine):
    r = run(engine, _machine([{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Yes"}]), {"n": 2})
    assert r.output == "no"


def test_no_match_without_default_is_no_choice_matched(engine):
    rules = [
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Yes"},
        {"Variable": "$.n", "NumericLessThan": 0, "Next": "No"},
    ]
    r = run(engine, _machine(rules, default=False), {"n": 2})
    assert (r.status, r.error) == ("FAILED", "States.NoChoiceMatched")


def test_missing_variable_is_states_runtime(engine):
    r = run(engine, _machine([{"Variable": "$.missing", "StringEquals": "x", "Next": "Yes"}]), {})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_choice_on_variables_and_context(engine):
    d = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"mode": "fast"}, "Next": "C"},
            **_machine(
                [
                    {
                        "And": [
                            {"Variable": "$mode", "StringEquals": "fast"},
                            {"Variable": "$$.State.Name", "StringEquals": "C"},
                        ],
                        "Next": "Yes",
                    }
                ]
            )["States"],
        },
    }
    assert run(engine, d, {}).output == "yes"
