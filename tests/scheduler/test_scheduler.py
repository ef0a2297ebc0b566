"""The local scheduler on a real state engine: due times, no doubled runs, catch-up after downtime,
and alarms sent once and resolved once. The scheduler's clock is a test clock (time moves when the
test says); derson-Main is a one-Task machine whose handler the test holds, fails or lets succeed
(the full pipeline against the sandbox is in test_scheduled_delta_runs.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dersonlake.notify.alert import ALARM_RESOLVED, LAKE_STALE, RUN_FAILED
from dersonlake.scheduler import Scheduler, read_overview
from tests.scheduler.conftest import write_owner


def actions(h) -> list[str]:
    return [e.action for e in h.store.events()]


def test_rate_starts_at_once_then_every_period_with_the_delta_input(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)")
    assert [e.action for e in h.scheduler.tick()] == ["started"]
    h.settle()
    h.clock.advance(30)
    assert h.scheduler.tick() == []  # not due yet
    for _ in range(3):
        h.clock.advance(30)
        assert [e.action for e in h.scheduler.tick()] == ["started"]
        h.settle()
        h.clock.advance(30)
        h.scheduler.tick()
    assert h.statuses() == ["SUCCEEDED"] * 4
    assert h.intake.calls[0] == {"owner": "acme", "delta": True}
    state = h.store.owner("acme")
    assert state.last_status == "SUCCEEDED" and state.next_due == state.anchor + 4 * 60
    arn = h.engine.state_machine_arn("derson-Main")
    names = [e["name"] for e in h.engine.list_executions(arn)["executions"]]
    assert all(n.startswith("sched-") for n in names)


def test_a_run_still_going_is_skipped_and_recorded_not_doubled(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)")
    h.intake.hold.clear()  # the first run does not end until released
    h.scheduler.tick()
    first = h.store.owner("acme").last_execution_arn
    for _ in range(2):
        h.clock.advance(60)
        (event,) = h.scheduler.tick()
        assert event.action == "skipped_running" and event.execution_arn == first
    assert h.statuses() == ["RUNNING"]
    h.intake.hold.set()
    h.settle()
    h.clock.advance(60)
    assert [e.action for e in h.scheduler.tick()] == ["started"]
    h.settle()
    assert h.statuses() == ["SUCCEEDED", "SUCCEEDED"]
    assert actions(h) == ["started", "skipped_running", "skipped_running", "started"]


def test_a_run_started_by_hand_also_blocks_the_scheduled_one(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: cron(0/5 * * * ? *)")
    h.intake.hold.clear()
    arn = h.engine.state_machine_arn("derson-Main")
    by_hand = h.engine.start_execution(arn, json.dumps({"owner": "acme"}), "by-hand")["executionArn"]
    h.scheduler.tick()
    h.clock.advance(300)
    (event,) = h.scheduler.tick()
    assert (event.action, event.execution_arn) == ("skipped_running", by_hand)


def test_downtime_gives_one_catch_up_run_and_records_the_missed_times(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)")
    h.scheduler.tick()
    h.settle()
    h.clock.advance(10 * 60 + 5)  # the scheduler was down for ten due times
    events = h.scheduler.tick()
    assert [e.action for e in events] == ["missed", "caught_up"]
    assert events[0].detail.startswith("9 due time(s) passed while the scheduler was not running")
    h.settle()
    assert h.statuses() == ["SUCCEEDED", "SUCCEEDED"]
    state = h.store.owner("acme")
    assert state.next_due == state.anchor + 11 * 60  # back on the grid


def test_due_times_older_than_the_maximum_age_are_not_caught_up(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)")
    old = Scheduler(h.scheduler.starter, h.store, owners=h.owners, clock=h.clock, max_event_age=30)
    old.tick()
    h.settle()
    h.clock.advance(10 * 60 + 45)  # the latest due time is 45 s old
    assert [e.action for e in old.tick()] == ["missed", "missed"]
    assert h.statuses() == ["SUCCEEDED"]


def test_cron_in_a_time_zone_and_a_disabled_schedule(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: cron(0 6 * * ? *)\ntimezone: America/Sao_Paulo")
    write_owner(h.owners, "off", "expression: rate(1 minute)\nenabled: false")
    assert h.scheduler.tick() == []
    due = datetime.fromtimestamp(h.store.owner("acme").next_due, UTC)
    assert (due.hour, due.minute) == (9, 0)  # 06:00 in Sao Paulo (UTC-3)
    h.clock.advance(86400)
    assert [e.owner for e in h.scheduler.tick()] == ["acme"]
    assert h.store.owner("off").last_execution_arn is None
    overview = {o.state.owner: o for o in read_overview(h.store.path)}
    assert overview["acme"].last_event.action == "started" and not overview["off"].state.enabled


def test_a_broken_owner_does_not_stop_the_others(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)")
    write_owner(h.owners, "bad", "expression: rate(1 minutes)")
    assert [e.owner for e in h.scheduler.tick()] == ["acme"]


def test_a_failing_run_raises_the_alarm_once_and_the_next_success_resolves_it(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)\nstale_after_periods: 0")
    h.intake.failing = True
    for _ in range(3):  # three failed runs in a row: one alarm
        h.scheduler.tick()
        h.settle()
        h.clock.advance(60)
    assert h.statuses() == ["FAILED"] * 3
    assert [a.kind for a in h.sent] == [RUN_FAILED]
    assert "source unreachable" in h.sent[0].cause and h.sent[0].owner == "acme"
    assert h.store.alarm("acme", "run_failed").state == "ALARM"
    h.intake.failing = False
    h.scheduler.tick()
    h.settle()
    h.scheduler.tick()
    h.clock.advance(60)
    h.scheduler.tick()
    h.settle()
    h.scheduler.tick()
    assert [a.kind for a in h.sent] == [RUN_FAILED, ALARM_RESOLVED]
    assert h.store.alarm("acme", "run_failed").state == "OK"
    restarted = Scheduler(h.scheduler.starter, h.store, owners=h.owners, send=h.sent.append, clock=h.clock)
    restarted.tick()
    assert len(h.sent) == 2  # a restart repeats nothing


def test_no_success_for_n_periods_makes_the_lake_stale_once(harness):
    h = harness
    write_owner(h.owners, "acme", "expression: rate(1 minute)\nstale_after_periods: 2")
    h.intake.failing = True
    for _ in range(4):
        h.scheduler.tick()
        h.settle()
        h.clock.advance(60)
    h.scheduler.tick()
    kinds = [a.kind for a in h.sent]
    assert kinds.count(LAKE_STALE) == 1 and kinds.count(RUN_FAILED) == 1
    stale = next(a for a in h.sent if a.kind == LAKE_STALE)
    assert "no run succeeded since the schedule started" in stale.cause and "limit 2 min" in stale.cause
    h.intake.failing = False
    h.settle()
    h.clock.advance(60)
    h.scheduler.tick()
    h.settle()
    h.scheduler.tick()
    resolved = [a for a in h.sent if a.kind == ALARM_RESOLVED]
    assert sorted(a.subject for a in resolved) == [
        "acme: OK lake_stale (resolved)",
        "acme: OK run_failed (resolved)",
    ]
