"""``derson-lake schedule --list`` and the schedules in ``derson-lake status``, in child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dersonlake.scheduler.store import Event, OwnerState, ScheduleStore
from tests.config.test_owner import GOOD, write_owner

REPO = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DERSON_HOME": str(tmp_path / ".derson"),
        "DERSON_OWNERS_DIR": str(tmp_path / "owners"),
    }
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_list_prints_each_owners_schedule_and_next_runs(tmp_path):
    owners = tmp_path / "owners"
    write_owner(
        owners, GOOD + "schedule:\n  expression: cron(0 6 ? * MON-FRI *)\n  timezone: Europe/Lisbon\n"
    )
    write_owner(owners, GOOD + "schedule: rate(5 minutes)\n", name="fast")
    write_owner(owners, GOOD, name="manual")
    done = cli(tmp_path, "schedule", "--list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("acme: cron(0 6 ? * MON-FRI *) in Europe/Lisbon; next run(s): ")
    assert " 06:00 WE" in lines[0]  # WET or WEST: the Lisbon wall clock
    assert lines[1] == "fast: rate(5 minutes) in UTC; next run: when the scheduler starts, then every 5 min"
    assert lines[2] == "manual: no schedule (runs only when started)"


def test_a_bad_schedule_is_exit_2_naming_the_key(tmp_path):
    write_owner(
        tmp_path / "owners", GOOD + "schedule:\n  expression: rate(5 minutes)\n  timezone: Mars/Olympus\n"
    )
    done = cli(tmp_path, "schedule", "--list")
    assert done.returncode == 2 and "schedule.timezone: unknown time zone" in done.stderr
    assert "Traceback" not in done.stderr


def test_status_shows_next_run_last_outcome_and_alarms(tmp_path):
    store = ScheduleStore(tmp_path / ".derson" / "schedule.sqlite")
    try:
        state = OwnerState("acme", "rate(15 minutes)", "UTC", True, 1_796_000_000.0, 1_796_000_000.0)
        state.next_due, state.last_status, state.last_success = 1_796_000_900.0, "FAILED", None
        store.save_owner(state)
        store.add_event(Event("acme", 1_796_000_000.0, 1_796_000_000.0, "started", "arn:x"))
        from dersonlake.scheduler.store import AlarmState

        store.save_alarm(AlarmState("acme", "run_failed", "ALARM", 1_796_000_100.0, "FAILED: boom"))
    finally:
        store.close()
    done = cli(tmp_path, "status", "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["schedules"]
    assert row["owner"] == "acme" and row["next_due"] == "2026-11-30 01:08:20"
    assert (
        row["last_status"] == "FAILED" and row["alarms"] == ["run_failed"] and row["last_event"] == "started"
    )
    plain = cli(tmp_path, "status")
    assert (
        "Schedules:" in plain.stdout
        and "rate(15 minutes) UTC" in plain.stdout
        and "run_failed" in plain.stdout
    )
