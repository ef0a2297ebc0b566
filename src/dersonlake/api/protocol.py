"""The AWS JSON protocol (``application/x-amz-json-1.x``): requests checked and responses shaped
by botocore's own service models, errors in AWS's ``{"__type", "message"}`` form.

Using botocore's bundled models (the same files boto3 and the aws CLI serialise with) instead of
hand-written shapes means a request the real service would reject is rejected here with the same
kind of error, naming the member, and a response carries exactly the members the clients expect.
"""

from __future__ import annotations

import functools
import json
import math
from datetime import datetime
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

SCALARS = {"string": str, "boolean": bool, "blob": str}
# Services whose enums are matched case-insensitively with ``_`` equal to ``-``: DMS's model spells
# them ``parquet-2-0``/``gzip`` while its docs, the CLI examples and the Terraform provider send
# ``PARQUET_2_0``/``GZIP``, and DMS accepts both (reference/dms.md §3.1, §7 item 1).
LOOSE_ENUM_SERVICES = frozenset({"dms"})


class ApiError(Exception):
    """An error response: AWS's error code (``__type``), a message and the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of ``name`` (``stepfunctions``, ``dms``); loaded once per process."""
    return botocore.session.get_session().get_service_model(name)


def operation(model: ServiceModel, target: str | None, prefix: str) -> OperationModel:
    """The operation named by ``X-Amz-Target: <prefix>.<Operation>``."""
    if not target or not target.startswith(prefix + "."):
        raise ApiError("UnknownOperationException", f"expected X-Amz-Target {prefix}.<Operation>")
    name = target[len(prefix) + 1 :]
    if name not in model.operation_names:
        raise ApiError("UnknownOperationException", f"unknown operation {name!r}")
    return model.operation_model(name)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON request body; an empty body is an empty structure, as botocore sends for no params."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ApiError("SerializationException", f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        value = None
    if value is None or _depth_over(value, MAX_JSON_DEPTH):
        raise ApiError(
            "SerializationException", f"the request body is nested deeper than {MAX_JSON_DEPTH} levels"
        )
    if not isinstance(value, dict):
        raise ApiError("SerializationException", "the request body must be a JSON object")
    return value


# No AWS input shape is nested more than a dozen levels; a deeper body is an attack or a bug.
MAX_JSON_DEPTH = 64


def _depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def validate(op: OperationModel, params: dict[str, Any]) -> None:
    """Check ``params`` against the operation's input shape, as the service does before running it.

    Type mismatches and unknown members are ``SerializationException`` / ``ValidationException``;
    constraint violations use AWS's wording ("1 validation error detected: Value ... at 'name'
    failed to satisfy constraint: ..."), all collected so one response names every member at fault.
    """
    shape = op.input_shape
    if shape is None:
        if params:
            raise ApiError("ValidationException", f"{op.name} takes no parameters; got {sorted(params)}")
        return
    problems: list[str] = []
    loose = op.service_model.service_name in LOOSE_ENUM_SERVICES
    _check(shape, params, "", problems, loose)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ApiError("ValidationException", f"{count} validation {noun} detected: " + "; ".join(problems))


def _check(shape: Shape, value: Any, path: str, problems: list[str], loose: bool = False) -> None:
    kind = shape.type_name
    where = path or shape.name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ApiError("SerializationException", f"'{where}' must be a JSON object")
        members = shape.members
        for key in value:
            if key not in members:
                allowed = ", ".join(members)
                problems.append(f"Unknown member '{_join(path, key)}' in {shape.name}; allowed: {allowed}")
        for name in shape.required_members:
            if value.get(name) is None:
                where_null = _join(path, name)
                problems.append(
                    f"Value null at '{where_null}' failed to satisfy constraint: Member must not be null"
                )
        for key, item in value.items():
            if key in members and item is not None:
                _check(members[key], item, _join(path, key), problems, loose)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise ApiError("SerializationException", f"'{where}' must be a JSON array")
        _limits(shape, len(value), value, where, problems, "length")
        for i, item in enumerate(value):
            _check(shape.member, item, f"{where}.{i + 1}.member", problems, loose)
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise ApiError("SerializationException", f"'{where}' must be a JSON object")
        for key, item in value.items():
            _check(shape.key, key, f"{where}.key", problems, loose)
            _check(shape.value, item, f"{where}.{key}", problems, loose)
        return
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ApiError("SerializationException", f"'{where}' must be an integer, got {value!r}")
        _limits(shape, value, value, where, problems, "value")
        return
    if kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ApiError("SerializationException", f"'{where}' must be a number, got {value!r}")
        return
    if kind == "timestamp":
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            raise ApiError("SerializationException", f"'{where}' must be a timestamp, got {value!r}")
        return
    expected = SCALARS.get(kind)
    if expected is not None and not isinstance(value, expected):
        raise ApiError("SerializationException", f"'{where}' must be a {kind}, got {value!r}")
    if kind == "string":
        _limits(shape, len(value), value, where, problems, "length")
        enum = shape.enum
        if enum and value not in enum and not (loose and _fold(value) in {_fold(e) for e in enum}):
            problems.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )


def _limits(shape: Shape, size: int, value: Any, where: str, problems: list[str], what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    shown = value if isinstance(value, int) else (value if len(str(value)) <= 80 else "...")
    if low is not None and size < low:
        problems.append(
            f"Value '{shown}' at '{where}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {low}"
        )
    if high is not None and size > high:
        problems.append(
            f"Value '{shown}' at '{where}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {high}"
        )


def _fold(value: str) -> str:
    return value.lower().replace("_", "-")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def shape_output(shape: Shape | None, value: Any) -> Any:
    """``value`` reduced to the members of ``shape``, timestamps as epoch seconds (AWS's JSON form).

    Keys the model does not know are dropped, so a client never sees members AWS would not send.
    """
    if shape is None or value is None:
        return {} if shape is None else None
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        out = {}
        for key, item in value.items():
            if key in members and item is not None:
                out[key] = shape_output(members[key], item)
        return out
    if kind == "list":
        return [shape_output(shape.member, item) for item in value]
    if kind == "map":
        return {k: shape_output(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return epoch(value)
    return value


def epoch(value: Any) -> float:
    """Epoch seconds, with milliseconds, as AWS's JSON protocols send timestamps."""
    seconds = value.timestamp() if isinstance(value, datetime) else float(value)
    return math.floor(seconds * 1000) / 1000


def dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
