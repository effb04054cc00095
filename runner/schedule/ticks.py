"""The ticks of a cron expression in a time zone: when its periods begin.

Ticks are enumerated field by field (year, month, the matching days of the month, hours,
minutes), never minute by minute, so a yearly expression costs one step per year. Wall
times are mapped to instants with `fold=0`: an ambiguous wall time (the hour a clock is
set back repeats) is the first of the two, and a wall time that does not exist (the hour
a clock skips) is no tick. With that mapping, the order of wall times is the order of
instants, which is what lets the enumeration work in wall time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from runner.schedule.cron import CronExpr

# How far around an instant the time zone's offsets are sampled to turn that instant into
# a bound in wall time. Two days covers any transition that can move a wall time past the
# instant (offsets lie within UTC-12 and UTC+14, transitions are at least days apart).
_SAMPLE_EVERY = timedelta(hours=12)
_SAMPLES = 4


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick: its wall time in the schedule's zone and the instant it is (UTC).

    `local` is an aware datetime whose offset tells the two passes of an ambiguous hour
    apart; `key` (its ISO 8601 form) identifies the period.
    """

    local: datetime
    instant: datetime

    @property
    def key(self) -> str:
        return self.local.isoformat()


def tick_at(wall: datetime, tz: ZoneInfo) -> Tick | None:
    """The tick at a naive wall time, or None if that time does not exist in `tz`."""
    try:
        instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
        local = instant.astimezone(tz)
    except OverflowError:
        return None
    if local.replace(tzinfo=None) != wall:
        return None
    return Tick(local=local, instant=instant)


def ticks_after(expr: CronExpr, tz: ZoneInfo, after: datetime) -> Iterator[Tick]:
    """The ticks strictly after the instant `after` (aware), oldest first."""
    _require_aware(after)
    lowest = min(_offsets_around(tz, after))
    for wall in _walls_from(expr, _wall(after, lowest)):
        tick = tick_at(wall, tz)
        if tick is not None and tick.instant > after:
            yield tick


def ticks_at_or_before(expr: CronExpr, tz: ZoneInfo, now: datetime) -> Iterator[Tick]:
    """The ticks at or before the instant `now` (aware), newest first."""
    _require_aware(now)
    highest = max(_offsets_around(tz, now))
    for wall in _walls_until(expr, _wall(now, highest)):
        tick = tick_at(wall, tz)
        if tick is not None and tick.instant <= now:
            yield tick


def ticks_between(expr: CronExpr, tz: ZoneInfo, start: date, end: datetime) -> Iterator[Tick]:
    """The ticks from `start`'s midnight in `tz` up to the instant `end` inclusive."""
    _require_aware(end)
    for wall in _walls_from(expr, datetime.combine(start, time())):
        tick = tick_at(wall, tz)
        if tick is None:
            continue
        if tick.instant > end:
            return
        yield tick


def next_tick_after(expr: CronExpr, tz: ZoneInfo, now: datetime) -> Tick | None:
    return next(ticks_after(expr, tz, now), None)


def latest_tick_at_or_before(expr: CronExpr, tz: ZoneInfo, now: datetime) -> Tick | None:
    return next(ticks_at_or_before(expr, tz, now), None)


def _require_aware(instant: datetime) -> None:
    if instant.utcoffset() is None:
        # A naive datetime would be read in the machine's zone: a bug in the caller.
        raise ValueError(f"an instant needs a time zone: {instant.isoformat()}")


def _walls_from(expr: CronExpr, start: datetime) -> Iterator[datetime]:
    """Matching naive wall times at or after `start`, ascending."""
    first_day = start.date()
    for year in range(start.year, MAXYEAR + 1):
        for month in expr.months:
            if (year, month) < (start.year, start.month):
                continue
            for day in expr.days_in(year, month):
                current = date(year, month, day)
                if current < first_day:
                    continue
                for hour in expr.hours:
                    for minute in expr.minutes:
                        wall = datetime(year, month, day, hour, minute)
                        if current > first_day or wall >= start:
                            yield wall


def _walls_until(expr: CronExpr, end: datetime) -> Iterator[datetime]:
    """Matching naive wall times at or before `end`, descending."""
    last_day = end.date()
    for year in range(end.year, MINYEAR - 1, -1):
        for month in reversed(expr.months):
            if (year, month) > (end.year, end.month):
                continue
            for day in reversed(expr.days_in(year, month)):
                current = date(year, month, day)
                if current > last_day:
                    continue
                for hour in reversed(expr.hours):
                    for minute in reversed(expr.minutes):
                        wall = datetime(year, month, day, hour, minute)
                        if current < last_day or wall <= end:
                            yield wall


def _offsets_around(tz: ZoneInfo, instant: datetime) -> list[timedelta]:
    offsets = []
    for step in range(-_SAMPLES, _SAMPLES + 1):
        try:
            offset = (instant + step * _SAMPLE_EVERY).astimezone(tz).utcoffset()
        except OverflowError:
            continue
        if offset is not None:
            offsets.append(offset)
    return offsets or [timedelta(0)]


def _wall(instant: datetime, offset: timedelta) -> datetime:
    """The naive wall time `instant` is at `offset`, kept within datetime's range."""
    naive = instant.astimezone(UTC).replace(tzinfo=None)
    try:
        return naive + offset
    except OverflowError:
        return datetime.max if offset > timedelta(0) else datetime.min
