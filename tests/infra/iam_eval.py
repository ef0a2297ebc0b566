"""A small evaluator of IAM identity policies, enough to decide the requests our code makes.

AWS's rules, as far as the statements we write use them: a request is allowed when some Allow
statement matches it and no Deny statement does (an explicit Deny wins; nothing matching is an
implicit deny). A statement matches when its Action (or NotAction) and Resource (or NotResource)
match, with ``*`` and ``?`` wildcards (actions case-insensitively), and every condition holds.
Conditions: the operators below, ``ForAllValues:``/``ForAnyValue:`` for multi-valued keys, and
AWS's rule that a condition on a key the request lacks fails (except ``...IfExists`` and
``ForAllValues``). An operator this module does not know raises, so a policy using one is never
judged by a guess. No PyPI policy simulator installs here (none is pinned in reference/deps.md),
hence this one; tests/infra/test_checkpoint_policy.py checks it on known answers first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    action: str  # "s3:PutObject"
    resource: str  # an ARN
    context: dict[str, Any] = field(default_factory=dict)  # condition keys: "s3:prefix" -> "raw/x/"

    def __str__(self) -> str:
        ctx = f" {self.context}" if self.context else ""
        return f"{self.action} on {self.resource}{ctx}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


_OPERATORS = {
    "StringEquals": lambda want, got: str(got) == str(want),
    "StringNotEquals": lambda want, got: str(got) != str(want),
    "StringEqualsIgnoreCase": lambda want, got: str(got).lower() == str(want).lower(),
    "StringLike": lambda want, got: _glob(str(want), str(got)),
    "StringNotLike": lambda want, got: not _glob(str(want), str(got)),
    "ArnEquals": lambda want, got: _glob(str(want), str(got)),
    "ArnLike": lambda want, got: _glob(str(want), str(got)),
    "Bool": lambda want, got: str(got).lower() == str(want).lower(),
}
_NEGATED = {"StringNotEquals", "StringNotLike"}


def _condition_holds(operator: str, key: str, wanted: list[Any], context: dict[str, Any]) -> bool:
    qualifier = ""
    if ":" in operator and operator.split(":", 1)[0] in ("ForAllValues", "ForAnyValue"):
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if operator not in _OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not supported by this evaluator")
    test = _OPERATORS[operator]
    lookup = {k.lower(): v for k, v in context.items()}
    if key.lower() not in lookup:
        return if_exists or qualifier == "ForAllValues"
    got = _list(lookup[key.lower()])
    negated = operator in _NEGATED

    def one(value: Any) -> bool:
        results = [test(w, value) for w in wanted]
        return all(results) if negated else any(results)

    if qualifier == "ForAllValues":
        return all(one(v) for v in got)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in got)
    return one(got[0]) if len(got) == 1 else any(one(v) for v in got)


def statement_matches(statement: dict[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(_glob(a, request.action, ignore_case=True) for a in _list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(_glob(a, request.action, ignore_case=True) for a in _list(statement["NotAction"])):
            return False
    else:
        raise ValueError(f"statement {statement.get('Sid')!r} has neither Action nor NotAction")
    if "Resource" in statement:
        if not any(_glob(r, request.resource) for r in _list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        _glob(r, request.resource) for r in _list(statement["NotResource"])
    ):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, _list(wanted), request.context):
                return False
    return True


def decide(policy: dict[str, Any], request: Request) -> str:
    """ "Allow", "ExplicitDeny" or "ImplicitDeny" for ``request`` under an identity policy."""
    allowed = False
    for statement in _list(policy["Statement"]):
        if statement_matches(statement, request):
            if statement["Effect"] == "Deny":
                return "ExplicitDeny"
            allowed = True
    return "Allow" if allowed else "ImplicitDeny"


__all__ = ["Request", "decide", "statement_matches"]
