"""scheduler: the local EventBridge Scheduler. Starts each owner's delta run of derson-Main on its
``schedule:`` (owner.yaml), never doubles a run, catches up once after downtime, keeps the
CloudWatch-like alarms of each owner, and remembers it all in ``schedule.sqlite``
(docs/schedule.md).

What other layers use (tests may reach inside; other layers may not):

* ``Scheduler`` with ``Starter`` / ``EngineStarter`` / ``RunOutcome`` / ``EXECUTION_PREFIX``: the
  loop ``serve`` and ``schedule`` run, and how it starts a run.
* ``ScheduleStore`` / ``FILE_NAME`` / ``read_overview`` / ``Overview``: ``schedule.sqlite``, read by
  ``status`` and the dashboard from another process.
"""

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
