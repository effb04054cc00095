from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from runner.schedule import (
    CronExpr,
    ScheduleError,
    latest_tick_at_or_before,
    load_timezone,
    next_tick_after,
    parse_cron,
    tick_at,
    ticks_after,
    ticks_at_or_before,
    ticks_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def cron(text: str) -> CronExpr:
    expr = parse_cron(text)
    assert isinstance(expr, CronExpr), expr
    return expr


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def keys(expr: str, tz: ZoneInfo, start: date, end: datetime) -> list[str]:
    return [tick.key for tick in ticks_between(cron(expr), tz, start, end)]


def test_a_tick_in_the_spring_gap_is_skipped() -> None:
    # Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
    assert keys("30 2 * * *", BERLIN, date(2026, 3, 28), utc("2026-03-30T12:00")) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-30T02:30:00+02:00",
    ]
    assert tick_at(datetime(2026, 3, 29, 2, 30), BERLIN) is None


def test_an_ambiguous_tick_happens_once_at_its_first_occurrence() -> None:
    # Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    ticks = list(ticks_between(cron("30 2 * * *"), BERLIN, date(2026, 10, 24), utc("2026-10-27")))
    assert [tick.key for tick in ticks] == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]
    assert ticks[1].instant == utc("2026-10-25T00:30")


def test_every_half_hour_across_the_autumn_change() -> None:
    expr = cron("*/30 * * * *")
    ticks = list(ticks_between(expr, BERLIN, date(2026, 10, 25), utc("2026-10-25T02:30")))
    assert [(tick.local.strftime("%H:%M%z"), tick.instant.strftime("%H:%M")) for tick in ticks] == [
        ("00:00+0200", "22:00"),
        ("00:30+0200", "22:30"),
        ("01:00+0200", "23:00"),
        ("01:30+0200", "23:30"),
        ("02:00+0200", "00:00"),
        ("02:30+0200", "00:30"),
        # The second pass of 02:00-02:59 (CET) has no ticks: 01:00Z-01:59Z is empty.
        ("03:00+0100", "02:00"),
        ("03:30+0100", "02:30"),
    ]


def test_next_and_latest_from_inside_the_repeated_hour() -> None:
    expr = cron("*/30 * * * *")
    # 01:10Z is 02:10 CET, the second pass: the wall time 02:30 (00:30Z) is already past.
    now = utc("2026-10-25T01:10")
    latest = latest_tick_at_or_before(expr, BERLIN, now)
    following = next_tick_after(expr, BERLIN, now)
    assert latest is not None
    assert following is not None
    assert latest.key == "2026-10-25T02:30:00+02:00"
    assert following.key == "2026-10-25T03:00:00+01:00"


def test_next_and_latest_around_the_gap() -> None:
    expr = cron("*/30 * * * *")
    now = utc("2026-03-29T00:45")  # 01:45 CET
    following = next_tick_after(expr, BERLIN, now)
    latest = latest_tick_at_or_before(expr, BERLIN, now)
    assert following is not None
    assert latest is not None
    assert following.key == "2026-03-29T03:00:00+02:00"
    assert latest.key == "2026-03-29T01:30:00+01:00"


def test_a_time_zone_moves_the_period_boundary() -> None:
    # Daily 01:00 in Tokyo (UTC+9). At 15:30Z on 2026-12-01 it is 00:30 on 12-02 in
    # Tokyo: 12-02's tick (16:00Z) has not come yet, the latest is 12-01's.
    expr = cron("0 1 * * *")
    now = utc("2026-12-01T15:30")
    latest = latest_tick_at_or_before(expr, TOKYO, now)
    following = next_tick_after(expr, TOKYO, now)
    assert latest is not None
    assert following is not None
    assert latest.key == "2026-12-01T01:00:00+09:00"
    assert latest.instant == utc("2026-11-30T16:00")
    assert following.key == "2026-12-02T01:00:00+09:00"
    assert following.instant == utc("2026-12-01T16:00")
    # At the tick itself, that tick is the latest ("at or before") and not the next.
    at_tick = latest_tick_at_or_before(expr, TOKYO, utc("2026-12-01T16:00"))
    after_tick = next_tick_after(expr, TOKYO, utc("2026-12-01T16:00"))
    assert at_tick == following
    assert after_tick is not None
    assert after_tick.key == "2026-12-03T01:00:00+09:00"


def test_start_is_a_date_in_the_time_zone_from_its_midnight_on() -> None:
    end = utc("2026-12-01T15:30")
    assert keys("0 1 * * *", TOKYO, date(2026, 12, 1), end) == ["2026-12-01T01:00:00+09:00"]
    # 12-02 begins in Tokyo at 15:00Z, but its 01:00 tick is at 16:00Z, after `end`.
    assert keys("0 1 * * *", TOKYO, date(2026, 12, 2), end) == []
    # What counts is the date in the zone: 12-02 08:00 in Tokyo (23:00Z on 12-01) is in,
    # 12-01 23:00 in Tokyo (14:00Z on 12-01) is out, and midnight itself is in.
    assert keys("0 0,8,23 * * *", TOKYO, date(2026, 12, 2), utc("2026-12-01T23:00")) == [
        "2026-12-02T00:00:00+09:00",
        "2026-12-02T08:00:00+09:00",
    ]


def test_ticks_between_is_inclusive_at_the_end_and_empty_when_the_end_is_before() -> None:
    assert keys("0 6 * * 1", ZoneInfo("UTC"), date(2026, 11, 2), utc("2026-11-09T06:00")) == [
        "2026-11-02T06:00:00+00:00",
        "2026-11-09T06:00:00+00:00",
    ]
    assert keys("0 6 * * 1", ZoneInfo("UTC"), date(2026, 11, 2), utc("2026-11-01")) == []


def test_leap_days_are_found_without_walking_every_minute() -> None:
    expr = cron("0 0 29 2 *")
    ticks = list(islice(ticks_after(expr, ZoneInfo("UTC"), utc("2026-12-01")), 1000))
    leap_years = [year for year in range(2027, 10000) if calendar.isleap(year)][:1000]
    assert [tick.local.year for tick in ticks] == leap_years
    assert {(tick.local.month, tick.local.day, tick.local.hour) for tick in ticks} == {(2, 29, 0)}


def test_leap_days_that_are_also_mondays() -> None:
    # `*/28` starts with `*`, so both day fields must match: the 1st or the 29th of
    # February, when it is a Monday.
    expr = cron("0 0 */28 2 MON")
    assert expr.days == frozenset({1, 29})
    candidates = [
        day
        for year in range(2000, 2100)
        for day in (date(year, 2, 1), date(year, 2, 29) if calendar.isleap(year) else None)
        if day is not None and day.weekday() == 0
    ]
    found = list(islice(ticks_after(expr, ZoneInfo("UTC"), utc("2026-12-01")), 4))
    assert [tick.local.date() for tick in found] == [
        day for day in candidates if day > date(2026, 12, 1)
    ][:4]
    assert date(2044, 2, 29) in [tick.local.date() for tick in found]
    latest = latest_tick_at_or_before(expr, ZoneInfo("UTC"), utc("2026-12-01"))
    assert latest is not None
    assert latest.local.date() == max(day for day in candidates if day < date(2026, 12, 1))
    # With a day of week that is not `*`-led but allows every day, the rule is "either".
    assert cron("0 0 29 2 0-6").day_or is True


def test_a_yearly_expression_over_a_thousand_years() -> None:
    ticks = list(islice(ticks_after(cron("0 0 1 1 *"), BERLIN, utc("2026-12-01")), 1000))
    assert ticks[0].key == "2027-01-01T00:00:00+01:00"
    assert ticks[-1].key == "3026-01-01T00:00:00+01:00"


def test_newest_first_before_an_instant() -> None:
    found = list(islice(ticks_at_or_before(cron("0 6 * * 1"), BERLIN, utc("2026-11-16T05:00")), 3))
    # 05:00Z is 06:00 CET: the tick of 11-16 is at that instant and counts.
    assert [tick.key for tick in found] == [
        "2026-11-16T06:00:00+01:00",
        "2026-11-09T06:00:00+01:00",
        "2026-11-02T06:00:00+01:00",
    ]


def test_the_end_of_time_ends_the_ticks() -> None:
    expr = cron("0 0 29 2 *")
    near_the_end = list(ticks_after(expr, ZoneInfo("UTC"), utc("9990-01-01")))
    assert [tick.local.year for tick in near_the_end] == [9992, 9996]
    assert next_tick_after(cron("* * * * *"), ZoneInfo("UTC"), utc("9999-12-31T23:59")) is None
    west = ZoneInfo("America/New_York")
    assert next_tick_after(cron("59 23 31 12 *"), west, utc("9999-12-31T00:00")) is None


def test_instants_must_be_aware() -> None:
    with pytest.raises(ValueError, match="an instant needs a time zone"):
        next_tick_after(cron("* * * * *"), BERLIN, datetime(2026, 1, 1))


def test_an_aware_instant_in_any_zone_is_the_same_instant() -> None:
    now = datetime(2026, 12, 2, 0, 30, tzinfo=TOKYO)
    from_tokyo = next_tick_after(cron("0 1 * * *"), TOKYO, now)
    from_utc = next_tick_after(cron("0 1 * * *"), TOKYO, now.astimezone(UTC))
    assert from_tokyo is not None
    assert from_tokyo == from_utc
    assert from_tokyo.key == "2026-12-02T01:00:00+09:00"


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Asia/Tokyo", "Etc/GMT+5", "EST5EDT"])
def test_iana_time_zones(name: str) -> None:
    assert load_timezone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("europe/berlin", "unknown time zone `europe/berlin`: did you mean `Europe/Berlin`?"),
        ("Europe/Berln", "unknown time zone `Europe/Berln`: did you mean `Europe/Berlin`?"),
        (
            "Nowhere/Special",
            "unknown time zone `Nowhere/Special` (an IANA name such as `Europe/Berlin`)",
        ),
        ("localtime", "unknown time zone `localtime` (an IANA name such as `Europe/Berlin`)"),
        ("right/UTC", "unknown time zone `right/UTC`: did you mean `UTC`?"),
        (
            "../etc/passwd",
            "unknown time zone `../etc/passwd` (an IANA name such as `Europe/Berlin`)",
        ),
        ("", "the time zone is empty: give an IANA name such as `Europe/Berlin` or `UTC`"),
    ],
)
def test_unknown_time_zones(name: str, message: str) -> None:
    assert load_timezone(name) == ScheduleError(message, 0, len(name))
