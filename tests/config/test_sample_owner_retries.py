"""The sample owner (and the docs' example) keep retrying through a source restart of a minute:
the sum of ErrorBehavior's waits before the task gives up is well past 60 s (it was ~7 s)."""

from __future__ import annotations

from pathlib import Path

from dersonlake.config import load_owner
from dersonlake.mapping import parse_task_settings
from dersonlake.replication.recoverable import Backoff

ROOT = Path(__file__).resolve().parents[2]


def patience(settings: dict) -> float:
    """Seconds of waiting between restarts before the task fails for good."""
    backoff = Backoff.from_settings(parse_task_settings(settings).error_behavior)
    total, attempt = 0.0, 1
    while (wait := backoff.wait(attempt)) is not None and attempt < 1000:
        total += wait
        attempt += 1
    return total


def test_the_sample_owner_survives_a_one_minute_source_restart():
    owner = load_owner("dersonLake", ROOT / "owners")
    assert patience(owner.task_settings) >= 120  # a minute down, a minute to come back
