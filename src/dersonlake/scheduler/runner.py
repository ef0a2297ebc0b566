"""The local scheduler: starts derson-Main with ``{"owner": X, "delta": true}`` when X's schedule is due.

It does what EventBridge Scheduler does on AWS, on one machine: every tick (default: each second)
it reads the owners' ``schedule:`` blocks (again when an owner.yaml changes), follows the run it
last started, and for each owner whose due time has come:

- a run of that owner (scheduled or started by hand) still RUNNING: the due time is skipped and
  recorded (``skipped_running``); runs are never doubled, as the pipeline's one-run-per-owner rule
  would refuse the second anyway;
- due times that passed while the scheduler was down (or stopped ticking): ONE catch-up run for the
  latest of them (``caught_up``) and one ``missed`` record for the rest, if that latest one is at
  most ``max_event_age`` old (24 h, EventBridge Scheduler's default MaximumEventAgeInSeconds);
  older ones are only recorded as missed;
- otherwise the run starts (``started``).

With ``flexible_window_minutes`` a due time fires at a fixed offset inside the window, derived from
the owner and the due time (spread, yet reproducible). ``rate()`` counts from when the scheduler
first saw the schedule (EventBridge: from its creation) and fires at once then, as EventBridge does
without a StartDate; editing the expression or time zone starts it afresh.
Every time comes from ``clock`` so tests drive it with a test clock.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dersonlake import logs
from dersonlake.config import ScheduleConfig, list_owners, load_owner, owners_dir
from dersonlake.cron import nominal_period
from dersonlake.errors import DersonError
from dersonlake.scheduler.alarms import Alarms, Send
from dersonlake.scheduler.store import (
    CAUGHT_UP,
    MISSED,
    SKIPPED_RUNNING,
    START_FAILED,
    STARTED,
    Event,
    OwnerState,
    ScheduleStore,
)

log = logs.component("SCHEDULER")

EXECUTION_PREFIX = "sched-"  # execution names of scheduled runs: sched-<due UTC>-<random>
MAX_EVENT_AGE = 86400.0
MAX_MISSED_COUNTED = 10_000


@dataclass(frozen=True)
class RunOutcome:
    status: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    error: str = ""
    cause: str = ""


class Starter(Protocol):
    """What the scheduler needs from a Step Functions endpoint (the local engine, or AWS's)."""

    def start(self, owner: str, name: str) -> str: ...

    def outcome(self, execution_arn: str) -> RunOutcome: ...

    def running(self, owner: str) -> str | None: ...

    def task_failure(self, owner: str, since: float, outcome: RunOutcome) -> str | None: ...


class Scheduler:
    """One per machine: ``tick()`` does one round; ``start()``/``stop()`` run it in a thread."""

    def __init__(
        self,
        starter: Starter,
        store: ScheduleStore,
        *,
        owners: str | Path | None = None,
        send: Send | None = None,
        clock: Callable[[], float] = time.time,
        interval: float = 1.0,
        max_event_age: float = MAX_EVENT_AGE,
    ) -> None:
        self.starter = starter
        self.store = store
        self.owners_dir = owners_dir(owners)
        self.alarms = Alarms(store, send)
        self.clock = clock
        self.interval = interval
        self.max_event_age = max_event_age
        self._configs: dict[str, tuple[float, ScheduleConfig | None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the owners' schedules --------------------------------------------------------------------------
    def schedules(self) -> dict[str, ScheduleConfig]:
        """Owner -> schedule, re-read when an owner.yaml changes; a broken owner is logged and left out
        (the others keep running)."""
        out: dict[str, ScheduleConfig] = {}
        for name in list_owners(self.owners_dir):
            file = self.owners_dir / name / "owner.yaml"
            try:
                mtime = file.stat().st_mtime
            except OSError:
                continue
            cached = self._configs.get(name)
            if cached is None or cached[0] != mtime:
                try:
                    schedule = load_owner(name, self.owners_dir).schedule
                except DersonError as exc:
                    log.error("owner %s is not scheduled: %s", name, exc, extra={"owner": name})
                    schedule = None
                self._configs[name] = cached = (mtime, schedule)
            if cached[1] is not None:
                out[name] = cached[1]
        return out

    # -- one round ------------------------------------------------------------------------------------
    def tick(self) -> list[Event]:
        """Follow last runs, start what is due, evaluate alarms; returns the events recorded."""
        events: list[Event] = []
        for name, schedule in self.schedules().items():
            try:
                events += self._tick_owner(name, schedule)
            except Exception:  # one owner's bug must not stop the others' schedules
                log.exception("scheduling owner %s failed", name, extra={"owner": name})
        return events

    def _tick_owner(self, name: str, schedule: ScheduleConfig) -> list[Event]:
        now = self.clock()
        state = self._state(name, schedule, now)
        outcome = self._follow(state, now)
        period = nominal_period(schedule.parsed, now, schedule.zone, state.anchor)
        stale = period * schedule.stale_after_periods if period and schedule.stale_after_periods else None
        failure = task_failure = None
        if outcome is not None and outcome.status != "SUCCEEDED":
            failure = (outcome.error, outcome.cause)
            if state.last_started is not None:
                task_failure = self.starter.task_failure(name, state.last_started, outcome)
        self.alarms.evaluate(
            state,
            now,
            stale_after=stale if state.enabled else None,
            failure=failure,
            task_failure=task_failure,
        )
        events = []
        if (
            state.enabled
            and state.next_due is not None
            and now >= self._fire_time(name, state.next_due, schedule)
        ):
            events = self._fire(state, schedule, now)
        self.store.save_owner(state)
        return events

    def _state(self, name: str, schedule: ScheduleConfig, now: float) -> OwnerState:
        state = self.store.owner(name)
        if state is None or (state.expression, state.timezone) != (schedule.expression, schedule.timezone):
            previous = state
            state = OwnerState(name, schedule.expression, schedule.timezone, schedule.enabled, now, now)
            if previous is not None:  # keep the run history across an edit of the schedule
                for key in (
                    "last_execution_arn",
                    "last_started",
                    "last_status",
                    "last_stopped",
                    "last_success",
                ):
                    setattr(state, key, getattr(previous, key))
            state.next_due = schedule.parsed.next_after(now - 1e-6, schedule.zone, now)
        state.enabled = schedule.enabled
        state.updated = now
        return state

    def _follow(self, state: OwnerState, now: float) -> RunOutcome | None:
        """Update the state with how the last started run ended; the outcome when it just ended."""
        if state.last_status != "RUNNING" or not state.last_execution_arn:
            return None
        outcome = self.starter.outcome(state.last_execution_arn)
        if outcome.status == "RUNNING":
            return None
        state.last_status = outcome.status
        state.last_stopped = now
        if outcome.status == "SUCCEEDED":
            state.last_success = now
        log.info("owner %s: scheduled run %s", state.owner, outcome.status, extra={"owner": state.owner})
        return outcome

    @staticmethod
    def _fire_time(owner: str, due: float, schedule: ScheduleConfig) -> float:
        window = schedule.flexible_window_minutes * 60
        if not window:
            return due
        digest = hashlib.sha256(f"{owner}:{due}".encode()).digest()
        return due + int.from_bytes(digest[:4], "big") % window

    def _fire(self, state: OwnerState, schedule: ScheduleConfig, now: float) -> list[Event]:
        assert state.next_due is not None
        dues = [state.next_due]
        while len(dues) < MAX_MISSED_COUNTED:
            following = schedule.parsed.next_after(dues[-1], schedule.zone, state.anchor)
            if following is None or following > now:
                break
            dues.append(following)
        latest = dues[-1]
        state.last_due = latest
        state.next_due = schedule.parsed.next_after(latest, schedule.zone, state.anchor)
        events = []
        if len(dues) > 1:
            detail = (
                f"{len(dues) - 1} due time(s) passed while the scheduler was not running "
                f"({_iso(dues[0])} .. {_iso(dues[-2])} UTC)"
            )
            events.append(self._record(state.owner, dues[0], now, MISSED, detail=detail))
        if now - latest > self.max_event_age:
            detail = f"the latest due time is older than {self.max_event_age / 3600:.0f} h: not caught up"
            return [*events, self._record(state.owner, latest, now, MISSED, detail=detail)]
        running = self.starter.running(state.owner)
        if running is not None:
            detail = "a run of the owner was still going: this due time is skipped, not doubled"
            return [*events, self._record(state.owner, latest, now, SKIPPED_RUNNING, running, detail)]
        name = (
            f"{EXECUTION_PREFIX}{datetime.fromtimestamp(latest, UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        )
        try:
            arn = self.starter.start(state.owner, name)
        except Exception as exc:  # the endpoint refused: recorded, alarmed, tried again next time
            state.last_status, state.last_started, state.last_execution_arn = "START_FAILED", now, None
            log.error(
                "owner %s: cannot start derson-Main: %s", state.owner, exc, extra={"owner": state.owner}
            )
            self.alarms.evaluate(
                state, now, stale_after=None, failure=("StartExecution", str(exc)), task_failure=None
            )
            return [*events, self._record(state.owner, latest, now, START_FAILED, detail=str(exc))]
        state.last_execution_arn, state.last_started, state.last_status = arn, now, "RUNNING"
        action = CAUGHT_UP if len(dues) > 1 else STARTED
        log.info("owner %s: %s %s", state.owner, action, arn, extra={"owner": state.owner})
        return [*events, self._record(state.owner, latest, now, action, arn)]

    def _record(
        self, owner: str, due: float, now: float, action: str, arn: str | None = None, detail: str = ""
    ) -> Event:
        event = Event(owner, due, now, action, arn, detail)
        self.store.add_event(event)
        return event

    # -- the thread -----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


class EngineStarter:
    """Starts derson-Main on the in-process state engine (``serve`` / ``schedule``), as EventBridge
    Scheduler's StartExecution target would, with the same input."""

    def __init__(self, engine: Any, states_db: str | Path, replication_db: str | Path, machine: str) -> None:
        self.engine = engine
        self.states_db = Path(states_db)
        self.replication_db = Path(replication_db)
        self.machine = machine

    def start(self, owner: str, name: str) -> str:
        arn = self.engine.state_machine_arn(self.machine)
        payload = json.dumps({"owner": owner, "delta": True})
        return str(self.engine.start_execution(arn, payload, name)["executionArn"])

    def outcome(self, execution_arn: str) -> RunOutcome:
        from dersonlake.states import root_cause

        done = self.engine.describe_execution(execution_arn)
        error, cause = root_cause(done.get("error") or "", done.get("cause") or "")
        return RunOutcome(done["status"], error, cause)

    def running(self, owner: str) -> str | None:
        from dersonlake.states import read_executions

        for e in read_executions(self.states_db, owner=owner):
            if not e.nested and e.status == "RUNNING" and e.state_machine == self.machine:
                return e.arn
        return None

    def task_failure(self, owner: str, since: float, outcome: RunOutcome) -> str | None:
        from dersonlake.replication import stats as rstats

        if "ReplicationTask" in outcome.error:
            return f"{outcome.error}: {outcome.cause}"
        for task in rstats.read_tasks(self.replication_db, owner=owner):
            if task.status == "failed" and (task.stop_date or 0) >= since:
                return f"replication task {task.identifier} failed: {task.last_failure or task.stop_reason}"
        return None
