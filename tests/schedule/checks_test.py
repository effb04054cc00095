from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from runner.schedule import (
    UPCOMING,
    BadName,
    Collision,
    Schedule,
    first_bad_name,
    first_collision,
    parse_schedule,
    upcoming,
)

# The service's jobName pattern and length.
JOB_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_]*")
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
WEEK = timedelta(days=7)


def schedule(cron: str, *, timezone: str = "UTC", start: str | None = None) -> Schedule:
    parsed = parse_schedule(cron, timezone=timezone, start=start)
    assert isinstance(parsed, Schedule), parsed
    return parsed


def test_upcoming_is_the_next_thousand_periods() -> None:
    ticks = upcoming(schedule("0 6 * * 1"), NOW)
    assert len(ticks) == UPCOMING == 1000
    assert ticks[0].key == "2026-12-07T06:00:00+00:00"
    assert {later.instant - earlier.instant for earlier, later in pairwise(ticks)} == {WEEK}
    # From `start` on when it is later than now.
    assert upcoming(schedule("0 6 * * 1", start="2027-03-01"), NOW, 1)[0].key == (
        "2027-03-01T06:00:00+00:00"
    )


def test_a_rare_expression_still_gives_a_thousand_periods() -> None:
    ticks = upcoming(schedule("0 0 29 2 *"), NOW)
    assert len(ticks) == 1000
    assert ticks[0].key == "2028-02-29T00:00:00+00:00"


def test_a_date_in_the_name_of_an_hourly_schedule_collides() -> None:
    hourly = upcoming(schedule("0 * * * *"), NOW)
    collision = first_collision("segment-{date}", hourly)
    assert collision == Collision("segment-2026-12-01", hourly[0], hourly[1])
    assert collision.message == (
        "the periods 2026-12-01T16:00:00+00:00 and 2026-12-01T17:00:00+00:00 both get "
        "`segment-2026-12-01`: add a placeholder that tells them apart"
    )
    assert first_collision("segment-{date}-{hour}", hourly) is None


def test_a_name_without_placeholders_collides_at_once() -> None:
    weekly = upcoming(schedule("0 6 * * 1"), NOW)
    collision = first_collision("genre-fans", weekly)
    assert collision is not None
    assert (collision.first, collision.second) == (weekly[0], weekly[1])


def test_a_week_in_a_daily_name_collides_and_in_a_weekly_one_does_not() -> None:
    assert first_collision("x-{week}", upcoming(schedule("0 6 * * 1"), NOW)) is None
    collision = first_collision("x-{week}", upcoming(schedule("0 6 * * *"), NOW))
    assert collision is not None
    assert (collision.value, collision.first.key, collision.second.key) == (
        "x-2026-W49",
        "2026-12-02T06:00:00+00:00",
        "2026-12-03T06:00:00+00:00",
    )


def test_a_name_without_the_year_collides_a_year_later() -> None:
    daily = upcoming(schedule("0 6 * * *"), NOW)
    collision = first_collision("x-{month}-{day}", daily)
    assert collision is not None
    assert (collision.value, collision.first.key, collision.second.key) == (
        "x-12-02",
        "2026-12-02T06:00:00+00:00",
        "2027-12-02T06:00:00+00:00",
    )


def test_an_output_path_that_only_has_the_month_collides_for_a_weekly_schedule() -> None:
    weekly = upcoming(schedule("0 6 * * 1", timezone="Europe/Berlin"), NOW)
    collision = first_collision("s3://bucket/out/{year}/{month}/", weekly)
    assert collision is not None
    assert collision.value == "s3://bucket/out/2026/12/"


def test_the_repeated_hour_gives_no_collision() -> None:
    # Hourly in Berlin across 2026-10-25: 02:00 happens twice but is one period.
    hourly = upcoming(
        schedule("0 * * * *", timezone="Europe/Berlin"), datetime(2026, 10, 24, tzinfo=UTC), 72
    )
    assert first_collision("x-{date}-{hour}", hourly) is None
    assert [tick.key for tick in hourly if tick.key.startswith("2026-10-25T0")][:5] == [
        "2026-10-25T00:00:00+02:00",
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_names_that_fit() -> None:
    ticks = upcoming(schedule("0 6 * * 1"), NOW)
    assert first_bad_name("genre-fans-{date}", ticks, pattern=JOB_NAME, max_length=63) is None


def test_a_name_too_long_for_the_service() -> None:
    ticks = upcoming(schedule("0 6 * * 1"), NOW)
    template = "weekly-segment-of-the-most-devoted-genre-fans-in-europe-{date}"
    name = "weekly-segment-of-the-most-devoted-genre-fans-in-europe-2026-12-07"
    assert len(name) == 66
    assert first_bad_name(template, ticks, pattern=JOB_NAME, max_length=63) == BadName(
        ticks[0], name, f"`{name}` is 66 characters long, more than 63"
    )
    assert first_bad_name(template, ticks, pattern=JOB_NAME, max_length=66) is None


def test_a_name_the_pattern_refuses() -> None:
    ticks = upcoming(schedule("0 6 * * 1"), NOW)
    assert first_bad_name("fans.{date}", ticks, pattern=JOB_NAME, max_length=63) == BadName(
        ticks[0],
        "fans.2026-12-07",
        r"`fans.2026-12-07` does not match the pattern [a-zA-Z0-9][a-zA-Z0-9\-_]*",
    )
