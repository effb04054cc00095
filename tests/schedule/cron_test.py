from __future__ import annotations

import pytest

from runner.schedule import CronExpr, ScheduleError, parse_cron

ALL_DAYS = frozenset(range(1, 32))
ALL_WEEKDAYS = frozenset(range(7))


def parsed(text: str) -> CronExpr:
    expr = parse_cron(text)
    assert isinstance(expr, CronExpr), expr
    return expr


def test_fields_numbers_ranges_lists_and_steps() -> None:
    expr = parsed("*/15 1-10/2 1,15,31 3-5 *")
    assert expr.minutes == (0, 15, 30, 45)
    assert expr.hours == (1, 3, 5, 7, 9)
    assert expr.days == frozenset({1, 15, 31})
    assert expr.months == (3, 4, 5)
    assert expr.weekdays == ALL_WEEKDAYS
    assert expr.day_or is False


def test_a_step_over_a_list_item_and_duplicates() -> None:
    expr = parsed("0-10/5,5,58-59 */6 * * *")
    assert expr.minutes == (0, 5, 10, 58, 59)
    assert expr.hours == (0, 6, 12, 18)


def test_a_step_as_wide_as_the_field_keeps_its_first_value() -> None:
    assert parsed("*/60 * * * *").minutes == (0,)


def test_names_are_case_insensitive_in_values_and_ranges() -> None:
    expr = parsed("0 6 * jan,Mar-may mon-FRI")
    assert expr.months == (1, 3, 4, 5)
    assert expr.weekdays == frozenset({1, 2, 3, 4, 5})


@pytest.mark.parametrize(
    ("field", "weekdays"),
    [
        ("0", {0}),
        ("7", {0}),
        ("SUN", {0}),
        ("5-7", {5, 6, 0}),
        ("*/2", {0, 2, 4, 6}),
        ("0,7", {0}),
        ("sat,sun", {6, 0}),
    ],
)
def test_day_of_week_0_and_7_are_sunday(field: str, weekdays: set[int]) -> None:
    assert parsed(f"0 0 * * {field}").weekdays == frozenset(weekdays)


def test_whitespace_between_fields_is_free() -> None:
    assert parsed("  0\t6  *   * 1 ").hours == (6,)


# 2026-06-01 is a Monday; 2026-06-02 a Tuesday; 2026-06-15 a Monday; 2026-06-03 a Wednesday.
@pytest.mark.parametrize(
    ("text", "day", "expected"),
    [
        # Both day fields restricted: either matches (Vixie cron).
        ("0 0 1 * MON", 1, True),
        ("0 0 1 * MON", 15, True),
        ("0 0 1 * MON", 2, False),
        ("0 0 1 * MON", 3, False),
        ("0 0 13 * FRI", 13, True),
        ("0 0 13 * FRI", 5, True),
        ("0 0 13 * FRI", 6, False),
        # Only one restricted: that one decides.
        ("0 0 * * MON", 1, True),
        ("0 0 * * MON", 2, False),
        ("0 0 2 * *", 2, True),
        ("0 0 2 * *", 1, False),
        # A field starting with `*` is not restricted, as in Vixie cron: both must match.
        ("0 0 */2 * MON", 1, True),
        ("0 0 */2 * MON", 15, True),
        ("0 0 */2 * MON", 3, False),
        ("0 0 */2 * MON", 8, False),
        ("0 0 1 * */2", 1, False),
        ("0 0 1 * */2", 2, False),
        ("0 0 3 * */3", 3, True),
    ],
)
def test_day_rule(text: str, day: int, expected: bool) -> None:
    assert parsed(text).day_matches(2026, 6, day) is expected


def test_day_or_is_set_only_when_both_day_fields_are_restricted() -> None:
    assert parsed("0 0 1 * 1").day_or is True
    assert parsed("0 0 1-31 * 0-7").day_or is True
    assert parsed("0 0 * * 1").day_or is False
    assert parsed("0 0 */1 * 1").day_or is False
    assert parsed("0 0 1 * *").day_or is False


def test_days_in_a_month_follow_the_day_rule() -> None:
    # June 2026: Mondays are 1, 8, 15, 22, 29.
    assert parsed("0 0 10 * MON").days_in(2026, 6) == (1, 8, 10, 15, 22, 29)
    assert parsed("0 0 * * MON").days_in(2026, 6) == (1, 8, 15, 22, 29)
    assert parsed("0 0 31 * *").days_in(2026, 6) == ()
    assert parsed("0 0 29 2 *").days_in(2026, 2) == ()
    assert parsed("0 0 29 2 *").days_in(2028, 2) == (29,)


@pytest.mark.parametrize(
    ("text", "message", "offset", "end"),
    [
        (
            "",
            "the cron expression is empty: it needs five fields (minute, hour, day of month, "
            "month, day of week)",
            0,
            0,
        ),
        (
            "0 6 * *",
            "a cron expression has five fields (minute, hour, day of month, month, day of "
            "week); this one has 4",
            0,
            7,
        ),
        (
            "0 0 6 * * 1 2026",
            "a cron expression has five fields (minute, hour, day of month, month, day of "
            "week); this one has 7 (seconds and years are not part of the classic format)",
            10,
            16,
        ),
        ("@daily", "`@daily` is not supported: write the five fields, `0 0 * * *`", 0, 6),
        (" @Weekly", "`@Weekly` is not supported: write the five fields, `0 0 * * 0`", 1, 8),
        ("60 * * * *", "minute 60 is out of range 0-59", 0, 2),
        ("0 24 * * *", "hour 24 is out of range 0-23", 2, 4),
        ("0 0 0 * *", "day of month 0 is out of range 1-31", 4, 5),
        ("0 0 32 * *", "day of month 32 is out of range 1-31", 4, 6),
        ("0 0 * 13 *", "month 13 is out of range 1-12", 6, 8),
        ("0 0 * * 8", "day of week 8 is out of range 0-7", 8, 9),
        ("0 0 * * 1-9", "day of week 9 is out of range 0-7", 10, 11),
        ("0 0 * * MOM", "unknown day of week name `MOM`: did you mean `MON`?", 8, 11),
        ("0 0 * * Monday", "unknown day of week name `Monday`: did you mean `MON`?", 8, 14),
        ("0 0 * Sept *", "unknown month name `Sept`: did you mean `SEP`?", 6, 10),
        ("0 0 * XYZ *", "unknown month name `XYZ` (the names are JAN..DEC)", 6, 9),
        ("0 MON * * *", "the hour field takes numbers, not `MON`", 2, 5),
        (
            "0 0 L * *",
            "the day of month field takes numbers, not `L` "
            "(`?`, `L`, `W` and `#` are not part of the classic format)",
            4,
            5,
        ),
        (
            "0 0 ? * MON",
            "unexpected `?` in the day of month field "
            "(`?`, `L`, `W` and `#` are not part of the classic format)",
            4,
            5,
        ),
        (
            "0 0 * * 5#2",
            "unexpected `#` in the day of week field "
            "(`?`, `L`, `W` and `#` are not part of the classic format)",
            9,
            10,
        ),
        ("0 0 * * 1.5", "unexpected `.` in the day of week field", 9, 10),
        ("*/0 * * * *", "a minute step is 1 to 60, not 0", 2, 3),
        ("0 */25 * * *", "a hour step is 1 to 24, not 25", 4, 6),
        ("*/x * * * *", "a step is a number, not `x`", 2, 3),
        ("1-5/ * * * *", "a step is missing after `/`", 4, 5),
        ("*/2/3 * * * *", "a step is a number, not `2/3`", 2, 5),
        (
            "5/15 * * * *",
            "a step needs a range or `*` before it: write `5-59/15` or `*/15`",
            0,
            4,
        ),
        (
            "0 22-2 * * *",
            "the hour range `22-2` runs backwards; ranges do not wrap around: write `22-23,0-2`",
            2,
            6,
        ),
        (
            "0 0 * * FRI-MON",
            "the day of week range `FRI-MON` runs backwards; ranges do not wrap around: "
            "write `5-7,0-1`",
            8,
            15,
        ),
        ("0,,30 * * * *", "empty item in the minute list", 2, 3),
        ("0, * * * *", "empty item in the minute list", 2, 3),
        ("1- * * * *", "a minute value is missing", 2, 3),
        ("0 0 1,5-x * *", "the day of month field takes numbers, not `x`", 8, 9),
        ("0 0 31 2 *", "`0 0 31 2 *` never matches: February has no day 31", 4, 6),
        (
            "0 0 30,31 2 *",
            "`0 0 30,31 2 *` never matches: February has no day 30, 31",
            4,
            9,
        ),
        (
            "0 0 31 4,6,9,11 *",
            "`0 0 31 4,6,9,11 *` never matches: April, June, September, November have no day 31",
            4,
            6,
        ),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, offset: int, end: int) -> None:
    assert parse_cron(text) == ScheduleError(message, offset, end)


def test_an_impossible_day_of_month_is_fine_when_the_day_of_week_can_match() -> None:
    # Both day fields restricted: every Monday of February matches.
    assert parsed("0 0 31 FEB MON").days_in(2026, 2) == (2, 9, 16, 23)


def test_a_day_that_only_leap_years_have_is_possible() -> None:
    assert parsed("0 0 29 2 *").days == frozenset({29})
    assert parsed("0 0 */2 2 MON").days == frozenset(range(1, 32, 2))
