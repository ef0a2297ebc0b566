"""Choice rules (JSONPath mode): comparisons, their ``...Path`` variants, type tests, And/Or/Not.

A type mismatch is "no match", never an error; a missing ``Variable`` is ``States.Runtime``
unless the rule is a type test (IsPresent guards it). Strings compare by UTF-16 code units, as
Java's ``compareTo`` does on AWS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dersonlake.states import paths
from dersonlake.states.failures import RUNTIME, StatesFailure

_ORDER = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
COMPARISONS = (
    {f"String{o}" for o in _ORDER}
    | {f"Numeric{o}" for o in _ORDER}
    | {f"Timestamp{o}" for o in _ORDER}
    | {"BooleanEquals", "StringMatches"}
)
PATH_COMPARISONS = {f"{c}Path" for c in COMPARISONS if c != "StringMatches"}
TYPE_TESTS = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
COMBINATORS = {"And", "Or", "Not"}
OPERATORS = COMPARISONS | PATH_COMPARISONS | TYPE_TESTS


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (uppercase T, Z or offset), else None."""
    if not isinstance(value, str) or len(value) < 20 or value[10] != "T":
        return None
    if not (value.endswith("Z") or value[-6] in "+-"):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _utf16(s: str) -> bytes:
    return s.encode("utf-16-be")


def _compare(kind: str, op: str, left: Any, right: Any) -> bool:
    if kind == "String":
        if not (isinstance(left, str) and isinstance(right, str)):
            return False
        a, b = _utf16(left), _utf16(right)
    elif kind == "Numeric":
        if not (_is_number(left) and _is_number(right)):
            return False
        a, b = left, right
    elif kind == "Timestamp":
        a, b = parse_timestamp(left), parse_timestamp(right)
        if a is None or b is None:
            return False
    else:  # Boolean
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return {
        "Equals": a == b,
        "LessThan": a < b,
        "GreaterThan": a > b,
        "LessThanEquals": a <= b,
        "GreaterThanEquals": a >= b,
    }[op]


def string_matches(value: Any, pattern: str) -> bool:
    """``*`` matches any run of characters; ``\\*`` is a literal star; nothing else is special."""
    if not isinstance(value, str):
        return False
    tokens: list[str | None] = []  # None = wildcard
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            tokens.append(pattern[i + 1])
            i += 2
        elif pattern[i] == "*":
            tokens.append(None)
            i += 1
        else:
            tokens.append(pattern[i])
            i += 1
    # iterative wildcard matching with backtracking on the last star
    s = p = 0
    star = -1
    mark = 0
    while s < len(value):
        if p < len(tokens) and tokens[p] is not None and tokens[p] == value[s]:
            s += 1
            p += 1
        elif p < len(tokens) and tokens[p] is None:
            star, mark = p, s
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            s = mark
        else:
            return False
    while p < len(tokens) and tokens[p] is None:
        p += 1
    return p == len(tokens)


def _split(op: str) -> tuple[str, str]:
    for kind in ("String", "Numeric", "Timestamp", "Boolean"):
        if op.startswith(kind):
            return kind, op[len(kind) :]
    raise ValueError(op)


def evaluate(
    rule: dict[str, Any], data: Any, context: Any = None, variables: dict[str, Any] | None = None
) -> bool:
    """Whether ``rule`` (a top-level rule or a nested one) matches ``data``."""
    if "And" in rule:
        return all(evaluate(r, data, context, variables) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate(r, data, context, variables) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], data, context, variables)
    op = next(k for k in rule if k in OPERATORS)
    expected = rule[op]
    variable = rule["Variable"]
    try:
        value = paths.resolve(variable, data, context, variables)
        present = True
    except paths.PathMissing:
        value, present = None, False
    if op == "IsPresent":
        return present == expected
    if not present:
        raise StatesFailure(
            RUNTIME,
            f"Invalid path '{variable}': the choice state's condition path references an undefined value.",
        )
    if op in TYPE_TESTS:
        actual = {
            "IsNull": value is None,
            "IsNumeric": _is_number(value),
            "IsString": isinstance(value, str),
            "IsBoolean": isinstance(value, bool),
            "IsTimestamp": parse_timestamp(value) is not None,
        }[op]
        return actual == expected
    if op == "StringMatches":
        return string_matches(value, expected)
    if op.endswith("Path"):
        op = op[:-4]
        try:
            expected = paths.resolve(rule[op + "Path"], data, context, variables)
        except paths.PathMissing as exc:
            raise StatesFailure(RUNTIME, str(exc)) from None
    kind, cmp = _split(op)
    return _compare(kind, cmp, value, expected)
