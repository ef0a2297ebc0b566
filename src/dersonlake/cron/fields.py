"""The six fields of an EventBridge ``cron()`` expression, parsed into sets and day rules.

EventBridge's fields are minutes, hours, day-of-month, month, day-of-week and year (no seconds,
unlike Quartz). Each field takes ``,`` lists, ``-`` ranges, ``*`` and ``/`` steps (``1/10`` is
minute 1, 11, 21, ...); day-of-month adds ``?``, ``L`` (last day), ``W`` (``15W``: the weekday
nearest the 15th, never leaving the month; ``LW``: the last weekday); day-of-week adds ``?``,
``L`` (``L`` alone: the last day of the week, Saturday; ``5L``: the month's last Thursday) and
``#`` (``2#1``: the first Monday). Days of the week count from 1 = SUN to 7 = SAT.
Every mistake raises ``InvalidExpression`` naming the field and the fix.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
WEEKDAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


class InvalidExpression(ValueError):
    """A schedule expression EventBridge Scheduler would refuse; ``hint`` says how to fix it."""

    def __init__(self, problem: str, hint: str | None = None) -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(problem + (f". {hint}" if hint else ""))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    low: int
    high: int
    names: dict[str, int]


MINUTES = FieldSpec("minutes", 0, 59, {})
HOURS = FieldSpec("hours", 0, 23, {})
DAY_OF_MONTH = FieldSpec("day-of-month", 1, 31, {})
MONTH = FieldSpec("month", 1, 12, MONTHS)
DAY_OF_WEEK = FieldSpec("day-of-week", 1, 7, WEEKDAYS)
YEAR = FieldSpec("year", 1970, 2199, {})


def parse_set(text: str, spec: FieldSpec) -> frozenset[int]:
    """A plain field (``,`` ``-`` ``*`` ``/``) as the set of values it selects."""
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise InvalidExpression(f"{spec.name} field {text!r} has an empty list item")
        base, step = _split_step(part, spec)
        if base == "*":
            first, last = spec.low, spec.high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _value(a, spec), _value(b, spec)
            if first > last:
                raise InvalidExpression(
                    f"{spec.name} range {base!r} runs backwards",
                    f"write it low-high, or as a list ({a}-{spec.high},{spec.low}-{b})",
                )
        else:
            first = _value(base, spec)
            last = spec.high if step is not None else first  # "1/10": from 1 to the end, every 10
        values.update(range(first, last + 1, step or 1))
    return frozenset(values)


def _split_step(part: str, spec: FieldSpec) -> tuple[str, int | None]:
    if "/" not in part:
        return part, None
    base, step_text = part.split("/", 1)
    if not step_text.isdigit() or int(step_text) < 1:
        raise InvalidExpression(f"{spec.name} step {part!r} needs a positive whole number after '/'")
    return base, int(step_text)


def _value(token: str, spec: FieldSpec) -> int:
    upper = token.upper()
    if upper in spec.names:
        return spec.names[upper]
    if not token.isdigit():
        named = f" or {', '.join(spec.names)}" if spec.names else ""
        raise InvalidExpression(
            f"{spec.name} value {token!r} is not a number{' or a name' if spec.names else ''}",
            f"use {spec.low}-{spec.high}{named}",
        )
    value = int(token)
    if not spec.low <= value <= spec.high:
        raise InvalidExpression(f"{spec.name} value {value} is out of range", f"use {spec.low}-{spec.high}")
    return value


@dataclass(frozen=True)
class DayRule:
    """Which days of a month a day-of-month or day-of-week field selects.

    ``kind`` is ``any`` (``?`` or ``*``), ``set`` (``values``), ``last`` (L), ``last_weekday`` (LW),
    ``nearest_weekday`` (nW, ``n``), ``nth`` (d#n: weekday ``n`` ... see ``weekday``/``n``) or
    ``last_of`` (dL).
    """

    kind: str
    values: frozenset[int] = frozenset()
    weekday: int = 0
    n: int = 0

    def matches(self, day: date, *, of_week: bool) -> bool:
        dow = day.isoweekday() % 7 + 1  # 1 = SUN ... 7 = SAT
        last_day = calendar.monthrange(day.year, day.month)[1]
        if self.kind == "any":
            return True
        if self.kind == "set":
            return (dow if of_week else day.day) in self.values
        if self.kind == "last":
            return dow == 7 if of_week else day.day == last_day
        if self.kind == "last_weekday":
            return day.day == _nearest_weekday(day.year, day.month, last_day)
        if self.kind == "nearest_weekday":
            return self.n <= last_day and day.day == _nearest_weekday(day.year, day.month, self.n)
        if self.kind == "nth":
            return dow == self.weekday and (day.day - 1) // 7 + 1 == self.n
        if self.kind == "last_of":
            return dow == self.weekday and day.day + 7 > last_day
        raise AssertionError(self.kind)


def _nearest_weekday(year: int, month: int, n: int) -> int:
    """The day of the weekday nearest day ``n``, in the same month (Quartz's and AWS's ``W``)."""
    last_day = calendar.monthrange(year, month)[1]
    weekday = date(year, month, n).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: the Friday before, or Monday the 3rd when n is the 1st
        return n - 1 if n > 1 else n + 2
    if weekday == 6:  # Sunday: the Monday after, or Friday when n is the month's last day
        return n + 1 if n < last_day else n - 2
    return n


def parse_day_of_month(text: str) -> DayRule:
    upper = text.upper()
    if upper in ("?", "*"):
        return DayRule("any")
    if upper == "L":
        return DayRule("last")
    if upper == "LW":
        return DayRule("last_weekday")
    if upper.endswith("W"):
        day = _value(upper[:-1], DAY_OF_MONTH)
        return DayRule("nearest_weekday", n=day)
    if "L" in upper or "W" in upper or "#" in upper:
        raise InvalidExpression(
            f"day-of-month {text!r} is not valid", "L, LW and nW (15W) stand alone; # is for day-of-week"
        )
    return DayRule("set", parse_set(text, DAY_OF_MONTH))


def parse_day_of_week(text: str) -> DayRule:
    upper = text.upper()
    if upper in ("?", "*"):
        return DayRule("any")
    if upper == "L":
        return DayRule("last")
    if "#" in upper:
        day, _, nth = upper.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise InvalidExpression(
                f"day-of-week {text!r}: the number after # must be 1-5", "e.g. 2#1, MON#1"
            )
        return DayRule("nth", weekday=_value(day, DAY_OF_WEEK), n=int(nth))
    if upper.endswith("L"):
        return DayRule("last_of", weekday=_value(upper[:-1], DAY_OF_WEEK))
    if "L" in upper:  # no day name holds an L
        raise InvalidExpression(
            f"day-of-week {text!r} is not valid", "L stands alone or after a day (5L, THUL)"
        )
    if "W" in upper.replace("WED", ""):
        raise InvalidExpression(f"day-of-week {text!r} is not valid", "W belongs to day-of-month (15W)")
    return DayRule("set", parse_set(text, DAY_OF_WEEK))
