"""``schedule:`` in owner.yaml: parsed with the owner, and every mistake named by file and key."""

from __future__ import annotations

import pytest

from dersonlake.config import load_owner
from dersonlake.cron import Rate
from dersonlake.errors import BadInput
from tests.config.test_owner import GOOD, REPO, write_owner


def test_sample_owner_has_a_schedule():
    schedule = load_owner("dersonLake", REPO / "owners").schedule
    assert schedule is not None and schedule.expression == "rate(15 minutes)"
    assert isinstance(schedule.parsed, Rate) and schedule.timezone == "America/Sao_Paulo"
    assert schedule.enabled and schedule.stale_after_periods == 3


def test_no_schedule_block_means_no_schedule(tmp_path):
    write_owner(tmp_path, GOOD)
    assert load_owner("acme", tmp_path).schedule is None


def test_full_and_short_forms(tmp_path):
    write_owner(tmp_path, GOOD + "schedule:\n  expression: cron(0/15 * * * ? *)\n  timezone: Europe/Lisbon\n"
                "  flexible_window_minutes: 10\n  enabled: false\n  stale_after_periods: 0\n")  # fmt: skip
    s = load_owner("acme", tmp_path).schedule
    assert (s.timezone, s.flexible_window_minutes, s.enabled, s.stale_after_periods) == (
        "Europe/Lisbon",
        10,
        False,
        0,
    )
    write_owner(tmp_path, GOOD + "schedule: rate(1 hour)\n")
    assert load_owner("acme", tmp_path).schedule.parsed.seconds == 3600


@pytest.mark.parametrize(
    ("block", "path", "says"),
    [
        ("schedule:\n  expresion: rate(5 minutes)\n", "schedule.expresion", "did you mean 'expression'"),
        ("schedule:\n  timezone: UTC\n", "schedule.expression", "required key is missing"),
        ("schedule:\n  expression: rate(5 minute)\n", "schedule.expression", "write rate(5 minutes)"),
        ("schedule:\n  expression: cron(0 10 * * * *)\n", "schedule.expression", "must be '?'"),
        ("schedule:\n  expression: rate(5 minutes)\n  timezone: America/Sao_Paolo\n", "schedule.timezone",
         "did you mean 'America/Sao_Paulo'"),
        ("schedule:\n  expression: rate(5 minutes)\n  flexible_window_minutes: 2000\n",
         "schedule.flexible_window_minutes", "1-1440"),
        ("schedule:\n  expression: rate(5 minutes)\n  enabled: yes please\n", "schedule.enabled", "true/false"),
        ("schedule:\n  expression: rate(5 minutes)\n  stale_after_periods: -1\n", "schedule.stale_after_periods",
         "0 (no stale alarm)"),
    ],
)  # fmt: skip
def test_bad_schedule_names_file_and_key(tmp_path, block, path, says):
    folder = write_owner(tmp_path, GOOD + block)
    with pytest.raises(BadInput) as err:
        load_owner("acme", tmp_path)
    message = str(err.value)
    assert message.startswith(f"{folder / 'owner.yaml'}: {path}: "), message
    assert says in message


def test_cli_exit_code_2_for_a_bad_schedule(tmp_path):
    import subprocess
    import sys

    write_owner(tmp_path, GOOD + "schedule: cron(0 25 * * ? *)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "dersonlake", "owners", "check", "acme", "--owners-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "schedule.expression: hours value 25 is out of range" in proc.stderr
    assert "Traceback" not in proc.stderr
