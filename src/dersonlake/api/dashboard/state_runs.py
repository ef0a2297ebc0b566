"""What happened to each state of one execution, read from its history events.

The colours of the graph and the panel shown when a state is clicked come from here. Every event
is attributed to a state by following ``previousEventId`` back to the nearest ``...StateEntered``
(events of a Parallel branch or a Map iteration chain back to their own states, so interleaved
threads stay apart); an event whose chain reaches a ``...StateExited`` first belongs to no state.

A state's status, from its last visit:

* ``running``   entered and not exited while the execution runs;
* ``succeeded`` exited, and its last attempt did not fail;
* ``caught``    exited after its last attempt failed: a Catch sent the flow on;
* ``failed``    entered, never exited, and the execution ended (or a Fail state was entered);
* ``not-reached`` never entered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

RUNNING, SUCCEEDED, CAUGHT, FAILED, NOT_REACHED = "running", "succeeded", "caught", "failed", "not-reached"

_ATTEMPT = ("TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled")
_FAILURE = ("Failed", "TimedOut", "ScheduleFailed", "StartFailed", "SubmitFailed")


@dataclass
class Attempt:
    """A failed attempt of a Task: the error it raised (a Retry or Catch may have handled it)."""

    event_id: int
    error: str | None
    cause: str | None


@dataclass
class StateRun:
    name: str
    status: str = NOT_REACHED
    visits: int = 0
    attempts: int = 0  # Task attempts over all visits (retries = attempts - visits)
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    failures: list[Attempt] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # executions started by the state
    entered_at: float | None = None
    exited_at: float | None = None
    _last_attempt_failed: bool = False
    _open: int = 0  # visits entered and not exited (Map iterations can overlap)

    @property
    def retries(self) -> int:
        return max(self.attempts - self.visits, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "visits": self.visits,
            "retries": self.retries,
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "failures": [{"eventId": f.event_id, "error": f.error, "cause": f.cause} for f in self.failures],
            "children": self.children,
            "enteredAt": self.entered_at,
            "exitedAt": self.exited_at,
        }


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _ts(event: dict[str, Any]) -> float | None:
    ts = event.get("timestamp")
    return ts.timestamp() if hasattr(ts, "timestamp") else ts


def state_runs(events: list[dict[str, Any]], execution_status: str) -> dict[str, StateRun]:
    """Per state name, what happened to it in ``events`` (GetExecutionHistory's, in order)."""
    by_id = {e["id"]: e for e in events}
    owner: dict[int, str | None] = {}

    def state_of(event: dict[str, Any]) -> str | None:
        chain = []
        e: dict[str, Any] | None = event
        found: str | None = None
        while e is not None:
            if e["id"] in owner:
                found = owner[e["id"]]
                break
            t = e["type"]
            if t.endswith("StateEntered"):
                found = _details(e).get("name")
                chain.append(e["id"])
                break
            if t.endswith("StateExited") and e is not event:
                break
            chain.append(e["id"])
            e = by_id.get(e.get("previousEventId") or 0)
        for i in chain:
            owner[i] = found
        return found

    runs: dict[str, StateRun] = {}
    for event in events:
        t = event["type"]
        details = _details(event)
        if t.endswith("StateEntered"):
            run = runs.setdefault(details["name"], StateRun(details["name"]))
            run.visits += 1
            run._open += 1
            run._last_attempt_failed = False
            run.input = _json(details.get("input"))
            run.entered_at = _ts(event)
            owner[event["id"]] = run.name
            if t == "FailStateEntered":
                run.status = FAILED
            continue
        name = state_of(event)
        if name is None:
            continue
        run = runs.setdefault(name, StateRun(name))
        if t.endswith("StateExited"):
            run._open = max(run._open - 1, 0)
            run.output = _json(details.get("output"))
            run.exited_at = _ts(event)
        elif t in _ATTEMPT:
            run.attempts += 1
            run._last_attempt_failed = False
        elif t == "TaskSubmitted" or t == "TaskSucceeded":
            arn = _child_arn(details.get("output"))
            if arn and arn not in run.children:
                run.children.append(arn)
        elif t.endswith(_FAILURE) and not t.startswith(("Execution", "MapIteration")) and "error" in details:
            run.failures.append(Attempt(event["id"], details.get("error"), details.get("cause")))
            run.error, run.cause = details.get("error"), details.get("cause")
            run._last_attempt_failed = True
    for run in runs.values():
        run.status = _status(run, execution_status)
    return runs


def _status(run: StateRun, execution_status: str) -> str:
    if run.status == FAILED:  # a Fail state
        return FAILED
    if run._open:
        return RUNNING if execution_status == "RUNNING" else FAILED
    return CAUGHT if run._last_attempt_failed else SUCCEEDED


def _child_arn(output: Any) -> str | None:
    """``ExecutionArn`` of a ``states:startExecution`` answer (TaskSubmitted / TaskSucceeded output)."""
    doc = _json(output)
    if isinstance(doc, dict):
        arn = doc.get("ExecutionArn")
        if isinstance(arn, str) and ":execution:" in arn:
            return arn
    return None


def taken_transitions(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """``(from, to)`` state pairs the execution followed: an entered state and the state whose exit
    precedes it."""
    by_id = {e["id"]: e for e in events}
    out: set[tuple[str, str]] = set()
    for e in events:
        if not e["type"].endswith("StateEntered"):
            continue
        prev = by_id.get(e.get("previousEventId") or 0)
        if prev and prev["type"].endswith("StateExited"):
            out.add((_details(prev).get("name"), _details(e)["name"]))
    return out
