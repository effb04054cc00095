"""A recurring spec's schedule and its periods: which are due at a given instant, which next.

A period is one tick; its identity is the tick (`Tick.key`, the local wall time with its
offset, and `Tick.instant`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import chain, islice
from zoneinfo import ZoneInfo

from runner.schedule.cron import CronExpr, parse_cron
from runner.schedule.errors import ScheduleError
from runner.schedule.ticks import (
    Tick,
    latest_tick_at_or_before,
    ticks_after,
    ticks_between,
)
from runner.schedule.zones import load_timezone

# `catchUp: all` submits at most this many periods (PRODUCT.md); more is a finding.
MAX_CATCH_UP = 100
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


class CatchUp(StrEnum):
    LATEST = "latest"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Schedule:
    """`schedule:` of a recurring spec, checked: see `parse_schedule`."""

    cron: CronExpr
    timezone: ZoneInfo
    start: date | None = None
    catch_up: CatchUp = CatchUp.LATEST

    def __post_init__(self) -> None:
        if self.catch_up is CatchUp.ALL and self.start is None:
            raise ValueError("catchUp: all needs a start date (parse_schedule says so)")

    def ticks_after(self, after: datetime) -> Iterator[Tick]:
        """Ticks strictly after the instant `after` and not before `start`, oldest first."""
        if self.start is not None:
            from_start = ticks_between(self.cron, self.timezone, self.start, _END_OF_TIME)
            first = next(from_start, None)
            if first is None:
                return iter(())
            if first.instant > after:
                return chain((first,), from_start)
        return ticks_after(self.cron, self.timezone, after)


@dataclass(frozen=True, slots=True)
class DuePeriods:
    """The periods due at an instant (oldest first) and the tick after that instant."""

    periods: tuple[Tick, ...]
    next_tick: Tick | None


@dataclass(frozen=True, slots=True)
class TooManyDue:
    """`catchUp: all` with more than `limit` due periods: a finding, nothing is due."""

    limit: int
    first: Tick
    latest: Tick

    @property
    def message(self) -> str:
        return (
            f"catchUp: all has more than {self.limit} due periods, from {self.first.key} "
            f"to {self.latest.key}: move `start` later or use `catchUp: latest`"
        )


def parse_schedule(
    cron: str,
    *,
    timezone: str = "UTC",
    start: date | str | None = None,
    catch_up: str = "latest",
) -> Schedule | tuple[tuple[str, ScheduleError], ...]:
    """The schedule, or each problem as (key of `schedule:`, error), in key order.

    `start` may be the date or its ISO form; offsets are into the value of that key.
    """
    errors: list[tuple[str, ScheduleError]] = []
    expr = parse_cron(cron)
    if isinstance(expr, ScheduleError):
        errors.append(("cron", expr))
    zone = load_timezone(timezone)
    if isinstance(zone, ScheduleError):
        errors.append(("timezone", zone))
    day = start
    if isinstance(start, str):
        try:
            day = date.fromisoformat(start)
        except ValueError:
            message = f"start is a date (YYYY-MM-DD), not `{start}`"
            errors.append(("start", ScheduleError(message, 0, len(start))))
    mode = CatchUp.LATEST
    try:
        mode = CatchUp(catch_up)
    except ValueError:
        message = f"catchUp is `latest` or `all`, not `{catch_up}`"
        errors.append(("catchUp", ScheduleError(message, 0, len(catch_up))))
    if mode is CatchUp.ALL and start is None:
        message = "catchUp: all needs `start`, the date from which periods count"
        errors.append(("catchUp", ScheduleError(message, 0, len(catch_up))))
    if errors or isinstance(expr, ScheduleError) or isinstance(zone, ScheduleError):
        return tuple(errors)
    assert not isinstance(day, str)
    return Schedule(cron=expr, timezone=zone, start=day, catch_up=mode)


def due_periods(
    schedule: Schedule, now: datetime, *, limit: int = MAX_CATCH_UP
) -> DuePeriods | TooManyDue:
    """The periods due at the instant `now` under the schedule's `catchUp`, oldest first."""
    next_tick = next(schedule.ticks_after(now), None)
    if schedule.catch_up is CatchUp.LATEST:
        latest = latest_tick_at_or_before(schedule.cron, schedule.timezone, now)
        if latest is None or not _counts(schedule, latest):
            return DuePeriods(periods=(), next_tick=next_tick)
        return DuePeriods(periods=(latest,), next_tick=next_tick)
    assert schedule.start is not None  # Schedule refuses `all` without a start.
    periods = tuple(
        islice(ticks_between(schedule.cron, schedule.timezone, schedule.start, now), limit + 1)
    )
    if len(periods) > limit:
        latest = latest_tick_at_or_before(schedule.cron, schedule.timezone, now)
        assert latest is not None
        return TooManyDue(limit=limit, first=periods[0], latest=latest)
    return DuePeriods(periods=periods, next_tick=next_tick)


def next_period(schedule: Schedule, now: datetime) -> Tick | None:
    """The first tick after the instant `now` that counts (none past year 9999)."""
    return next(schedule.ticks_after(now), None)


def _counts(schedule: Schedule, tick: Tick) -> bool:
    return schedule.start is None or tick.local.date() >= schedule.start
