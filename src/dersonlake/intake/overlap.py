"""One run per owner on AWS too: DMS-Handler's first step refuses to run beside another of its
executions for the same owner.

Every run of an owner uses the same instance and task (``derson-<owner>``), so two overlapping
derson-Main executions would delete each other's resources. Step Functions has no per-key lock, so
the first step asks Step Functions itself (``states:ListExecutions`` on DMS-Handler, RUNNING, then
``states:DescribeExecution`` for each one's owner): when an *earlier* execution of the same owner
runs, this one raises ``OwnerAlreadyRunning``. DMS-Handler retries that step every 60 s for up
to an hour, so the later run waits for the earlier one and then goes on (a scheduled delta and a
run started by hand both end SUCCEEDED, one after the other); after an hour it goes straight to its
Fail state, without DMS-ErrorHandling's cleanup (the resources are the other run's). The earlier run
is left alone; two started in the same instant are ordered by start date, then ARN, so exactly one
goes on. Chosen over a tag on the replication instance because the instance does not exist yet at
this point and a tag would need its own cleanup when a run dies; the execution list is Step
Functions' own truth and clears itself. Locally the same code asks ``derson-lake serve``.
"""

from __future__ import annotations

import json
from typing import Any

from dersonlake.intake.errors import OwnerAlreadyRunning


def refuse_overlap(owner: str, execution_id: Any, sfn: Any | None = None) -> None:
    """Raise ``OwnerAlreadyRunning`` when an earlier RUNNING execution of this execution's state
    machine has the same owner; without an execution id (a direct invoke) there is nothing to ask."""
    if not isinstance(execution_id, str) or ":execution:" not in execution_id:
        return
    if sfn is None:
        from dersonlake.intake.dms import client

        sfn = client("stepfunctions")
    prefix, _, rest = execution_id.partition(":execution:")
    machine = rest.split(":", 1)[0]
    me = sfn.describe_execution(executionArn=execution_id)
    mine = (me["startDate"], execution_id)
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=f"{prefix}:stateMachine:{machine}", statusFilter="RUNNING"
    )
    for page in pages:
        for other in page["executions"]:
            arn = other["executionArn"]
            if arn == execution_id or (other["startDate"], arn) > mine:
                continue
            described = sfn.describe_execution(executionArn=arn)
            if _owner(described.get("input")) == owner:
                raise OwnerAlreadyRunning(
                    f"owner {owner} already has a running {machine} execution {arn} (started "
                    f"{other['startDate']:%Y-%m-%d %H:%M:%S}): one run per owner at a time; this one "
                    "waits (it has not touched the owner's replication instance and task)"
                )


def _owner(text: Any) -> str | None:
    try:
        doc = json.loads(text or "{}")
    except (TypeError, ValueError):
        return None
    return doc.get("owner") if isinstance(doc, dict) else None
