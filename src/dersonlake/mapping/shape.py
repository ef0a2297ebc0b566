"""Reading untrusted JSON objects key by key, with the JSON path of every value at hand.

The mapping and settings documents are written by hand; a typo must come back as one error that
names the exact place (``rules[3].filters[0].filter-conditions[1].filter-operator``), the value and
what would have been accepted. These helpers raise ``BadInput`` without a file name; the public
entry points add the file with ``BadInput.located``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dersonlake.errors import BadInput


def child(path: str, key: str | int) -> str:
    """The JSON path of ``key`` inside the value at ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def expect_object(value: Any, path: str, what: str = "an object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInput(f"must be {what}, not {type_name(value)}", path=path or None, value=_short(value))
    return value


def expect_list(value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        raise BadInput(f"must be an array, not {type_name(value)}", path=path, value=_short(value))
    if non_empty and not value:
        raise BadInput("must not be empty", path=path, value=value)
    return value


def check_keys(
    obj: Mapping[str, Any], path: str, allowed: Iterable[str], required: Iterable[str] = (), what: str = "key"
) -> None:
    """Unknown keys and missing required keys, reported one at a time in document order."""
    allowed = list(allowed)
    for key in obj:
        if key not in allowed:
            raise BadInput(f"unknown {what}", path=child(path, key), value=key, allowed=allowed)
    for key in required:
        if key not in obj:
            raise BadInput(f"missing required {what} {key!r}", path=path or None, allowed=allowed)


def get_str(obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    """A string value; numbers are taken as their text because DMS exports mix the two."""
    if key not in obj or obj[key] is None:
        if required:
            raise BadInput(f"missing required key {key!r}", path=path or None)
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadInput(
            f"must be a string, not {type_name(value)}", path=child(path, key), value=_short(value)
        )
    return str(value)


def get_name(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    """A non-empty string that names something (schema, table, column)."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        if key not in obj:
            raise BadInput(f"missing required key {key!r}", path=path or None)
        raise BadInput(
            f"must be a string, not {type_name(value)}", path=child(path, key), value=_short(value)
        )
    if value == "":
        raise BadInput("must not be empty", path=child(path, key), value=value)
    return value


def get_enum(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    allowed: Iterable[str],
    *,
    required: bool = True,
    default: str | None = None,
) -> str | None:
    """One of ``allowed``, compared exactly (DMS rule keywords are case-sensitive)."""
    allowed = list(allowed)
    if key not in obj:
        if required:
            raise BadInput(f"missing required key {key!r}", path=path or None, allowed=allowed)
        return default
    value = obj[key]
    if not isinstance(value, str) or value not in allowed:
        raise BadInput(f"is not a valid {key}", path=child(path, key), value=value, allowed=allowed)
    return value


def to_int(value: Any, path: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer given as a JSON number or as a string of digits (the DMS examples quote them)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        if len(value.strip()) > 18:  # past int64, and int() refuses past 4,300 digits
            raise BadInput("the number is too long (at most 18 digits)", path=path, value=_short(value))
        number = int(value.strip())
    if number is None:
        raise BadInput("must be an integer (a number or a string of digits)", path=path, value=_short(value))
    if minimum is not None and number < minimum:
        raise BadInput(f"must be at least {minimum}", path=path, value=value)
    if maximum is not None and number > maximum:
        raise BadInput(f"must be at most {maximum}", path=path, value=value)
    return number


def _short(value: Any) -> Any:
    """Keep error messages one line long when someone passes a whole object where a name belongs."""
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
