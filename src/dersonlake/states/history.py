"""History events with AWS's type names and detail shapes (GetExecutionHistory).

Events are stored as ``(id, prev, ts, type, details)``; ``to_api`` produces the API shape:
``{"timestamp", "type", "id", "previousEventId", "<detailsKey>": {...}}``. The details key
follows AWS's naming (``TaskScheduled`` -> ``taskScheduledEventDetails``); state-entered and
state-exited events share ``stateEnteredEventDetails`` / ``stateExitedEventDetails``.
"""

from __future__ import annotations

import json
from typing import Any

from dersonlake.states.clock import to_datetime
from dersonlake.states.store import Tx, dumps

STATE_EVENT_PREFIX = {
    "Task": "TaskState",
    "Pass": "PassState",
    "Choice": "ChoiceState",
    "Wait": "WaitState",
    "Succeed": "SucceedState",
    "Fail": "FailState",
    "Parallel": "ParallelState",
    "Map": "MapState",
}

# Event types whose details object is named differently from the type.
_SHARED_DETAILS = {"Entered": "stateEnteredEventDetails", "Exited": "stateExitedEventDetails"}
_NO_DETAILS = {
    "LambdaFunctionStarted",
    "ParallelStateStarted",
    "ParallelStateSucceeded",
    "ParallelStateFailed",
    "ParallelStateAborted",
    "MapStateSucceeded",
    "MapStateFailed",
    "MapStateAborted",
    "WaitStateAborted",
}


def details_key(event_type: str) -> str | None:
    if event_type in _NO_DETAILS:
        return None
    for suffix, key in _SHARED_DETAILS.items():
        if event_type.endswith("State" + suffix):
            return key
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def data_details(name: str, value: Any) -> dict[str, Any]:
    """``{"input": "...", "inputDetails": {"truncated": false}}``-style pair; values are JSON text."""
    return {name: value if isinstance(value, str) else dumps(value), f"{name}Details": {"truncated": False}}


def emit(
    tx: Tx, exec_arn: str, prev: int | None, ts: float, event_type: str, details: dict[str, Any] | None = None
) -> int:
    """Append an event; returns its id (the caller keeps it as the next event's ``prev``)."""
    event_id = tx.next_event_id(exec_arn)
    tx.add_history(exec_arn, event_id, prev, ts, event_type, dumps(details) if details is not None else None)
    return event_id


def to_api(row: Any, include_data: bool = True) -> dict[str, Any]:
    event: dict[str, Any] = {
        "timestamp": to_datetime(row["ts"]),
        "type": row["type"],
        "id": row["id"],
        "previousEventId": row["prev"] or 0,
    }
    key = details_key(row["type"])
    if key and row["details"] is not None:
        details = json.loads(row["details"])
        if not include_data:
            details = {k: v for k, v in details.items() if k not in ("input", "output")}
        event[key] = details
    return event
