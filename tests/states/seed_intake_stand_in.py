"""A stand-in for the DMS-intake Lambda, for running the seed's pipelines on the state engine.

The real handler is ``dersonlake.intake`` (tested against the local DMS in ``tests/intake``). This
stand-in follows the same documented Lambda contract (``infra/terraform/pipelines/README.md``)
without DMS or a database, so the engine's handling of the real pipeline files is tested on its own: nested ``.sync:2`` executions, the Wait/Choice polling loops, Retry on
``InvalidResourceStateFault``, Catch into DMS-ErrorHandling, the SNS publish and the original cause.
``FAULTS`` makes a step raise, once or always, to cause the failure paths.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CALLS: list[tuple[str, str]] = []  # (owner, step)
FAULTS: dict[str, tuple[str, int]] = {}  # step -> (exception class name, times; -1 = always)
_polls: dict[tuple[str, str], int] = defaultdict(int)


class InvalidResourceStateFault(Exception):
    """DMS's "not ready yet" error, which the pipeline retries."""


class ReplicationTaskError(Exception):
    """A non-transient failure, which sends the run to DMS-ErrorHandling."""


def reset() -> None:
    CALLS.clear()
    FAULTS.clear()
    _polls.clear()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    owner, step = event["owner"], event["step"]
    CALLS.append((owner, step))
    fault = FAULTS.get(step)
    if fault and fault[1] != 0:
        name, times = fault
        FAULTS[step] = (name, times - 1 if times > 0 else times)
        raise {
            "InvalidResourceStateFault": InvalidResourceStateFault,
            "ReplicationTaskError": ReplicationTaskError,
        }[name](f"{step} failed for {owner}")
    instance = {"ReplicationInstanceArn": f"arn:aws:dms:us-east-1:000000000000:rep:{owner.lower()}"}
    task = {"ReplicationTaskArn": f"arn:aws:dms:us-east-1:000000000000:task:{owner.upper()}"}
    key = (event.get("execution_id", ""), step)
    _polls[key] += 1
    if step == "create_instance":
        return {**instance, "ReplicationInstanceStatus": "creating"}
    if step == "check_instance_status":
        return {**instance, "ReplicationInstanceStatus": "available" if _polls[key] >= 2 else "creating"}
    if step == "create_replication_task":
        return {**task, "Status": "ready"}
    if step == "start_replication_task":
        return {**task, "Status": "starting"}
    if step == "check_replication_task_status":
        if _polls[key] >= 2:
            return {**task, "Status": "stopped", "StopReason": "Stop Reason FULL_LOAD_ONLY_FINISHED"}
        return {**task, "Status": "running"}
    return {"deleted": step}
