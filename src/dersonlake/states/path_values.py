"""Numbers and timestamps a state reads from its input at run time, checked as AWS checks them.

``SecondsPath``/``TimestampPath`` (Wait) and ``MaxConcurrencyPath``/``ToleratedFailureCountPath``/
``ToleratedFailurePercentagePath`` (Map) name a value in the input; a value of the wrong kind fails
the execution with ``States.Runtime`` and AWS's own cause text, quoted here so the engine, TestState
and the docs agree. AWS is lenient in places: a numeric string is accepted where an integer is
expected, and MaxConcurrencyPath truncates a fractional number.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from dersonlake.states import choice, paths
from dersonlake.states.failures import RUNTIME, StatesFailure
from dersonlake.states.store import dumps


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def _read(path: str, data: Any, context: Any, variables: dict[str, Any], field: str) -> Any:
    try:
        return paths.resolve(path, data, context, variables)
    except paths.PathMissing:
        raise StatesFailure(
            RUNTIME, f"The {field} parameter does not reference an input value: {path}"
        ) from None


def wait_seconds(path: str, data: Any, context: Any, variables: dict[str, Any]) -> int:
    """SecondsPath: a non-negative integer."""
    value = _read(path, data, context, variables, "SecondsPath")
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatesFailure(
            RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {path} == {_shown(value)}"
        )
    if value < 0:
        raise StatesFailure(
            RUNTIME, f"The SecondsPath parameter references a negative value: {path} == {value}"
        )
    return value


def wait_timestamp(field: str, path_or_value: str, value: Any) -> datetime:
    """Timestamp/TimestampPath: an ISO-8601 date-time with its offset (``2026-01-01T00:00:00Z``)."""
    parsed = choice.parse_timestamp(value) if isinstance(value, str) else None
    if parsed is None:
        raise StatesFailure(
            RUNTIME,
            f"The {field} parameter does not reference a valid ISO-8601 extended offset date-time format"
            f" string: {path_or_value} == {_shown(value)}",
        )
    return parsed


def read_timestamp(path: str, data: Any, context: Any, variables: dict[str, Any]) -> datetime:
    value = _read(path, data, context, variables, "TimestampPath")
    return wait_timestamp("TimestampPath", path, value)


def max_concurrency(path: str, data: Any, context: Any, variables: dict[str, Any]) -> int:
    """MaxConcurrencyPath: an integer (numeric strings and fractions are truncated), not negative."""
    value = _read(path, data, context, variables, "MaxConcurrencyPath")
    if not isinstance(value, int) or isinstance(value, bool):
        with contextlib.suppress(TypeError, ValueError):
            value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise StatesFailure(
            RUNTIME,
            f'The MaxConcurrencyPath field refers to value "{_shown(value)}" which is not a valid integer:'
            f" {path}",
        )
    if value < 0:
        raise StatesFailure(
            RUNTIME, f"Expected non-negative integer for MaxConcurrency, got '{value}' instead."
        )
    return value


def tolerated_count(path: str, data: Any, context: Any, variables: dict[str, Any]) -> int:
    """ToleratedFailureCountPath: an integer (or numeric string), not negative."""
    value = _read(path, data, context, variables, "ToleratedFailureCountPath")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise StatesFailure(
            RUNTIME,
            f'The ToleratedFailureCountPath field refers to value "{_shown(value)}" which is not a valid'
            f" integer: {path}",
        )
    if value < 0:
        raise StatesFailure(RUNTIME, "ToleratedFailureCount cannot be negative.")
    return value


def tolerated_percentage(path: str, data: Any, context: Any, variables: dict[str, Any]) -> float:
    """ToleratedFailurePercentagePath: a number from 0 to 100 (an integer string is accepted)."""
    value = _read(path, data, context, variables, "ToleratedFailurePercentagePath")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, float):
        raise StatesFailure(
            RUNTIME,
            f'The ToleratedFailurePercentagePath field refers to value "{_shown(value)}" which is not a valid'
            f" float: {path}",
        )
    if not 0.0 <= value <= 100.0:
        raise StatesFailure(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
    return value
