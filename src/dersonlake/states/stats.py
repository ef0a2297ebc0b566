"""A read-only view of the engine's store for monitoring: executions and how long states took.

Like ``replication.stats`` it opens the SQLite file read-only per read (through the store's
``ReadOnlyStore``), so a metrics scrape or ``derson-lake status`` in another process never blocks
the engine. The owner of an execution is
its input's ``owner`` (the seed's pipelines all take ``{"owner": ...}``); other executions have
none.

State durations pair each ``*StateEntered`` event with the next ``*StateExited`` of the same
state name in the same execution; a finished execution's pairs never change, so
``StateDurations`` computes them once and keeps them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dersonlake.states.store import ReadOnlyStore

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
STATUSES = ("RUNNING", *TERMINAL)


@dataclass(frozen=True)
class ExecutionStat:
    arn: str
    state_machine: str
    name: str
    status: str
    owner: str
    start: float
    stop: float | None
    error: str | None
    cause: str | None
    nested: bool  # started by another execution (states:startExecution)


@dataclass(frozen=True)
class StateDuration:
    state_machine: str
    state: str
    seconds: float


def read_executions(
    path: str | Path, *, owner: str | None = None, since: float | None = None
) -> list[ExecutionStat]:
    """Executions (oldest first), only ``owner``'s and those started or stopped after ``since``."""
    with ReadOnlyStore.open(path) as store:
        if store is None:
            return []
        rows = store.executions()
    out = []
    for r in rows:
        stat = ExecutionStat(
            arn=r["arn"],
            state_machine=r["sm"],
            name=r["name"],
            status=r["status"],
            owner=str(r["owner"]) if r["owner"] is not None else "",
            start=r["start"],
            stop=r["stop"],
            error=r["error"],
            cause=r["cause"],
            nested=bool(r["nested"]),
        )
        if owner is not None and stat.owner != owner:
            continue
        if since is not None and max(stat.start, stat.stop or 0) < since:
            continue
        out.append(stat)
    return out


class StateDurations:
    """Every state's duration in the store at ``path``; finished executions are read once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._finished: dict[str, list[StateDuration]] = {}

    def read(self) -> list[StateDuration]:
        with ReadOnlyStore.open(self.path) as store:
            if store is None:
                return []
            out: list[StateDuration] = []
            for e in store.execution_statuses():
                cached = self._finished.get(e["arn"])
                if cached is None:
                    cached = _durations(store, e["arn"], e["sm"])
                    if e["status"] in TERMINAL:
                        self._finished[e["arn"]] = cached
                out.extend(cached)
        return out


def _durations(store: ReadOnlyStore, arn: str, machine: str) -> list[StateDuration]:
    entered: dict[str, list[float]] = {}
    out = []
    for r in store.state_events(arn):
        if r["name"] is None:
            continue
        if r["type"].endswith("Entered"):
            entered.setdefault(r["name"], []).append(r["ts"])
        elif entered.get(r["name"]):
            start = entered[r["name"]].pop(0)
            out.append(StateDuration(machine, r["name"], max(r["ts"] - start, 0.0)))
    return out


def root_cause(error: str, cause: str) -> tuple[str, str]:
    """The innermost error and message of a failed execution: ``.sync`` nests the child
    execution's ``Error``/``Cause``, Lambda its ``errorType``/``errorMessage``, and DMS-Handler a
    failed task's description (``LastFailureMessage``) as JSON in each cause."""
    for _ in range(10):
        try:
            inner = json.loads(cause)
        except ValueError:
            break
        if not isinstance(inner, dict):
            break
        if "Cause" in inner:
            error, cause = inner.get("Error") or error, inner["Cause"] or ""
        elif "errorMessage" in inner:
            return inner.get("errorType") or error, inner["errorMessage"]
        elif "LastFailureMessage" in inner.get("detail", inner):  # a failed task, as DMS-Handler saw it
            task = inner.get("detail", inner)
            reason = f" ({task['StopReason']})" if task.get("StopReason") else ""
            arn = task.get("ReplicationTaskArn")
            return error, f"replication task {arn}{reason}: {task['LastFailureMessage']}"
        else:
            break
    return error, cause
