"""JSONata query language (``QueryLanguage: JSONata``) on jsonata-python, with AWS's profile.

AWS runs JSONata 2.0.6 without ``$eval`` and without the 2.1 operators ``?:`` and ``??``; it
adds ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid`` and ``$parse``, binds
``$states`` and the workflow variables, and treats an *undefined* result as an error
(``States.QueryEvaluationError``). Every expression is parsed at definition time so a bad one
fails CreateStateMachine, as on AWS (asl.md §1.9).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from functools import lru_cache
from typing import Any

import jsonata
from jsonata.utils import Utils as _JUtils

from dersonlake.states.failures import QUERY_EVALUATION_ERROR, StatesFailure

_EXPR = re.compile(r"^\{%(.*)%\}$", re.S)
_FORBIDDEN = (
    (re.compile(r"\$eval\s*\("), "$eval is not available on AWS; use $parse"),
    (re.compile(r"\?\?"), "the '??' operator (JSONata 2.1) is not available on AWS"),
    (re.compile(r"\?\s*:"), "the '?:' operator (JSONata 2.1) is not available on AWS"),
)
_TOP_LEVEL_ROOT = re.compile(r"^\$(\$|\.|\[|$)")
_STRING = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")


def expression(value: Any) -> str | None:
    """The expression inside ``{% ... %}``, or None when ``value`` is a literal."""
    if isinstance(value, str):
        m = _EXPR.match(value)
        if m:
            return m.group(1).strip()
    return None


def check_expression(text: str) -> str | None:
    """The problem with an expression (AWS's INVALID_JSONATA_EXPRESSION), or None."""
    bare = _STRING.sub("''", text)
    for pattern, problem in _FORBIDDEN:
        if pattern.search(bare):
            return problem
    if not text:
        return "the expression is empty"
    if _TOP_LEVEL_ROOT.match(text):
        return "'$' and '$$' cannot be used at the top level of an expression; use $states.input"
    try:
        _compile(text)
    except Exception as exc:  # jsonata-python raises its own JException
        return f"invalid JSONata expression: {exc}"
    return None


def check_template(value: Any, at: str) -> None:
    from dersonlake.states.validate import fail

    if isinstance(value, dict):
        for k, v in value.items():
            check_template(v, f"{at}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_template(v, f"{at}[{i}]")
    else:
        text = expression(value)
        if text is not None:
            problem = check_expression(text)
            if problem:
                raise fail(problem, at, value)


def validate_state(kind: str, body: dict[str, Any], at: str) -> None:
    """JSONata fields of one state: every ``{% %}`` must parse; Assign must be an object."""
    for key in ("Arguments", "Output", "Assign", "Items", "ItemSelector", "Seconds", "Timestamp"):
        if key in body:
            check_template(body[key], f"{at}.{key}")
    for key in ("TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "Error", "Cause"):
        if key in body:
            check_template(body[key], f"{at}.{key}")
    for key in ("ToleratedFailureCount", "ToleratedFailurePercentage"):
        if key in body:
            check_template(body[key], f"{at}.{key}")
    if "Assign" in body and not isinstance(body["Assign"], dict):
        from dersonlake.states.validate import fail

        raise fail("must be an object of variable names", f"{at}.Assign", body["Assign"])
    for i, c in enumerate(body.get("Catch", []) or []):
        if isinstance(c, dict):
            for key in ("Output", "Assign"):
                if key in c:
                    check_template(c[key], f"{at}.Catch[{i}].{key}")


def validate_condition(rule: dict[str, Any], at: str) -> None:
    from dersonlake.states.validate import fail

    extra = set(rule) - {"Condition", "Next", "Output", "Assign", "Comment"}
    if extra:
        raise fail("is not a JSONata choice-rule field", f"{at}.{sorted(extra)[0]}")
    if "Condition" not in rule:
        raise fail("is required in a JSONata choice rule", f"{at}.Condition")
    cond = rule["Condition"]
    if not isinstance(cond, bool) and expression(cond) is None:
        raise fail("must be a {% %} expression or a boolean", f"{at}.Condition", cond)
    check_template(cond, f"{at}.Condition")
    for key in ("Output", "Assign"):
        if key in rule:
            check_template(rule[key], f"{at}.{key}")


@lru_cache(maxsize=2048)
def _compile(text: str) -> jsonata.Jsonata:
    expr = jsonata.Jsonata(text)
    expr.set_output_convert_nulls(False)  # JSON null stays distinct from undefined (an error on AWS)
    expr.register_lambda(
        "partition", lambda arr, n: [arr[i : i + int(n)] for i in range(0, len(arr), int(n))]
    )
    expr.register_lambda("range", _range)
    expr.register_lambda("hash", _hash)
    expr.register_lambda("random", lambda *seed: random.Random(seed[0]).random() if seed else random.random())
    expr.register_lambda("uuid", lambda: str(uuid.uuid4()))
    expr.register_lambda("parse", lambda s: json.loads(s))
    return expr


class FunctionError(Exception):
    """An error of one of AWS's added functions, with the JSONata-style code AWS reports (``T0410``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = code


def _range(*args: Any) -> Any:
    """AWS's ``$range(start, end, step)``: arguments truncated to integers, both ends included;
    an empty range is undefined and a one-item range is that item, as JSONata sequences go."""
    if len(args) > 3:
        raise FunctionError("T0410", 'Argument 4 of function "range" does not match function signature')
    for i, value in enumerate(args, 1):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FunctionError(
                "T0410", f'Argument {i} of function "range" does not match function signature'
            )
    if len(args) < 3:
        return None
    start, end, step = (int(v) for v in args)
    if step == 0 or (step > 0 and start > end) or (step < 0 and start < end):
        return None
    values = list(range(start, end + (1 if step > 0 else -1), step))
    return values[0] if len(values) == 1 else values


def _hash(data: Any, algorithm: Any) -> str:
    names = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
    text = data if isinstance(data, str) else json.dumps(_plain(data), separators=(",", ":"))
    return hashlib.new(names[algorithm], text.encode()).hexdigest()


def evaluate_expression(
    text: str, states: dict[str, Any], variables: dict[str, Any], field: str = "Output"
) -> Any:
    """One expression with ``$states`` and the variables bound; undefined is an error.

    Failures are ``States.QueryEvaluationError`` with AWS's causes, naming the field the
    expression sits in (``Output/v``, ``Assign/x``, ``Choices[1]/Condition``).
    """
    expr = _compile(text)
    frame = expr.create_frame()
    frame.bind("states", states)
    for name, value in variables.items():
        frame.bind(name, value)
    try:
        result = expr.evaluate(None, frame)
    except Exception as exc:
        code = getattr(exc, "error", None)
        detail = f"{code}: {exc}" if isinstance(code, str) and code else str(exc)
        raise StatesFailure(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{text}' specified for the field '{field}' threw an error during"
            f" evaluation. {detail}",
            located=True,
        ) from None
    if result is None:
        raise StatesFailure(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{text}' specified for the field '{field}'"
            " returned nothing (undefined).",
            located=True,
        )
    return _plain(result)


def _plain(value: Any) -> Any:
    """jsonata-python may return its own sequence and null types; make plain JSON values."""
    if value is _JUtils.NULL_VALUE:
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def evaluate(value: Any, states: dict[str, Any], variables: dict[str, Any], field: str = "Output") -> Any:
    """A JSONata template: ``{% %}`` strings at any depth are evaluated, the rest is literal.

    ``field`` names where the template sits, extended as it descends (``Output/v``,
    ``Output/list[0]``), for AWS's error causes.
    """
    if isinstance(value, dict):
        return {k: evaluate(v, states, variables, f"{field}/{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, states, variables, f"{field}[{i}]") for i, v in enumerate(value)]
    text = expression(value)
    if text is None:
        return value
    return evaluate_expression(text, states, variables, field)
