"""The alert watcher: finds what went wrong in the stores and turns it into alerts.

It reads the state engine's and the replication stores read-only (``states.stats``,
``replication.stats``) every ``check_interval_seconds``, so it sees failures of any process on
the machine: a derson-Main execution that FAILED or TIMED_OUT, a replication task that entered
``failed``, a table suspended (``Table error``), CDC lag (source + target latency, dms.md §5.6)
above ``cdc_latency_seconds``. Each event is sent once (its key is recorded in ``AlertLog``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from dersonlake import logs
from dersonlake.notify.alert import CDC_LATENCY, EXECUTION_FAILED, TABLE_SUSPENDED, TASK_FAILED, Alert
from dersonlake.notify.notifier import Notifier
from dersonlake.replication import stats as rstats
from dersonlake.replication.status import FAILED
from dersonlake.states import stats as sstats

log = logs.component("NOTIFY")


class AlertWatcher:
    def __init__(self, notifier: Notifier, states_db: str | Path, replication_db: str | Path) -> None:
        self.notifier = notifier
        self.states_db = Path(states_db)
        self.replication_db = Path(replication_db)
        self.since = notifier.alert_log.since if notifier.alert_log is not None else time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def find(self) -> list[Alert]:
        """The alerts the stores call for now (sent or not)."""
        latency = self.notifier.config.cdc_latency_seconds
        alerts = execution_alerts(sstats.read_executions(self.states_db, since=self.since))
        for task in rstats.read_tasks(self.replication_db):
            alerts += task_alerts(task, self.since, latency)
        return alerts

    def check(self) -> list[Alert]:
        """Send the alerts not sent yet; returns those sent now."""
        sent = []
        for alert in self.find():
            if self.notifier.send(alert):
                sent.append(alert)
        return sent

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alert-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop, after one last check (a failure at the very end is still reported)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._safe_check()

    def _loop(self) -> None:
        while not self._stop.wait(self.notifier.config.check_interval_seconds):
            self._safe_check()

    def _safe_check(self) -> None:
        try:
            self.check()
        except Exception:  # a store mid-migration or a bug must not stop the server
            log.exception("alert check failed")


def execution_alerts(executions: list[sstats.ExecutionStat]) -> list[Alert]:
    """A top-level execution that FAILED or TIMED_OUT (nested ones fail their parent, which alerts).
    Runs started by the scheduler (named ``sched-...``) are left to its ``run_failed`` alarm, which
    is sent once for a series of failures instead of once per run."""
    out = []
    for e in executions:
        if e.nested or e.status not in ("FAILED", "TIMED_OUT") or e.stop is None:
            continue
        if e.name.startswith("sched-"):  # dersonlake.scheduler.EXECUTION_PREFIX
            continue
        error, cause = sstats.root_cause(e.error or "", e.cause or "")
        who = f"{e.owner}: " if e.owner else ""
        out.append(
            Alert(
                kind=EXECUTION_FAILED,
                owner=e.owner,
                subject=f"{who}{e.state_machine} {e.status}",
                what=f"execution {e.name} of state machine {e.state_machine} {e.status}",
                cause=f"{error}: {cause}" if error else cause,
                where={"execution": e.arn, "command": f"derson-lake executions describe {e.arn}"},
                key=f"execution:{e.arn}:{e.stop}",
                time=e.stop,
            )
        )
    return out


def task_alerts(task: rstats.TaskStat, since: float, latency_limit: float | None) -> list[Alert]:
    out = []
    where = {"task": task.arn, "command": f"derson-lake status {task.owner}".rstrip()}
    who = f"{task.owner}: " if task.owner else ""
    run = task.start_date or 0
    if task.status == FAILED and (task.stop_date or time.time()) >= since:
        out.append(
            Alert(
                kind=TASK_FAILED,
                owner=task.owner,
                subject=f"{who}replication task {task.identifier} failed",
                what=f"replication task {task.identifier} entered failed ({task.stop_reason or 'no reason'})",
                cause=task.last_failure or "no failure message recorded",
                where=where,
                key=f"task:{task.arn}:{task.stop_date or run}",
                time=task.stop_date or time.time(),
            )
        )
    for t in task.tables:
        if t.suspended and (t.last_update or 0) >= since:
            out.append(
                Alert(
                    kind=TABLE_SUSPENDED,
                    owner=task.owner,
                    subject=f"{who}table {t.schema}.{t.table} suspended",
                    what=f"table {t.schema}.{t.table} of task {task.identifier} is suspended (Table error)",
                    cause=t.error or "no error recorded",
                    where={**where, "fix": f"derson-lake load {task.owner} --reload".strip()},
                    key=f"table:{task.arn}:{t.schema}.{t.table}:{run}",
                    time=t.last_update or time.time(),
                )
            )
    lag = (task.latency_source or 0) + (task.latency_target or 0)
    if latency_limit is not None and task.status == "running" and lag > latency_limit:
        out.append(
            Alert(
                kind=CDC_LATENCY,
                owner=task.owner,
                subject=f"{who}CDC lag {lag:.0f}s on task {task.identifier}",
                what=f"CDC latency of task {task.identifier} is above {latency_limit:.0f}s",
                cause=(
                    f"CDCLatencySource {task.latency_source or 0:.0f}s + "
                    f"CDCLatencyTarget {task.latency_target or 0:.0f}s"
                ),
                where=where,
                key=f"latency:{task.arn}:{run}",
                time=time.time(),
                details={"latency_source": task.latency_source, "latency_target": task.latency_target},
            )
        )
    return out
