"""The local alarms of a scheduled owner, CloudWatch-style: OK or ALARM, one alert per change.

Three alarms per owner, the local counterparts of what Terraform's ``alarms`` module puts on AWS:

- ``run_failed``: the last scheduled run of derson-Main ended FAILED, TIMED_OUT or ABORTED, or could
  not be started (AWS: ExecutionsFailed / ExecutionsTimedOut / ExecutionsAborted);
- ``task_failed``: that failure was the replication task's (the pipeline's
  ``DersonLake.ReplicationTaskFailed``, or a task of the owner found ``failed`` in the replication
  store) (AWS: the EventBridge rule on DMS replication-task failure events);
- ``lake_stale``: no run succeeded for ``stale_after_periods`` schedule periods (AWS: derson-Main's
  ExecutionsSucceeded missing for N periods, treated as breaching).

Going to ALARM sends one alert through the notifier (``notify.yaml``); staying there sends nothing
more, however many runs fail; the next successful run sets every alarm of the owner back to OK and
sends one ``alarm_resolved`` alert per alarm that was on. States live in the schedule store, so a
restart neither repeats nor forgets an alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dersonlake.notify import ALARM_RESOLVED, LAKE_STALE, RUN_FAILED, TASK_FAILED, Alert
from dersonlake.scheduler.store import AlarmState, OwnerState, ScheduleStore

OK = "OK"
ALARM = "ALARM"
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED", "START_FAILED")
NAMES = {"run_failed": RUN_FAILED, "task_failed": TASK_FAILED, "lake_stale": LAKE_STALE}

Send = Callable[[Alert], object]


class Alarms:
    """Evaluates an owner's alarms after each scheduler tick and sends what changed."""

    def __init__(self, store: ScheduleStore, send: Send | None) -> None:
        self.store = store
        self.send = send

    def evaluate(
        self,
        state: OwnerState,
        now: float,
        *,
        stale_after: float | None,
        failure: tuple[str, str] | None,
        task_failure: str | None,
    ) -> list[Alert]:
        """Set the owner's alarms from its state; ``failure`` is the last run's (error, cause) when it
        failed, ``task_failure`` the replication task's message when the task failed, ``stale_after``
        the seconds without success that make the lake stale (None: no stale alarm)."""
        sent: list[Alert] = []
        if state.last_status == "SUCCEEDED":
            for name in ("run_failed", "task_failed"):
                sent += self._set(state, name, OK, now, "the next scheduled run succeeded")
        elif state.last_status in FAILED_STATUSES and failure is not None:
            error, cause = failure
            reason = f"{state.last_status}: {error}: {cause}" if error else f"{state.last_status}: {cause}"
            sent += self._set(state, "run_failed", ALARM, now, reason)
            if task_failure:
                sent += self._set(state, "task_failed", ALARM, now, task_failure)
        if stale_after is not None:
            reference = state.last_success or state.anchor
            age = now - reference
            if age > stale_after:
                since = "the schedule started" if state.last_success is None else f"{_iso(reference)} UTC"
                reason = (
                    f"no run succeeded since {since} ({age / 60:.0f} min; limit {stale_after / 60:.0f} min)"
                )
                sent += self._set(state, "lake_stale", ALARM, now, reason)
            elif state.last_success is not None:
                sent += self._set(state, "lake_stale", OK, now, "a scheduled run succeeded")
        return sent

    def _set(self, state: OwnerState, name: str, value: str, now: float, reason: str) -> list[Alert]:
        current = self.store.alarm(state.owner, name)
        if (current.state if current else OK) == value:
            return []
        self.store.save_alarm(AlarmState(state.owner, name, value, now, reason))
        if value == OK and current is None:
            return []
        alert = _alert(state, name, value, now, reason, current)
        if self.send is not None:
            self.send(alert)
        return [alert]


def _alert(
    state: OwnerState, name: str, value: str, now: float, reason: str, previous: AlarmState | None
) -> Alert:
    where = {"command": f"derson-lake status {state.owner}"}
    if state.last_execution_arn:
        where["execution"] = state.last_execution_arn
    if value == ALARM:
        return Alert(
            kind=NAMES[name],
            owner=state.owner,
            subject=f"{state.owner}: ALARM {name} (schedule {state.expression})",
            what=f"alarm {name} of owner {state.owner} went off",
            cause=reason,
            where=where,
            key=f"alarm:{state.owner}:{name}:{now}",
            time=now,
        )
    began = previous.since if previous else now
    return Alert(
        kind=ALARM_RESOLVED,
        owner=state.owner,
        subject=f"{state.owner}: OK {name} (resolved)",
        what=f"alarm {name} of owner {state.owner} is resolved: {reason}",
        cause=previous.reason if previous else "",
        where=where,
        key=f"resolved:{state.owner}:{name}:{began}",
        time=now,
        details={"alarm_since": _iso(began)},
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
