"""scheduler: the local EventBridge Scheduler. Starts each owner's delta run of derson-Main on its
``schedule:`` (owner.yaml), never doubles a run, catches up once after downtime, keeps the
CloudWatch-like alarms of each owner, and remembers it all in ``schedule.sqlite``
(docs/schedule.md)."""

from __future__ import annotations

from dersonlake.scheduler.runner import EXECUTION_PREFIX, EngineStarter, RunOutcome, Scheduler, Starter
from dersonlake.scheduler.store import FILE_NAME, Overview, ScheduleStore, read_overview

__all__ = [
    "EXECUTION_PREFIX",
    "FILE_NAME",
    "EngineStarter",
    "Overview",
    "RunOutcome",
    "ScheduleStore",
    "Scheduler",
    "Starter",
    "read_overview",
]
