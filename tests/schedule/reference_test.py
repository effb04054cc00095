"""Tick enumeration against a minute-by-minute reference over random expressions and zones.

The reference walks every UTC minute of a window, turns it into the zone's wall time and
keeps it when the wall time matches the expression by its own reading of the fields and
is the first pass of that wall time (`fold == 0`). Gaps need no rule there: a skipped
wall time is never the wall time of any minute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.schedule import (
    CronExpr,
    parse_cron,
    ticks_after,
    ticks_at_or_before,
    ticks_between,
)

# A zone and an instant near one of its changes (or any instant, for zones without), so
# that windows often cross a gap or a repeated hour.
CASES = tuple(
    (ZoneInfo(zone), datetime.fromisoformat(text).replace(tzinfo=UTC))
    for zone, text in (
        ("Europe/Berlin", "2026-03-29T01:00"),
        ("Europe/Berlin", "2026-10-25T01:00"),
        ("America/New_York", "2026-03-08T07:00"),
        ("America/New_York", "2026-11-01T06:00"),
        # 30-minute changes.
        ("Australia/Lord_Howe", "2026-04-04T15:00"),
        ("Australia/Lord_Howe", "2026-10-03T15:30"),
        # Changes at midnight (until 2019).
        ("America/Sao_Paulo", "2018-11-04T03:00"),
        ("America/Sao_Paulo", "2019-02-17T02:00"),
        # UTC+12:45 and +13:45.
        ("Pacific/Chatham", "2026-04-04T14:00"),
        ("Pacific/Chatham", "2026-09-26T14:00"),
        ("Asia/Tokyo", "2026-12-01T15:30"),
        ("Asia/Kolkata", "2026-02-28T20:00"),
        ("UTC", "2028-02-29T00:00"),
    )
)
WINDOW = timedelta(days=1)

FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@st.composite
def field_items(draw: st.DrawFn, index: int) -> str:
    low, high = FIELD_RANGES[index]

    def value(number: int) -> str:
        if index == 3 and draw(st.booleans()):
            return MONTHS[number - 1].lower()
        if index == 4 and number < 7 and draw(st.booleans()):
            return DAYS[number].title()
        return str(number)

    kind = draw(st.sampled_from(("star", "step", "value", "range", "range-step")))
    if kind == "star":
        return "*"
    if kind == "step":
        return f"*/{draw(st.integers(1, high - low + 1))}"
    first = draw(st.integers(low, high))
    if kind == "value":
        return value(first)
    last = draw(st.integers(first, high))
    if kind == "range":
        return f"{value(first)}-{value(last)}"
    return f"{value(first)}-{value(last)}/{draw(st.integers(1, high - low + 1))}"


@st.composite
def expressions(draw: st.DrawFn) -> str:
    fields = []
    for index in range(5):
        items = draw(st.lists(field_items(index), min_size=1, max_size=3))
        # Mostly dense fields, so that most one-day windows have ticks to compare.
        if draw(st.integers(0, 2)) > 0:
            items = [f"*/{draw(st.integers(1, 20))}"] if index == 0 else ["*"]
        fields.append(",".join(items))
    return " ".join(fields)


def values(text: str, index: int) -> set[int]:
    low, high = FIELD_RANGES[index]
    names = MONTHS if index == 3 else DAYS if index == 4 else ()
    first_name = 1 if index == 3 else 0

    def number(token: str) -> int:
        return names.index(token.upper()) + first_name if token.isalpha() else int(token)

    found: set[int] = set()
    for item in text.split(","):
        span, _, step = item.partition("/")
        if span == "*":
            start, stop = low, high
        elif "-" in span:
            start, stop = (number(part) for part in span.split("-"))
        else:
            start = stop = number(span)
        found.update(range(start, stop + 1, int(step or 1)))
    return {value % 7 for value in found} if index == 4 else found


def matcher(text: str) -> Callable[[datetime], bool]:
    fields = text.split()
    minute, hour, day, month, weekday = (values(field, index) for index, field in enumerate(fields))
    either = not fields[2].startswith("*") and not fields[4].startswith("*")

    def matches(wall: datetime) -> bool:
        by_day = wall.day in day
        by_weekday = wall.isoweekday() % 7 in weekday
        day_ok = (by_day or by_weekday) if either else (by_day and by_weekday)
        return wall.minute in minute and wall.hour in hour and wall.month in month and day_ok

    return matches


def reference(text: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Instants of ticks in [start, end], by walking every minute."""
    matches = matcher(text)
    instants = []
    minute = start.replace(second=0, microsecond=0)
    if minute < start:
        minute += timedelta(minutes=1)
    while minute <= end:
        wall = minute.astimezone(tz)
        if wall.fold == 0 and matches(wall.replace(tzinfo=None)):
            instants.append(minute)
        minute += timedelta(minutes=1)
    return instants


def parsed(text: str) -> CronExpr | None:
    expr = parse_cron(text)
    return expr if isinstance(expr, CronExpr) else None


@settings(derandomize=True, database=None, max_examples=100, deadline=None)
@given(
    text=expressions(),
    case=st.sampled_from(CASES),
    shift_minutes=st.integers(-23 * 60, -60),
)
def test_ticks_after_and_before_agree_with_the_reference(
    text: str, case: tuple[ZoneInfo, datetime], shift_minutes: int
) -> None:
    expr = parsed(text)
    if expr is None:  # an impossible day, such as 31 in February only
        return
    tz, anchor = case
    start = anchor + timedelta(minutes=shift_minutes, seconds=shift_minutes % 7)
    end = start + WINDOW
    expected = reference(text, tz, start, end)
    # Strictly after `start`: drop a tick exactly at it.
    after = [instant for instant in expected if instant > start]
    got = [tick.instant for tick in islice(ticks_after(expr, tz, start), len(after) + 1)]
    assert got[: len(after)] == after
    assert len(got) == len(after) or got[-1] > end
    before = [tick.instant for tick in islice(ticks_at_or_before(expr, tz, end), len(expected))]
    assert before == expected[::-1]


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(
    text=expressions(),
    case=st.sampled_from(CASES),
    shift_days=st.integers(-1, 0),
)
def test_ticks_between_agrees_with_the_reference(
    text: str, case: tuple[ZoneInfo, datetime], shift_days: int
) -> None:
    expr = parsed(text)
    if expr is None:
        return
    tz, anchor = case
    start_day: date = (anchor + timedelta(days=shift_days)).astimezone(tz).date()
    end = anchor + WINDOW
    # Walk from well before the local midnight and keep the ticks of `start_day` on.
    expected = [
        instant
        for instant in reference(text, tz, anchor - timedelta(days=2), end)
        if instant.astimezone(tz).date() >= start_day
    ]
    got = [tick.instant for tick in ticks_between(expr, tz, start_day, end)]
    assert got == expected
