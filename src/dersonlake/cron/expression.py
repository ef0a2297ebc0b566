"""EventBridge Scheduler's schedule expressions, ``rate()``, ``cron()`` and ``at()``, and their due times.

Pure functions of time: ``parse_expression(text)`` checks an expression as CreateSchedule would;
``next_after(t, tz, anchor)`` is the first due instant strictly after ``t`` (epoch seconds).
Semantics follow the EventBridge Scheduler user guide ("Schedule types"):

- ``rate(value unit)``: every ``value`` minutes/hours/days of elapsed time (a day is 24 hours,
  whatever DST does), counted from the schedule's start (``anchor``); without a start date the
  first run is at once.
- ``cron(min hour dom month dow year)``: wall-clock times in the schedule's time zone. When DST
  springs forward, a time that does not exist that day is skipped; when it falls back, a time that
  happens twice runs once (at its first occurrence).
- ``at(yyyy-mm-ddThh:mm:ss)``: once, at that wall-clock time in the schedule's time zone.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from dersonlake.cron.fields import (
    HOURS,
    MINUTES,
    MONTH,
    YEAR,
    DayRule,
    InvalidExpression,
    parse_day_of_month,
    parse_day_of_week,
    parse_set,
)

RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^rate\(\s*(\S+)\s+(\S+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((.*)\)$")
EXAMPLES = "rate(15 minutes), cron(0/15 * * * ? *), at(2026-12-31T23:00:00)"


@dataclass(frozen=True)
class Rate:
    text: str
    seconds: int

    def next_after(self, after: float, tz: tzinfo, anchor: float | None = None) -> float | None:
        start = after if anchor is None else anchor
        if after < start:
            return start
        periods = int((after - start) // self.seconds) + 1
        return start + periods * self.seconds


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: DayRule
    months: frozenset[int]
    day_of_week: DayRule
    years: frozenset[int]

    def matches_day(self, day: date) -> bool:
        return (
            day.year in self.years
            and day.month in self.months
            and self.day_of_month.matches(day, of_week=False)
            and self.day_of_week.matches(day, of_week=True)
        )

    def next_after(self, after: float, tz: tzinfo, anchor: float | None = None) -> float | None:
        day = datetime.fromtimestamp(after, tz).date() - timedelta(days=1)  # DST: the day before may fit
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                continue
            if self.matches_day(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        due = wall_clock_instant(datetime(day.year, day.month, day.day, hour, minute), tz)
                        if due is not None and due > after:
                            return due
            day += timedelta(days=1)
        return None


@dataclass(frozen=True)
class At:
    text: str
    when: datetime  # naive wall-clock time in the schedule's time zone

    def next_after(self, after: float, tz: tzinfo, anchor: float | None = None) -> float | None:
        due = wall_clock_instant(self.when, tz)
        if due is None:  # in a DST gap: the clock reads it an hour later
            due = self.when.replace(tzinfo=tz).timestamp()
        return due if due > after else None


Expression = Rate | Cron | At


def wall_clock_instant(local: datetime, tz: tzinfo) -> float | None:
    """The instant a wall clock in ``tz`` shows ``local`` (its first time, after a fall back);
    None when the clock skips it (spring forward)."""
    instant = local.replace(tzinfo=tz, fold=0).timestamp()
    if datetime.fromtimestamp(instant, tz).replace(tzinfo=None) != local:
        return None
    return instant


def parse_expression(text: str) -> Expression:
    """``text`` as a Rate, Cron or At; InvalidExpression says what is wrong and how to fix it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidExpression("the schedule expression is empty", f"write one of {EXAMPLES}")
    text = text.strip()
    if m := _RATE.match(text):
        return _rate(text, m.group(1), m.group(2))
    if m := _CRON.match(text):
        return _cron(text, m.group(1))
    if m := _AT.match(text):
        return _at(text, m.group(1).strip())
    raise InvalidExpression(f"{text!r} is not a rate(), cron() or at() expression", f"e.g. {EXAMPLES}")


def _rate(text: str, value_text: str, unit: str) -> Rate:
    if not value_text.isdigit() or int(value_text) < 1:
        raise InvalidExpression(f"{text}: the value must be a positive whole number", "e.g. rate(15 minutes)")
    value = int(value_text)
    singular = unit.rstrip("s") if unit.endswith("s") else unit
    if singular not in RATE_UNITS:
        raise InvalidExpression(f"{text}: unknown unit {unit!r}", "use minutes, hours or days")
    if value == 1 and unit != singular:
        raise InvalidExpression(f"{text}: a value of 1 takes the singular unit", f"write rate(1 {singular})")
    if value > 1 and unit == singular:
        raise InvalidExpression(
            f"{text}: a value above 1 takes the plural unit", f"write rate({value} {unit}s)"
        )
    return Rate(text, value * RATE_UNITS[singular])


def _cron(text: str, body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise InvalidExpression(
            f"{text}: cron() takes 6 fields, got {len(fields)}",
            "minutes hours day-of-month month day-of-week year, e.g. cron(0/15 * * * ? *)",
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidExpression(
            f"{text}: exactly one of day-of-month and day-of-week must be '?'",
            "e.g. cron(0 8 1 * ? *) for the 1st, cron(0 18 ? * MON-FRI *) for weekdays",
        )
    return Cron(
        text,
        tuple(sorted(parse_set(minute, MINUTES))),
        tuple(sorted(parse_set(hour, HOURS))),
        parse_day_of_month(dom) if dom != "?" else DayRule("any"),
        parse_set(month, MONTH),
        parse_day_of_week(dow) if dow != "?" else DayRule("any"),
        parse_set(year, YEAR),
    )


def _at(text: str, body: str) -> At:
    try:
        when = datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise InvalidExpression(
            f"{text}: at() takes yyyy-mm-ddThh:mm:ss", "e.g. at(2026-12-31T23:00:00)"
        ) from None
    return At(text, when)


def upcoming(
    expression: Expression, after: float, tz: tzinfo, anchor: float | None = None, count: int = 5
) -> list[float]:
    """The next ``count`` due instants after ``after`` (fewer when the schedule ends)."""
    out: list[float] = []
    t = after
    while len(out) < count:
        due = expression.next_after(t, tz, anchor)
        if due is None:
            break
        out.append(due)
        t = due
    return out


def nominal_period(
    expression: Expression, after: float, tz: tzinfo, anchor: float | None = None
) -> float | None:
    """The longest gap between coming due times (the rate itself for ``rate()``; None for
    ``at()``): "N periods without a success" is measured in it, so a weekday-only cron is not
    called stale over a weekend."""
    if isinstance(expression, Rate):
        return float(expression.seconds)
    if isinstance(expression, At):
        return None
    times = upcoming(expression, after, tz, anchor, count=25)
    if len(times) < 2:
        return None
    return max(b - a for a, b in itertools.pairwise(times))
