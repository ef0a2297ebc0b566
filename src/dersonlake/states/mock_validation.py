"""TestState's ``mock.fieldValidationMode``: a mocked result checked against the integration's API.

AWS validates a mocked Task result against the output shape of the API the resource calls
(``lambda:invoke`` -> Lambda ``Invoke``, ``aws-sdk:s3:getObject`` -> S3 ``GetObject``, ...):
``STRICT`` (the default) wants every required member and every present member of the right type;
``PRESENT`` checks only the members given; ``NONE`` checks nothing. Members the API does not
know are accepted. botocore's service models, the same files boto3 uses, are the schema; member
names are matched with their first letter upper-cased, as Step Functions' integrations return
them (``ExecutionArn``, ``StartDate``). Timestamps and blobs travel as strings.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape

from dersonlake.states.api_errors import InvalidApiInput

# Step Functions' service names -> botocore's, where they differ.
_SERVICES = {"sfn": "stepfunctions", "states": "stepfunctions", "eventbridge": "events"}
_OPTIMIZED = re.compile(r"^arn:aws[a-z-]*:states:::(?!aws-sdk:)([a-z0-9-]+):([A-Za-z0-9]+)")
_SDK = re.compile(r"^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)")
_SKIP = {("lambda", "Invoke"): {"Payload"}}  # the function's JSON result, not a blob


class MockResultInvalid(InvalidApiInput):
    """A mocked result that does not fit the API's output shape (AWS: ValidationException)."""

    def __init__(self, problem: str) -> None:
        super().__init__("ValidationException", f"Mock result schema validation error: {problem}")


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def operation_for(resource: str) -> OperationModel | None:
    """The botocore operation a Task resource ARN calls, or None when we cannot tell."""
    m = _SDK.match(resource) or _OPTIMIZED.match(resource)
    if not m:
        return None
    service = _SERVICES.get(m.group(1), m.group(1))
    name = m.group(2)[:1].upper() + m.group(2)[1:]
    try:
        model = _session().get_service_model(service)
        return model.operation_model(name)
    except Exception:  # an integration botocore does not describe: nothing to check against
        return None


def validate(resource: str, result: Any, mode: str) -> None:
    """Raise ``MockResultInvalid`` (AWS's text) when ``result`` does not fit ``resource``'s output."""
    if mode == "NONE":
        return
    op = operation_for(resource)
    if op is None or op.output_shape is None:
        return
    skip = _SKIP.get((op.service_model.service_name, op.name), set())
    _structure(op.output_shape, result, strict=mode == "STRICT", skip=skip)


def _key(name: str) -> str:
    return name[:1].upper() + name[1:]


def _structure(shape: Shape, value: Any, *, strict: bool, skip: set[str], field: str | None = None) -> None:
    if not isinstance(value, dict):
        raise MockResultInvalid(
            f"Field '{field}' must be an object" if field else "the result must be an object"
        )
    members = {_key(n): m for n, m in shape.members.items()}
    if strict:
        for name in shape.required_members:
            if _key(name) not in value and _key(name) not in skip:
                raise MockResultInvalid(f"Required field '{_key(name)}' is missing")
    for key, item in value.items():
        if key in members and key not in skip:
            _value(members[key], item, key, strict=strict)


def _value(shape: Shape, value: Any, field: str, *, strict: bool) -> None:
    kind = shape.type_name
    if value is None:
        return
    if kind == "structure":
        _structure(shape, value, strict=strict, skip=set(), field=field)
    elif kind == "list":
        if not isinstance(value, list):
            raise MockResultInvalid(f"Field '{field}' must be an array")
        _bounds(shape, len(value), field, "length")
        for item in value:
            _value(shape.member, item, field, strict=strict)
    elif kind == "map":
        if not isinstance(value, dict):
            raise MockResultInvalid(f"Field '{field}' must be an object")
        for item in value.values():
            _value(shape.value, item, field, strict=strict)
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MockResultInvalid(f"Field '{field}' must be a number")
        _bounds(shape, value, field, "value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise MockResultInvalid(f"Field '{field}' must be a boolean")
    else:  # string, blob, timestamp: JSON strings
        if not isinstance(value, str):
            raise MockResultInvalid(f"Field '{field}' must be a string")
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            raise MockResultInvalid(f"Field '{field}' is not an expected value")
        if kind in ("string", "blob"):
            _bounds(shape, len(value), field, "length")


def _bounds(shape: Shape, size: float, field: str, what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        word = "is smaller than the minimum length" if what == "length" else "is less than the minimum value"
        raise MockResultInvalid(f"Field '{field}' {word}")
    if high is not None and size > high:
        word = "is larger than the maximum length" if what == "length" else "exceeds the maximum value"
        raise MockResultInvalid(f"Field '{field}' {word}")
