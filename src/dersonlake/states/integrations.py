"""Task resources run locally: Lambda functions as Python handlers, SNS as a notifier.

A Lambda function name maps to a Python callable ``handler(event, context)`` given directly or
as ``"module:function"``. ``arn:aws:states:::lambda:invoke`` wraps the return value the way the
optimised integration does; a plain function ARN returns it raw. A handler exception becomes a
task failure named after the exception class, with Lambda's JSON cause, so Retry/Catch on
custom error names behave as on AWS. Nested executions (``states:startExecution``) need the
engine and live there.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dersonlake.errors import BadInput

log = logging.getLogger("dersonlake.STATES")

Handler = Callable[[Any, Any], Any]
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(?::(.+))?$")
_SERVICE_ARN = re.compile(r"^arn:aws[a-z-]*:states:::(.+?)(\.sync:2|\.sync|\.waitForTaskToken)?$")


@dataclass(frozen=True)
class Resource:
    """A Task's ``Resource`` decoded: a plain Lambda ARN or an optimised/SDK service integration."""

    arn: str
    kind: str  # "lambda" (plain function ARN), "service" or "activity"
    service: str = ""  # "lambda", "states", "sns", "aws-sdk:s3", ...
    api: str = ""  # "invoke", "startExecution", "publish", ...
    pattern: str = ""  # "", ".sync", ".sync:2", ".waitForTaskToken"
    function: str = ""

    @property
    def history_type(self) -> str:
        """The resourceType shown in Task* history events."""
        return self.service.split(":")[-1] if self.kind == "service" else "lambda"

    @property
    def history_resource(self) -> str:
        return self.api + self.pattern


def parse_resource(arn: str) -> Resource:
    m = _LAMBDA_ARN.match(arn)
    if m:
        return Resource(arn, "lambda", "lambda", "invoke", "", m.group(3))
    m = _SERVICE_ARN.match(arn)
    if m:
        body, pattern = m.group(1), m.group(2) or ""
        service, _, api = body.rpartition(":")
        return Resource(arn, "service", service, api, pattern)
    return Resource(arn, "activity")


def function_name(value: Any) -> str:
    """``FunctionName`` may be a name, a full or partial ARN, with or without a qualifier."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"FunctionName must be a non-empty string, got {value!r}")
    if ":function:" in value:
        value = value.split(":function:", 1)[1]
    return value.split(":", 1)[0]


class HandlerFailed(Exception):
    """A handler (or the integration around it) failed with an ASL error name and cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass
class LambdaContext:
    """The second argument of a handler; ``idempotency_key`` is stable across re-deliveries."""

    function_name: str
    aws_request_id: str
    idempotency_key: str
    invoked_function_arn: str
    execution_arn: str
    state_name: str
    task_token: str | None = None
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def load_target(target: str) -> Handler:
    """Import ``"package.module:function"``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise BadInput("a handler must be written 'module:function'", value=target)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BadInput(f"cannot import handler module {module_name!r}: {exc}", value=target) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise BadInput(f"{module_name!r} has no function {attr!r}", value=target)
    return fn


class LambdaRegistry:
    """Function name -> local handler."""

    def __init__(self) -> None:
        self._targets: dict[str, Handler | str] = {}
        self._loaded: dict[str, Handler] = {}

    def register(self, name: str, target: Handler | str) -> None:
        self._targets[name] = target
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._targets)

    def resolve(self, name: str) -> Handler:
        if name in self._loaded:
            return self._loaded[name]
        target = self._targets.get(name)
        if target is None:
            known = ", ".join(self.names()) or "none"
            raise HandlerFailed(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {name} (register a local handler; known: {known})",
            )
        fn = load_target(target) if isinstance(target, str) else target
        self._loaded[name] = fn
        return fn

    def invoke(self, name: str, event: Any, ctx: LambdaContext) -> Any:
        """Run the handler; its exception becomes HandlerFailed(class name, Lambda JSON cause).

        An exception may carry ``error_type`` to report another name (e.g. a dotted AWS name such
        as ``Lambda.TooManyRequestsException``, which no Python class can be called)."""
        handler = self.resolve(name)
        try:
            result = handler(event, ctx)
            return json.loads(json.dumps(result)) if result is not None else None
        except Exception as exc:
            error = getattr(exc, "error_type", None) or type(exc).__name__
            cause = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": error,
                    "requestId": ctx.aws_request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__)[1:],
                }
            )
            raise HandlerFailed(error, cause) from None


def request_id(key: str) -> str:
    """A request id derived from the idempotency key, so re-deliveries report the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def sdk_metadata(key: str) -> dict[str, Any]:
    rid = request_id(key)
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {"x-amzn-RequestId": [rid], "Content-Type": ["application/json"]},
            "HttpHeaders": {"x-amzn-RequestId": rid, "Content-Type": "application/json"},
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": rid},
    }


def lambda_invoke_response(payload: Any, key: str) -> dict[str, Any]:
    """The optimised ``lambda:invoke`` result: the Invoke response with Payload parsed."""
    return {"ExecutedVersion": "$LATEST", "Payload": payload, **sdk_metadata(key), "StatusCode": 200}


@dataclass(frozen=True)
class SnsMessage:
    key: str
    execution_arn: str
    target: str
    message: str
    subject: str | None
    attributes: dict[str, Any]


Notifier = Callable[[SnsMessage], None]


def sns_request(params: Any) -> tuple[str, str, str | None, dict[str, Any]]:
    """(target, message, subject, attributes) from sns:publish Parameters."""
    if not isinstance(params, dict):
        raise HandlerFailed("SNS.InvalidParameterException", "Parameters must be an object")
    target = params.get("TopicArn") or params.get("TargetArn") or params.get("PhoneNumber")
    if not target:
        raise HandlerFailed("SNS.InvalidParameterException", "TopicArn, TargetArn or PhoneNumber is required")
    if "Message" not in params:
        raise HandlerFailed("SNS.InvalidParameterException", "Message is required")
    message = params["Message"]
    if not isinstance(message, str):
        message = json.dumps(message, separators=(",", ":"))
    return target, message, params.get("Subject"), params.get("MessageAttributes") or {}


def sns_response(key: str) -> dict[str, Any]:
    return {"MessageId": request_id(key + "#sns"), **sdk_metadata(key)}


def log_notifier(msg: SnsMessage) -> None:
    log.info("sns:publish to %s: %s", msg.target, msg.message)
