"""The replication layer: DMS replication tasks run by this process.

What other layers use (tests may reach inside; other layers may not):

* ``ReplicationStore``: the tasks' SQLite store (``.derson/replication.sqlite``).
* ``create_task`` / ``check_identifier`` / ``task_arn`` / ``reconcile``: a task's record.
* ``ReplicationTask`` (``start(StartRequest)``, ``stop()``, ``check_start``): the one task runner,
  with ``TaskResources``, ``TaskResult``, ``CommitHook`` / ``CommittedBatch`` and the refusals
  ``TaskNotStartable`` / ``StartTypeNotAllowed``.
* ``owner_task`` / ``load_request`` / ``delta_request`` / ``api_task``: an owner's task as the
  command line and the local DMS API start it.
* ``prepare`` / ``PreparedOwner`` / ``source_params``: an owner's files resolved (source, lake, plan).
* ``parse_start`` / ``parse_stop`` (``CdcStart`` / ``CdcStop``): the CDC start and stop options.
* ``cdc_metrics``: a task's CDC latency and throughput, as saved by the running task.
* ``current_table``: an owner table's current-state Iceberg table (``target.tables: iceberg``);
  ``OPERATION`` / ``POSITION``: the snapshot summary keys that say what a snapshot applied;
  ``catch_up``: the Iceberg tables brought up to the lake's DMS files (the pipelines' Iceberg step).
* ``status``: DMS's statuses, stop reasons, table states and describe views.
* ``stats``: the tasks and their table statistics as other processes read them (``read_tasks``,
  ``TaskStat``, ``TableStat``, ``full_load_seconds``), for status, metrics, alerts and the scheduler.
"""

from dersonlake.replication import stats, status
from dersonlake.replication.cdc_metrics import cdc_metrics
from dersonlake.replication.cdc_options import CdcStart, CdcStop, parse_start, parse_stop
from dersonlake.replication.iceberg_catchup import catch_up
from dersonlake.replication.iceberg_sync import OPERATION, POSITION, current_table
from dersonlake.replication.owner_tasks import (
    api_task,
    delta_request,
    discard_uncovered,
    load_request,
    owner_task,
)
from dersonlake.replication.prepared_owner import PreparedOwner, SandboxParams, prepare, source_params
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
    "OPERATION",
    "POSITION",
    "CdcStart",
    "CdcStop",
    "CommitHook",
    "CommittedBatch",
    "PreparedOwner",
    "ReplicationStore",
    "ReplicationTask",
    "SandboxParams",
    "StartRequest",
    "StartTypeNotAllowed",
    "TaskNotStartable",
    "TaskResources",
    "TaskResult",
    "api_task",
    "catch_up",
    "cdc_metrics",
    "check_identifier",
    "create_task",
    "current_table",
    "delta_request",
    "discard_uncovered",
    "load_request",
    "owner_task",
    "parse_start",
    "parse_stop",
    "prepare",
    "reconcile",
    "source_params",
    "stats",
    "status",
    "task_arn",
]
