"""Step Functions operations (``AWSStepFunctions.<Op>``) served by the local ``Engine``.

TestState and StartSyncExecution carry botocore's ``sync-`` host prefix: boto3 and the aws CLI
send them to ``sync-<endpoint host>``, which does not resolve for ``127.0.0.1``/``localhost``.
Routing here is by ``X-Amz-Target`` only, so any host works; clients turn the prefix off with
``Config(inject_host_prefix=False)`` or ``AWS_DISABLE_HOST_PREFIX_INJECTION=true`` (docs/states.md).

The engine already returns AWS's response shapes and raises errors carrying AWS's codes; this
module only maps request members to engine arguments, checks ARNs the way the service does
(``InvalidArn`` before any lookup) and turns engine exceptions into ``ApiError``.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable
from typing import Any

from dersonlake.api.protocol import ApiError
from dersonlake.api.sfn_settings import SfnSettings
from dersonlake.errors import BadInput
from dersonlake.states import Engine, InvalidApiInput, InvalidDefinition, StatesApiError, run_test_state

TARGET_PREFIX = "AWSStepFunctions"
SERVICE = "stepfunctions"

_SM_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:\s]+$")
_EXEC_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$")

Params = dict[str, Any]


def _arn(value: str, pattern: re.Pattern[str], kind: str) -> str:
    """The ARN, if it has the form the operation takes; AWS checks this before any lookup."""
    if not value.startswith("arn:"):
        raise ApiError("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {value}'")
    if not pattern.match(value):
        raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {kind}'")
    return value


def sm_arn(p: Params) -> str:
    return _arn(p["stateMachineArn"], _SM_ARN, "stateMachine")


def exec_arn(p: Params) -> str:
    return _arn(p["executionArn"], _EXEC_ARN, "execution")


def create_state_machine(engine: Engine, p: Params) -> dict[str, Any]:
    """CreateStateMachine, with AWS's versioning rule: a version description needs ``publish``."""
    if p.get("versionDescription") is not None and not p.get("publish"):
        raise ApiError("ValidationException", "Version description can only be set when publish is true")
    result = engine.create_state_machine(
        p["name"], p["definition"], role_arn=p.get("roleArn"), type=p.get("type", "STANDARD")
    )
    if p.get("publish"):
        # Only version 1 is ever published here (PublishStateMachineVersion is not served).
        result["stateMachineVersionArn"] = result["stateMachineArn"] + ":1"
    return result


OPERATIONS: dict[str, Callable[[Engine, Params], dict[str, Any]]] = {
    "CreateStateMachine": create_state_machine,
    "UpdateStateMachine": lambda e, p: e.update_state_machine(
        sm_arn(p), p.get("definition"), role_arn=p.get("roleArn")
    ),
    "DescribeStateMachine": lambda e, p: e.describe_state_machine(sm_arn(p)),
    "ListStateMachines": lambda e, p: e.list_state_machines(p.get("maxResults", 0), p.get("nextToken")),
    "DeleteStateMachine": lambda e, p: e.delete_state_machine(sm_arn(p)),
    "ValidateStateMachineDefinition": lambda e, p: e.validate_state_machine_definition(
        p["definition"], p.get("type")
    ),
    "TestState": lambda e, p: run_test_state(e, p),
    "StartSyncExecution": lambda e, p: e.start_sync_execution(
        sm_arn(p), p.get("input"), p.get("name"), included_data=p.get("includedData") or "ALL_DATA"
    ),
    "DescribeStateMachineForExecution": lambda e, p: e.describe_state_machine_for_execution(exec_arn(p)),
    "StartExecution": lambda e, p: e.start_execution(sm_arn(p), p.get("input"), p.get("name")),
    "DescribeExecution": lambda e, p: e.describe_execution(exec_arn(p)),
    "ListExecutions": lambda e, p: e.list_executions(
        sm_arn(p), p.get("statusFilter"), p.get("maxResults", 0), p.get("nextToken")
    ),
    "GetExecutionHistory": lambda e, p: e.get_execution_history(
        exec_arn(p),
        reverse_order=p.get("reverseOrder", False),
        include_execution_data=p.get("includeExecutionData", True),
        max_results=p.get("maxResults", 0),
        next_token=p.get("nextToken"),
    ),
    "StopExecution": lambda e, p: e.stop_execution(exec_arn(p), p.get("error"), p.get("cause")),
    "RedriveExecution": lambda e, p: e.redrive_execution(exec_arn(p)),
    "SendTaskSuccess": lambda e, p: e.send_task_success(p["taskToken"], p["output"]),
    "SendTaskFailure": lambda e, p: e.send_task_failure(p["taskToken"], p.get("error"), p.get("cause")),
    "SendTaskHeartbeat": lambda e, p: e.send_task_heartbeat(p["taskToken"]),
}


_SETTINGS: weakref.WeakKeyDictionary[Engine, SfnSettings] = weakref.WeakKeyDictionary()


def settings(engine: Engine) -> SfnSettings:
    """The logging/tracing/tags side of ``engine``'s state machines (one per engine)."""
    if engine not in _SETTINGS:
        _SETTINGS[engine] = SfnSettings(engine)
    return _SETTINGS[engine]


def _with_settings(engine: Engine, operation: str, params: Params) -> dict[str, Any]:
    """The operations whose answers carry (or change) logging, tracing and tags."""
    extra = settings(engine)
    if operation in ("TagResource", "UntagResource", "ListTagsForResource"):
        return getattr(extra, _SNAKE[operation])(params)
    if operation in ("ListStateMachineVersions", "ListStateMachineAliases"):
        sm_arn(params)
        engine.sm_row(params["stateMachineArn"])  # StateMachineDoesNotExist, as AWS
        # No versions or aliases are ever published here (PublishStateMachineVersion is not served).
        key = "stateMachineVersions" if operation == "ListStateMachineVersions" else "stateMachineAliases"
        return {key: []}
    if operation == "DeleteStateMachine":
        arn = sm_arn(params)
        engine.sm_row(arn)
        extra.forget(arn)
        return OPERATIONS[operation](engine, params)
    result = OPERATIONS[operation](engine, params)
    if operation == "CreateStateMachine":
        extra.save(result["stateMachineArn"], params)
    elif operation == "UpdateStateMachine":
        extra.save(params["stateMachineArn"], params)
    elif operation == "DescribeStateMachine":
        result = extra.describe(result)
    return result


def _settings_call(engine: Engine, params: Params, *, operation: str) -> dict[str, Any]:
    return _with_settings(engine, operation, params)


_SNAKE = {
    "TagResource": "tag_resource",
    "UntagResource": "untag_resource",
    "ListTagsForResource": "list_tags_for_resource",
}
SETTINGS_OPERATIONS = (
    *_SNAKE,
    "ListStateMachineVersions",
    "ListStateMachineAliases",
    "CreateStateMachine",
    "UpdateStateMachine",
    "DescribeStateMachine",
    "DeleteStateMachine",
)


def call(engine: Engine, operation: str, params: Params) -> dict[str, Any]:
    """Run one validated Step Functions operation; every failure leaves as an ``ApiError``."""
    handler: Callable[[Engine, Params], dict[str, Any]] | None = OPERATIONS.get(operation)
    if operation in SETTINGS_OPERATIONS:
        handler = functools.partial(_settings_call, operation=operation)
    if handler is None:
        raise ApiError("UnknownOperationException", f"{operation} is not implemented by derson-lake serve")
    if operation == "ListExecutions" and "stateMachineArn" not in params:
        raise ApiError("ValidationException", "stateMachineArn is required (Map runs are not supported)")
    try:
        return handler(engine, params)
    except InvalidDefinition as exc:
        if operation == "TestState" and exc.path is None and exc.diagnostic == "SCHEMA_VALIDATION_FAILED":
            raise ApiError("InvalidDefinition", exc.problem) from None
        raise ApiError(
            "InvalidDefinition", f"Invalid State Machine Definition: '{exc.aws_message()}'"
        ) from None
    except StatesApiError as exc:
        raise ApiError(exc.code, exc.message) from None
    except InvalidApiInput as exc:
        raise ApiError(exc.code, str(exc)) from None
    except BadInput as exc:
        raise ApiError("ValidationException", str(exc)) from None
