"""The replication layer: DMS replication tasks run by this process.

What other layers use (tests may reach inside; other layers may not):

* ``ReplicationStore``: the tasks' SQLite store (``.derson/replication.sqlite``).
* ``create_task`` / ``check_identifier`` / ``task_arn`` / ``reconcile``: a task's record.
* ``ReplicationTask`` (``start(StartRequest)``, ``stop()``, ``check_start``): the one task runner,
  with ``TaskResources``, ``TaskResult``, ``CommitHook`` / ``CommittedBatch`` and the refusals
  ``TaskNotStartable`` / ``StartTypeNotAllowed``.
* ``owner_task`` / ``load_request`` / ``delta_request`` / ``api_task``: an owner's task as the
  command line and the local DMS API start it.
* ``status``: DMS's statuses, stop reasons, table states and describe views.
"""

from dersonlake.replication import status
from dersonlake.replication.owner_tasks import api_task, delta_request, load_request, owner_task
from dersonlake.replication.replication_task import (
    CommitHook,
    CommittedBatch,
    ReplicationTask,
    StartRequest,
    StartTypeNotAllowed,
    TaskNotStartable,
    TaskResources,
    TaskResult,
)
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import check_identifier, create_task, reconcile, task_arn

__all__ = [
    "CommitHook",
    "CommittedBatch",
    "ReplicationStore",
    "ReplicationTask",
    "StartRequest",
    "StartTypeNotAllowed",
    "TaskNotStartable",
    "TaskResources",
    "TaskResult",
    "api_task",
    "check_identifier",
    "create_task",
    "delta_request",
    "load_request",
    "owner_task",
    "reconcile",
    "status",
    "task_arn",
]
