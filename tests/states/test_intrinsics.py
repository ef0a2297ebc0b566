"""Intrinsic functions (asl.md §1.4), evaluated through Pass Parameters like a real machine."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from dersonlake.states import intrinsics
from dersonlake.states.failures import StatesFailure
from tests.states.conftest import one, run

DATA = {"name": "Ana", "n": 3, "arr": [1, 2, 2, 3], "obj": {"a": 1}, "other": {"b": 2}, "json": '{"k":[1]}'}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("States.Format('Hello {}, you have {} items', $.name, $.n)", "Hello Ana, you have 3 items"),
        ("States.Format('literal \\{\\} and {}', $.obj)", 'literal {} and {"a":1}'),
        ("States.Format('it\\'s {}', true)", "it's true"),
        ("States.StringToJson($.json)", {"k": [1]}),
        ("States.JsonToString($.obj)", '{"a":1}'),
        ("States.Array($.name, 1, null, States.Array())", ["Ana", 1, None, []]),
        ("States.ArrayPartition($.arr, 3)", [[1, 2, 2], [3]]),
        ("States.ArrayContains($.arr, 3)", True),
        ("States.ArrayContains($.arr, 9)", False),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayGetItem($.arr, 3)", 3),
        ("States.ArrayLength($.arr)", 4),
        ("States.ArrayUnique($.arr)", [1, 2, 3]),
        ("States.Base64Encode($.name)", base64.b64encode(b"Ana").decode()),
        ("States.Base64Decode('QW5h')", "Ana"),
        ("States.Hash($.name, 'SHA-256')", hashlib.sha256(b"Ana").hexdigest()),
        ("States.Hash($.name, 'MD5')", hashlib.md5(b"Ana").hexdigest()),
        ("States.JsonMerge($.obj, $.other, false)", {"a": 1, "b": 2}),
        ("States.MathAdd($.n, -10)", -7),
        ("States.StringSplit('a,b;;c', ',;')", ["a", "b", "c"]),
        ("States.ArrayLength(States.StringSplit(States.Format('{}-{}', 1, 2), '-'))", 2),
    ],
)
def test_function(engine, expr, expected):
    r = run(engine, one({"Type": "Pass", "Parameters": {"v.$": expr}}), DATA)
    assert r.status == "SUCCEEDED", r.cause
    assert r.output == {"v": expected}


def test_math_random_in_range_and_seeded():
    for _ in range(20):
        v = intrinsics.evaluate("States.MathRandom(3, 6)", {})
        assert 3 <= v < 6
    a = intrinsics.evaluate("States.MathRandom(0, 1000000, 42)", {})
    assert a == intrinsics.evaluate("States.MathRandom(0, 1000000, 42)", {})


def test_uuid_is_v4():
    v = intrinsics.evaluate("States.UUID()", {})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", v)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("States.MathAdd(1.5, 1)", 3),
        ("States.MathAdd(-2.5, 0)", -2),
        ("States.MathAdd(2.4, 0.6)", 3),
        ("States.ArrayRange(1.4, 3.6, 1)", [1, 2, 3, 4]),
    ],
)
def test_non_integer_numbers_are_rounded_half_up_as_aws_does(expr, value):
    # AWS: "If you specify a non-integer value ... Step Functions will round it off to the nearest integer."
    assert intrinsics.evaluate(expr, DATA) == value


@pytest.mark.parametrize(
    "expr",
    [
        "States.Format('{} {}', 1)",  # placeholder/argument count mismatch
        "States.ArrayRange(1, 2000, 1)",  # more than 1000 items
        "States.JsonMerge($.obj, $.other, true)",  # deep merge is rejected
        "States.ArrayGetItem($.arr, 10)",
        "States.StringToJson('{bad')",
        "States.MathAdd('1', 1)",  # a string is not a number
        "States.Hash($.name, 'SHA-999')",
        "States.ArrayLength($.missing)",
    ],
)
def test_failures_are_intrinsic_failure(engine, expr):
    with pytest.raises(StatesFailure) as info:
        intrinsics.evaluate(expr, DATA)
    assert info.value.error == "States.IntrinsicFailure"
    r = run(engine, one({"Type": "Pass", "Parameters": {"v.$": expr}}), DATA)
    assert (r.status, r.error) == ("FAILED", "States.IntrinsicFailure")


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("States.Nope(1)", "unknown intrinsic function"),
        ("States.Format('x'", "missing ')'"),
        ("States.ArrayLength(1, 2)", "takes 1 argument"),
        ("States.Format('unterminated)", "unterminated string"),
        ("States.Array(" * 11 + ")" * 11, "nest at most 10"),
    ],
)
def test_syntax_errors(expr, problem):
    with pytest.raises(intrinsics.IntrinsicSyntax, match=re.escape(problem)):
        intrinsics.parse(expr)
