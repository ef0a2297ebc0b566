"""``schedule:`` in owner.yaml: when derson-Main runs the owner's delta, in EventBridge Scheduler's terms.

The same block drives the local scheduler (``derson-lake serve`` / ``derson-lake schedule``) and
the Terraform ``aws_scheduler_schedule`` of the owner (``scripts/terraform_owners.py`` copies it
to ``infra/terraform/owners/<owner>.json``), so one expression means the same times on both sides::

    schedule:
      expression: cron(0/15 * * * ? *)   # or rate(15 minutes), at(2026-12-31T23:00:00)
      timezone: America/Sao_Paulo        # ScheduleExpressionTimezone (IANA name), default UTC
      flexible_window_minutes: 5         # FlexibleTimeWindow FLEXIBLE, 1-1440; 0/absent: OFF
      enabled: true                      # State ENABLED / DISABLED
      stale_after_periods: 3             # the "lake is stale" alarm; 0 turns it off
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dersonlake.config.shape import expect_mapping, expect_type
from dersonlake.cron import Expression, InvalidExpression, parse_expression
from dersonlake.errors import BadInput

SCHEDULE_KEYS = ("expression", "timezone", "flexible_window_minutes", "enabled", "stale_after_periods")


@dataclass(frozen=True)
class ScheduleConfig:
    """An owner's schedule: ``expression`` as written (AWS's syntax) and its parsed form."""

    expression: str
    parsed: Expression
    timezone: str = "UTC"
    flexible_window_minutes: int = 0
    enabled: bool = True
    stale_after_periods: int = 3

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_schedule(raw: Any, file: str) -> ScheduleConfig:
    """The ``schedule:`` block; BadInput names ``schedule.<key>`` and the fix."""
    if isinstance(raw, str):  # the short form: schedule: rate(15 minutes)
        raw = {"expression": raw}
    doc = expect_mapping(raw, file=file, path="schedule", allowed=SCHEDULE_KEYS, required=("expression",))
    text = expect_type(doc["expression"], str, file=file, path="schedule.expression", what="an expression")
    try:
        parsed = parse_expression(text)
    except InvalidExpression as exc:
        raise BadInput(exc.problem, file=file, path="schedule.expression", hint=exc.hint) from None
    zone = expect_type(
        doc.get("timezone", "UTC"), str, file=file, path="schedule.timezone", what="a time zone"
    )
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(
            "unknown time zone",
            file=file,
            path="schedule.timezone",
            value=zone,
            allowed=difflib.get_close_matches(zone, sorted(available_timezones()), n=3) or None,
            hint="Use an IANA name such as UTC, America/Sao_Paulo or Europe/Lisbon",
        ) from None
    window = expect_type(
        doc.get("flexible_window_minutes", 0),
        int,
        file=file,
        path="schedule.flexible_window_minutes",
        what="minutes as a whole number",
    )
    if not 0 <= window <= 1440:
        raise BadInput(
            "must be 0 (off) or 1-1440 minutes, as FlexibleTimeWindow's MaximumWindowInMinutes",
            file=file,
            path="schedule.flexible_window_minutes",
            value=window,
        )
    enabled = expect_type(
        doc.get("enabled", True), bool, file=file, path="schedule.enabled", what="true/false"
    )
    stale = expect_type(
        doc.get("stale_after_periods", 3),
        int,
        file=file,
        path="schedule.stale_after_periods",
        what="a whole number of schedule periods",
    )
    if stale < 0:
        raise BadInput(
            "must be 0 (no stale alarm) or more", file=file, path="schedule.stale_after_periods", value=stale
        )
    return ScheduleConfig(text.strip(), parsed, zone, window, enabled, stale)
