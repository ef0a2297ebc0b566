"""Read-only views of the store for dashboards: executions with their input, and who started whom.

The Step Functions API pages executions per state machine and leaves the input to
DescribeExecution; a dashboard listing every machine's runs filtered by owner (a field of the
input) would make one call per execution. These views read the same rows in one statement (the
store's named queries).
"""

from __future__ import annotations

from typing import Any

from dersonlake.states.clock import to_datetime
from dersonlake.states.engine import Engine


def recent_executions(
    engine: Engine, *, state_machine_arn: str | None = None, status: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest executions first, with ``input`` and ``parentExecutionArn`` (None at the top)."""
    rows = engine.store.recent_executions(sm_arn=state_machine_arn, status=status, limit=limit)
    return [
        {
            "executionArn": r["arn"],
            "stateMachineArn": r["sm_arn"],
            "name": r["name"],
            "status": r["status"],
            "input": r["input"],
            "error": r["error"],
            "cause": r["cause"],
            "startDate": to_datetime(r["start"]),
            "stopDate": to_datetime(r["stop"]) if r["stop"] is not None else None,
            "parentExecutionArn": r["parent"],
        }
        for r in rows
    ]


def parent_execution(engine: Engine, execution_arn: str) -> str | None:
    """The execution whose ``states:startExecution`` task started this one, if any."""
    return engine.store.parent_execution(execution_arn)


def execution_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Per state machine ARN, how many executions are in each status."""
    out: dict[str, dict[str, int]] = {}
    for row in engine.store.execution_counts():
        out.setdefault(row["sm_arn"], {})[row["status"]] = row["n"]
    return out


def execution_input(engine: Engine, execution_arn: str) -> str | None:
    return engine.store.execution_input(execution_arn)
