"""EventBridge Scheduler expressions: AWS's documented examples, the wildcards, DST, and the errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dersonlake.cron import At, Cron, InvalidExpression, Rate, nominal_period, parse_expression, upcoming

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")


def ts(text: str, tz=UTC_ZONE) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def shown(times: list[float], tz=UTC_ZONE) -> list[str]:
    return [datetime.fromtimestamp(t, tz).strftime("%a %Y-%m-%d %H:%M") for t in times]


def nexts(expression: str, after: str, count: int = 3, tz=UTC_ZONE) -> list[str]:
    return shown(upcoming(parse_expression(expression), ts(after, tz), tz, count=count), tz)


# The examples of the EventBridge cron expression reference (eb-cron-expressions), from Sat 2026-12-05 14:07.
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 10 * * ? *)", ["Sun 2026-12-06 10:00", "Mon 2026-12-07 10:00", "Tue 2026-12-08 10:00"]),
        ("cron(15 12 * * ? *)", ["Sun 2026-12-06 12:15", "Mon 2026-12-07 12:15", "Tue 2026-12-08 12:15"]),
        (
            "cron(0 18 ? * MON-FRI *)",
            ["Mon 2026-12-07 18:00", "Tue 2026-12-08 18:00", "Wed 2026-12-09 18:00"],
        ),
        ("cron(0 8 1 * ? *)", ["Fri 2027-01-01 08:00", "Mon 2027-02-01 08:00", "Mon 2027-03-01 08:00"]),
        ("cron(0/15 * * * ? *)", ["Sat 2026-12-05 14:15", "Sat 2026-12-05 14:30", "Sat 2026-12-05 14:45"]),
        (
            "cron(0/10 * ? * MON-FRI *)",
            ["Mon 2026-12-07 00:00", "Mon 2026-12-07 00:10", "Mon 2026-12-07 00:20"],
        ),
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            ["Mon 2026-12-07 08:00", "Mon 2026-12-07 08:05", "Mon 2026-12-07 08:10"],
        ),
        ("cron(0 9 ? * 2#1 *)", ["Mon 2026-12-07 09:00", "Mon 2027-01-04 09:00", "Mon 2027-02-01 09:00"]),
    ],
)
def test_aws_documented_examples(expression, expected):
    assert nexts(expression, "2026-12-05T14:07:00") == expected


def test_business_hours_end_at_five_fifty_five_and_resume_next_weekday():
    times = nexts("cron(0/5 8-17 ? * MON-FRI *)", "2026-12-11T17:50:00", count=3)  # a Friday
    assert times == ["Fri 2026-12-11 17:55", "Mon 2026-12-14 08:00", "Mon 2026-12-14 08:05"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(1/10 * * * ? *)", ["Sat 2026-12-05 14:11", "Sat 2026-12-05 14:21", "Sat 2026-12-05 14:31"]),
        ("cron(0 0 L * ? *)", ["Thu 2026-12-31 00:00", "Sun 2027-01-31 00:00", "Sun 2027-02-28 00:00"]),
        ("cron(0 0 LW * ? *)", ["Thu 2026-12-31 00:00", "Fri 2027-01-29 00:00", "Fri 2027-02-26 00:00"]),
        # the 15th of May 2027 is a Saturday (Friday 14th), of Aug 2027 a Sunday (Monday 16th)
        ("cron(0 0 15W 5,8 ? 2027)", ["Fri 2027-05-14 00:00", "Mon 2027-08-16 00:00"]),
        # 1W when the 1st is a Saturday (May 2027): Monday the 3rd, never the month before
        ("cron(0 0 1W 5 ? 2027)", ["Mon 2027-05-03 00:00"]),
        ("cron(0 0 ? * 5L *)", ["Thu 2026-12-31 00:00", "Thu 2027-01-28 00:00", "Thu 2027-02-25 00:00"]),
        ("cron(0 0 ? * L *)", ["Sat 2026-12-12 00:00", "Sat 2026-12-19 00:00", "Sat 2026-12-26 00:00"]),
        ("cron(0 0 ? * FRI#3 *)", ["Fri 2026-12-18 00:00", "Fri 2027-01-15 00:00", "Fri 2027-02-19 00:00"]),
        (
            "cron(30 6 ? JAN,JUL SUN 2027-2028)",
            ["Sun 2027-01-03 06:30", "Sun 2027-01-10 06:30", "Sun 2027-01-17 06:30"],
        ),
        ("cron(0 0 29 2 ? *)", ["Tue 2028-02-29 00:00", "Sun 2032-02-29 00:00", "Fri 2036-02-29 00:00"]),
        (
            "cron(0 12 10-20/5 * ? *)",
            ["Thu 2026-12-10 12:00", "Tue 2026-12-15 12:00", "Sun 2026-12-20 12:00"],
        ),
    ],
)
def test_wildcards(expression, expected):
    assert nexts(expression, "2026-12-05T14:07:00") == expected


def test_a_schedule_that_ends_has_no_next_time():
    assert nexts("cron(0 0 1 1 ? 2026)", "2026-12-05T00:00:00") == []
    assert nexts("at(2026-12-05T13:00:00)", "2026-12-05T14:00:00") == []
    assert nexts("at(2026-12-05T15:00:00)", "2026-12-05T14:00:00") == ["Sat 2026-12-05 15:00"]


def test_rate_counts_from_the_schedule_start_and_a_day_is_24_hours_across_dst():
    rate = parse_expression("rate(15 minutes)")
    assert isinstance(rate, Rate) and rate.seconds == 900
    start = ts("2026-12-05T14:00:00")
    assert rate.next_after(start - 1, UTC_ZONE, start) == start  # no StartDate: at once
    assert rate.next_after(start + 60, UTC_ZONE, start) == start + 900
    assert rate.next_after(start + 900, UTC_ZONE, start) == start + 1800
    day = parse_expression("rate(1 day)")
    before = ts("2026-03-07T12:00:00", NEW_YORK)  # DST starts on 2026-03-08 in New York
    after = shown([day.next_after(before, NEW_YORK, before)], NEW_YORK)
    assert after == ["Sun 2026-03-08 13:00"]  # 24 hours later reads 13:00 on the clock


def test_dst_spring_forward_skips_a_time_that_does_not_exist():
    # 2026-03-08 02:30 does not exist in New York: that day's run is skipped.
    times = nexts("cron(30 2 * * ? *)", "2026-03-07T03:00:00", count=2, tz=NEW_YORK)
    assert times == ["Mon 2026-03-09 02:30", "Tue 2026-03-10 02:30"]
    assert nexts("cron(30 3 * * ? *)", "2026-03-07T04:00:00", count=1, tz=NEW_YORK) == [
        "Sun 2026-03-08 03:30"
    ]


def test_dst_fall_back_runs_a_repeated_time_once():
    # 2026-11-01 01:30 happens twice in New York (EDT, then EST): one run, at the first.
    once = upcoming(
        parse_expression("cron(30 1 * * ? *)"), ts("2026-10-31T12:00:00", NEW_YORK), NEW_YORK, count=2
    )
    assert [datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M") for t in once] == [
        "11-01 05:30",
        "11-02 06:30",
    ]
    half_hours = upcoming(
        parse_expression("cron(0/30 * * * ? *)"), ts("2026-11-01T00:45:00", NEW_YORK), NEW_YORK, count=4
    )
    utc = [datetime.fromtimestamp(t, UTC).strftime("%H:%M") for t in half_hours]
    assert utc == ["05:00", "05:30", "07:00", "07:30"]  # 01:00/01:30 EST are not repeated


def test_time_zone_moves_the_wall_clock():
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    (due,) = upcoming(parse_expression("cron(0 6 * * ? *)"), ts("2026-12-05T00:00:00"), sao_paulo, count=1)
    assert datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%d %H:%M") == "2026-12-05 09:00"


def test_nominal_period_is_the_longest_gap():
    start = ts("2026-12-05T14:07:00")
    assert nominal_period(parse_expression("rate(2 hours)"), start, UTC_ZONE) == 7200
    assert nominal_period(parse_expression("cron(0/15 * * * ? *)"), start, UTC_ZONE) == 900
    assert nominal_period(parse_expression("cron(0 6 ? * MON-FRI *)"), start, UTC_ZONE) == 3 * 86400
    assert nominal_period(parse_expression("at(2027-01-01T00:00:00)"), start, UTC_ZONE) is None


def test_parsed_forms():
    assert isinstance(parse_expression(" cron(0 10 * * ? *) "), Cron)
    assert isinstance(parse_expression("at(2027-01-01T00:00:00)"), At)


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("", "empty"),
        ("every 5 minutes", "not a rate(), cron() or at()"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(5 weeks)", "unknown unit"),
        ("rate(1 minutes)", "write rate(1 minute)"),
        ("rate(5 minute)", "write rate(5 minutes)"),
        ("cron(0 10 * * ?)", "6 fields, got 5"),
        ("cron(0 0 10 * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 0 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 * * * ? *)", "minutes value 60 is out of range"),
        ("cron(0 24 * * ? *)", "hours value 24 is out of range"),
        ("cron(0 0 * FOO ? *)", "month value 'FOO'"),
        ("cron(0 0 ? * 8 *)", "day-of-week value 8 is out of range"),
        ("cron(0 0 ? * 2#6 *)", "must be 1-5"),
        ("cron(0 0 ? * 3W *)", "W belongs to day-of-month"),
        ("cron(0 0 1#2 * ? *)", "day-of-month '1#2' is not valid"),
        ("cron(0 0 * * ? 1969)", "year value 1969 is out of range"),
        ("cron(0/0 * * * ? *)", "positive whole number after '/'"),
        ("cron(30-10 * * * ? *)", "runs backwards"),
        ("cron(0,,5 * * * ? *)", "empty list item"),
        ("at(2026-12-05 10:00)", "yyyy-mm-ddThh:mm:ss"),
    ],
)
def test_bad_expressions_say_what_and_how(expression, says):
    with pytest.raises(InvalidExpression) as err:
        parse_expression(expression)
    assert says in str(err.value)
