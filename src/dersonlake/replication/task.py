"""A replication task's record: its identity (ARN, identifier rules), its creation (``ready``),
and its status, written by ``record_status`` only. ``replication_task.ReplicationTask`` runs it.

A task killed without warning (SIGKILL, power loss) stays ``running`` in the store; the next reader
notices that its process is gone and reports it ``failed``, and ``resume-processing`` continues it.
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from dersonlake.errors import BadInput
from dersonlake.processes import pid_alive
from dersonlake.replication import status
from dersonlake.replication.store import ReplicationStore

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"


def task_arn(region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    """A task ARN with a random 26-character id, as AWS makes them (``task:K55IUCGB...``)."""
    alphabet = string.ascii_uppercase + string.digits
    return f"arn:aws:dms:{region}:{account}:task:" + "".join(secrets.choice(alphabet) for _ in range(26))


def check_identifier(identifier: str, what: str = "ReplicationTaskIdentifier", limit: int = 255) -> str:
    """DMS identifier rules: letters, digits, hyphens; a letter first; no ``--`` or trailing ``-``."""
    ok = (
        0 < len(identifier) <= limit
        and identifier[0].isalpha()
        and all(c.isalnum() or c == "-" for c in identifier)
        and "--" not in identifier
        and not identifier.endswith("-")
    )
    if not ok:
        raise BadInput(
            f"{what} must be 1-{limit} letters, digits or hyphens, start with a letter, "
            "and contain no '--' or trailing '-'",
            path=what,
            value=identifier,
        )
    return identifier


def create_task(
    store: ReplicationStore,
    identifier: str,
    *,
    migration_type: str,
    table_mappings: str,
    settings_json: str,
    owner: str | None = None,
    source_endpoint_arn: str | None = None,
    target_endpoint_arn: str | None = None,
    instance_arn: str | None = None,
    cdc_start_position: str | None = None,
    cdc_stop_position: str | None = None,
    arn: str | None = None,
) -> str:
    """Register a task in status ``ready``; returns its ARN."""
    check_identifier(identifier)
    if store.task(identifier) is not None:
        raise BadInput(
            "a replication task with this identifier already exists",
            value=identifier,
            hint="Delete it first or use another identifier",
        )
    arn = arn or task_arn()
    store.insert_task(  # DMS's ``creating`` lasts no time here: the task is ``ready`` at once
        {
            "arn": arn,
            "identifier": identifier,
            "owner": owner,
            "migration_type": migration_type,
            "status": status.READY,
            "table_mappings": table_mappings,
            "settings": settings_json,
            "source_endpoint_arn": source_endpoint_arn,
            "target_endpoint_arn": target_endpoint_arn,
            "instance_arn": instance_arn,
            "cdc_start_position": cdc_start_position,
            "cdc_stop_position": cdc_stop_position,
        }
    )
    return arn


def reconcile(store: ReplicationStore, arn: str) -> None:
    """Mark a task ``failed`` when the process running it is gone (killed without a chance to say so)."""
    row = store.task(arn)
    if row is None or row["status"] not in (status.STARTING, status.RUNNING, status.STOPPING):
        return
    pid = row["pid"]
    if pid and not pid_alive(pid):
        record_status(
            store,
            row["arn"],
            status.FAILED,
            stop_reason=status.STOP_RECOVERABLE_ERROR,
            stop_date=time.time(),
            last_failure=f"the task process (pid {pid}) ended without stopping the task; resume it",
        )


def record_status(store: ReplicationStore, arn: str, new_status: str, **fields: Any) -> None:
    """The one place a task's status is written (with the fields that change with it).

    ``starting`` clears the last run's stop reason and failure; ``stopped`` and ``failed`` come
    with their ``stop_reason`` (and ``last_failure`` for ``failed``), as DMS reports them."""
    if new_status not in status.TASK_STATUSES:
        raise ValueError(f"not a task status: {new_status}")
    if new_status == status.STARTING:
        fields = {"stop_reason": None, "last_failure": None, "stop_date": None, **fields}
    store.update_task(arn, status=new_status, **fields)
