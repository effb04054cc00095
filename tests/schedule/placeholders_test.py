from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from runner.schedule import (
    PLACEHOLDERS,
    Placeholder,
    ScheduleError,
    Tick,
    fill,
    find_placeholders,
    placeholder_errors,
    tick_at,
)

BERLIN = ZoneInfo("Europe/Berlin")
KNOWN = "{date}, {year}, {month}, {day}, {hour}, {minute}, {week}"


def tick(
    year: int, month: int, day: int, hour: int, minute: int, *, zone: ZoneInfo = BERLIN
) -> Tick:
    found = tick_at(datetime(year, month, day, hour, minute), zone)
    assert found is not None
    return found


def test_every_placeholder_is_filled_with_the_local_time() -> None:
    at = tick(2026, 3, 9, 7, 5)
    template = "x-{date}-{year}-{month}-{day}-{hour}-{minute}-{week}"
    assert fill(template, at) == "x-2026-03-09-2026-03-09-07-05-2026-W11"
    assert PLACEHOLDERS == ("date", "year", "month", "day", "hour", "minute", "week")


def test_the_local_date_not_the_utc_date() -> None:
    # 00:30 in Tokyo on 12-02 is 15:30Z on 12-01.
    at = tick(2026, 12, 2, 0, 30, zone=ZoneInfo("Asia/Tokyo"))
    assert at.instant.day == 1
    assert fill("genre-fans-{date}", at) == "genre-fans-2026-12-02"


@pytest.mark.parametrize(
    ("wall", "week"),
    [
        # 2026 begins on a Thursday, so it has 53 ISO weeks.
        ((2026, 1, 1), "2026-W01"),
        ((2025, 12, 29), "2026-W01"),
        ((2026, 12, 31), "2026-W53"),
        ((2027, 1, 3), "2026-W53"),
        ((2027, 1, 4), "2027-W01"),
        ((2024, 12, 30), "2025-W01"),
        ((2021, 1, 3), "2020-W53"),
        ((2026, 12, 1), "2026-W49"),
    ],
)
def test_iso_weeks_across_year_boundaries(wall: tuple[int, int, int], week: str) -> None:
    assert fill("{week}", tick(*wall, 6, 0)) == week


def test_year_has_four_digits_and_the_rest_two() -> None:
    assert fill("{year}/{month}/{day}T{hour}:{minute}", tick(987, 1, 2, 3, 4)) == (
        "0987/01/02T03:04"
    )


def test_placeholders_are_found_with_their_offsets_known_or_not() -> None:
    assert find_placeholders("a-{date}-{dat}-{week}") == (
        Placeholder("date", 2, 8),
        Placeholder("dat", 9, 14),
        Placeholder("week", 15, 21),
    )
    assert [item.known for item in find_placeholders("a-{date}-{dat}")] == [True, False]
    assert find_placeholders("no-placeholders") == ()


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ("genre-fans-{date}", ()),
        ("s3://bucket/out/{year}/{week}/", ()),
        (
            "genre-fans-{dat}",
            (ScheduleError("unknown placeholder `{dat}`: did you mean `{date}`?", 11, 16),),
        ),
        (
            "x-{Date}-{MINUTE}",
            (
                ScheduleError("unknown placeholder `{Date}`: did you mean `{date}`?", 2, 8),
                ScheduleError("unknown placeholder `{MINUTE}`: did you mean `{minute}`?", 9, 17),
            ),
        ),
        (
            "x-{ date }",
            (ScheduleError("unknown placeholder `{ date }`: did you mean `{date}`?", 2, 10),),
        ),
        (
            "x-{weeks}",
            (ScheduleError("unknown placeholder `{weeks}`: did you mean `{week}`?", 2, 9),),
        ),
        (
            "x-{timestamp}",
            (
                ScheduleError(
                    f"unknown placeholder `{{timestamp}}` (the placeholders are {KNOWN})", 2, 13
                ),
            ),
        ),
        (
            "x-{}",
            (ScheduleError(f"empty placeholder `{{}}` (the placeholders are {KNOWN})", 2, 4),),
        ),
        (
            "x-{date",
            (ScheduleError("`{` without a `}` after it (braces only delimit placeholders)", 2, 3),),
        ),
        (
            "x-{{date}}",
            (
                ScheduleError(
                    "`{` without a `}` after it (braces only delimit placeholders)", 2, 3
                ),
                ScheduleError(
                    "`}` without a `{` before it (braces only delimit placeholders)", 9, 10
                ),
            ),
        ),
        (
            "x-date}",
            (
                ScheduleError(
                    "`}` without a `{` before it (braces only delimit placeholders)", 6, 7
                ),
            ),
        ),
    ],
)
def test_placeholder_errors(text: str, errors: tuple[ScheduleError, ...]) -> None:
    assert placeholder_errors(text) == errors


def test_after_a_stray_brace_the_rest_is_still_read() -> None:
    assert find_placeholders("a{b-{date}") == (Placeholder("date", 4, 10),)
    assert fill("a-{date}-{date}", tick(2026, 1, 5, 0, 0)) == "a-2026-01-05-2026-01-05"


def test_filling_a_text_with_errors_is_a_bug() -> None:
    with pytest.raises(ValueError, match="placeholder errors"):
        fill("x-{dat}", tick(2026, 1, 5, 0, 0))
    with pytest.raises(ValueError, match="placeholder errors"):
        fill("x-{date", tick(2026, 1, 5, 0, 0))
