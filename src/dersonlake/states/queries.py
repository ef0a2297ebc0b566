"""Read-only views of the store for dashboards: executions with their input, and who started whom.

The Step Functions API pages executions per state machine and leaves the input to
DescribeExecution; a dashboard listing every machine's runs filtered by owner (a field of the
input) would make one call per execution. These queries read the same rows in one statement.
"""

from __future__ import annotations

from typing import Any

from dersonlake.states.clock import to_datetime
from dersonlake.states.engine import Engine


def recent_executions(
    engine: Engine, *, state_machine_arn: str | None = None, status: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest executions first, with ``input`` and ``parentExecutionArn`` (None at the top)."""
    where, params = [], []
    if state_machine_arn:
        where.append("e.sm_arn = ?")
        params.append(state_machine_arn)
    if status:
        where.append("e.status = ?")
        params.append(status)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = engine.store.all(
        "SELECT e.arn, e.sm_arn, e.name, e.status, e.input, e.error, e.cause, e.start, e.stop,"
        " t.exec_arn AS parent FROM executions e LEFT JOIN tasks t ON t.id = e.parent_task"
        f" {clause} ORDER BY e.start DESC LIMIT ?",
        (*params, limit),
    )
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
    row = engine.store.one(
        "SELECT t.exec_arn FROM executions e JOIN tasks t ON t.id = e.parent_task WHERE e.arn = ?",
        (execution_arn,),
    )
    return row["exec_arn"] if row else None


def execution_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Per state machine ARN, how many executions are in each status."""
    out: dict[str, dict[str, int]] = {}
    sql = "SELECT sm_arn, status, COUNT(*) AS n FROM executions GROUP BY sm_arn, status"
    for row in engine.store.all(sql):
        out.setdefault(row["sm_arn"], {})[row["status"]] = row["n"]
    return out


def execution_input(engine: Engine, execution_arn: str) -> str | None:
    row = engine.store.one("SELECT input FROM executions WHERE arn = ?", (execution_arn,))
    return row["input"] if row else None
