from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from runner.schedule import (
    CatchUp,
    DuePeriods,
    Schedule,
    ScheduleError,
    TooManyDue,
    due_periods,
    next_period,
    parse_schedule,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(
    cron: str,
    *,
    timezone: str = "UTC",
    start: date | str | None = None,
    catch_up: str = "latest",
) -> Schedule:
    parsed = parse_schedule(cron, timezone=timezone, start=start, catch_up=catch_up)
    assert isinstance(parsed, Schedule), parsed
    return parsed


def due(result: DuePeriods | TooManyDue) -> tuple[list[str], str | None]:
    assert isinstance(result, DuePeriods), result
    following = result.next_tick.key if result.next_tick else None
    return [tick.key for tick in result.periods], following


WEEKLY = schedule("0 6 * * 1", timezone="Europe/Berlin", start=date(2026, 11, 2))


def test_parse_schedule_reads_every_key() -> None:
    parsed = schedule("0 6 * * 1", timezone="Europe/Berlin", start="2026-11-02", catch_up="all")
    assert parsed.timezone == ZoneInfo("Europe/Berlin")
    assert parsed.start == date(2026, 11, 2)
    assert parsed.catch_up is CatchUp.ALL
    assert parsed.cron.hours == (6,)
    assert schedule("0 6 * * 1").timezone == ZoneInfo("UTC")


def test_parse_schedule_reports_every_problem_with_its_key() -> None:
    assert parse_schedule("0 6 * * 8", timezone="Europe/Berln", catch_up="sometimes") == (
        ("cron", ScheduleError("day of week 8 is out of range 0-7", 8, 9)),
        (
            "timezone",
            ScheduleError("unknown time zone `Europe/Berln`: did you mean `Europe/Berlin`?", 0, 12),
        ),
        ("catchUp", ScheduleError("catchUp is `latest` or `all`, not `sometimes`", 0, 9)),
    )
    assert parse_schedule("0 6 * * 1", start="2026-13-01") == (
        ("start", ScheduleError("start is a date (YYYY-MM-DD), not `2026-13-01`", 0, 10)),
    )
    assert parse_schedule("0 6 * * 1", catch_up="all") == (
        (
            "catchUp",
            ScheduleError("catchUp: all needs `start`, the date from which periods count", 0, 3),
        ),
    )


def test_a_schedule_that_catches_up_on_everything_needs_a_start() -> None:
    cron = schedule("0 6 * * 1").cron
    with pytest.raises(ValueError, match="needs a start date"):
        Schedule(cron=cron, timezone=ZoneInfo("UTC"), catch_up=CatchUp.ALL)


def test_a_weekly_period_is_due_from_its_tick_until_the_next() -> None:
    # Monday 06:00 in Berlin is 05:00Z in November.
    assert due(due_periods(WEEKLY, utc("2026-11-02T04:59"))) == (
        [],
        "2026-11-02T06:00:00+01:00",
    )
    assert due(due_periods(WEEKLY, utc("2026-11-02T05:00"))) == (
        ["2026-11-02T06:00:00+01:00"],
        "2026-11-09T06:00:00+01:00",
    )
    assert due(due_periods(WEEKLY, utc("2026-11-09T04:59"))) == (
        ["2026-11-02T06:00:00+01:00"],
        "2026-11-09T06:00:00+01:00",
    )
    assert due(due_periods(WEEKLY, utc("2026-11-09T05:00"))) == (
        ["2026-11-09T06:00:00+01:00"],
        "2026-11-16T06:00:00+01:00",
    )


def test_no_period_before_start() -> None:
    # The Monday before `start` is a tick of the expression but not a period.
    assert due(due_periods(WEEKLY, utc("2026-10-30T12:00"))) == (
        [],
        "2026-11-02T06:00:00+01:00",
    )
    later = schedule("0 6 * * 1", start=date(2027, 1, 1))
    following = next_period(later, utc("2026-12-01"))
    assert following is not None
    assert following.key == "2027-01-04T06:00:00+00:00"
    assert due(due_periods(later, utc("2027-01-04T06:00"))) == (
        ["2027-01-04T06:00:00+00:00"],
        "2027-01-11T06:00:00+00:00",
    )


def test_a_daily_tokyo_period_at_15_30_utc() -> None:
    tokyo = schedule("0 1 * * *", timezone="Asia/Tokyo")
    # 15:30Z on 12-01 is 00:30 on 12-02 in Tokyo: 12-02's 01:00 is half an hour away.
    assert due(due_periods(tokyo, utc("2026-12-01T15:30"))) == (
        ["2026-12-01T01:00:00+09:00"],
        "2026-12-02T01:00:00+09:00",
    )
    assert due(due_periods(tokyo, utc("2026-12-01T16:00"))) == (
        ["2026-12-02T01:00:00+09:00"],
        "2026-12-03T01:00:00+09:00",
    )


def test_catch_up_all_is_every_period_from_start() -> None:
    tokyo = schedule("0 1 * * *", timezone="Asia/Tokyo", start="2026-11-28", catch_up="all")
    assert due(due_periods(tokyo, utc("2026-12-01T15:30"))) == (
        [
            "2026-11-28T01:00:00+09:00",
            "2026-11-29T01:00:00+09:00",
            "2026-11-30T01:00:00+09:00",
            "2026-12-01T01:00:00+09:00",
        ],
        "2026-12-02T01:00:00+09:00",
    )
    assert due(due_periods(tokyo, utc("2026-11-01"))) == ([], "2026-11-28T01:00:00+09:00")


def test_catch_up_all_skips_the_gap_and_repeats_nothing() -> None:
    berlin = schedule("30 2 * * *", timezone="Europe/Berlin", start="2026-03-28", catch_up="all")
    assert due(due_periods(berlin, utc("2026-03-30T12:00")))[0] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-30T02:30:00+02:00",
    ]
    autumn = schedule("*/30 2 * * *", timezone="Europe/Berlin", start="2026-10-25", catch_up="all")
    assert due(due_periods(autumn, utc("2026-10-25T12:00")))[0] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
    ]


def test_catch_up_all_at_most_100_periods() -> None:
    hourly = schedule("0 * * * *", start="2026-12-01", catch_up="all")
    # 12-01 00:00 to 12-05 03:00 is 4 days and 4 hours: 100 ticks.
    periods, _ = due(due_periods(hourly, utc("2026-12-05T03:00")))
    assert len(periods) == 100
    assert (periods[0], periods[-1]) == ("2026-12-01T00:00:00+00:00", "2026-12-05T03:00:00+00:00")
    too_many = due_periods(hourly, utc("2026-12-05T04:30"))
    assert isinstance(too_many, TooManyDue)
    assert (too_many.limit, too_many.first.key, too_many.latest.key) == (
        100,
        "2026-12-01T00:00:00+00:00",
        "2026-12-05T04:00:00+00:00",
    )
    assert too_many.message == (
        "catchUp: all has more than 100 due periods, from 2026-12-01T00:00:00+00:00 to "
        "2026-12-05T04:00:00+00:00: move `start` later or use `catchUp: latest`"
    )
    assert isinstance(due_periods(hourly, utc("2026-12-01T05:00"), limit=5), TooManyDue)


def test_catch_up_all_over_years_stops_counting_at_the_limit() -> None:
    every_minute = schedule("* * * * *", start="2000-01-01", catch_up="all")
    too_many = due_periods(every_minute, utc("2026-12-01T12:00"))
    assert isinstance(too_many, TooManyDue)
    assert too_many.latest.key == "2026-12-01T12:00:00+00:00"


def test_latest_takes_the_newest_tick_even_long_ago() -> None:
    leap = schedule("0 0 29 2 *", timezone="Europe/Berlin")
    assert due(due_periods(leap, utc("2026-12-01"))) == (
        ["2024-02-29T00:00:00+01:00"],
        "2028-02-29T00:00:00+01:00",
    )


def test_nothing_next_after_the_end_of_time() -> None:
    leap = schedule("0 0 29 2 *")
    assert due(due_periods(leap, utc("9997-01-01"))) == (["9996-02-29T00:00:00+00:00"], None)
