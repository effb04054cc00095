"""What lint checks of a recurring spec's upcoming periods: their names and paths.

Lint takes the next 1,000 periods once (`upcoming`, PRODUCT.md) and runs each check on
them; a check returns the first problem, or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from runner.schedule.periods import Schedule
from runner.schedule.placeholders import fill
from runner.schedule.ticks import Tick

UPCOMING = 1000


@dataclass(frozen=True, slots=True)
class BadName:
    """A period whose filled-in name does not fit: `reason` says how."""

    tick: Tick
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Collision:
    """Two periods whose template fills in to the same `value`."""

    value: str
    first: Tick
    second: Tick

    @property
    def message(self) -> str:
        return (
            f"the periods {self.first.key} and {self.second.key} both get `{self.value}`: "
            "add a placeholder that tells them apart"
        )


def upcoming(schedule: Schedule, after: datetime, count: int = UPCOMING) -> tuple[Tick, ...]:
    """The next `count` periods after the instant `after` (fewer only near year 9999)."""
    return tuple(islice(schedule.ticks_after(after), count))


def first_bad_name(
    template: str, ticks: Iterable[Tick], *, pattern: re.Pattern[str], max_length: int
) -> BadName | None:
    """The first period whose name is longer than `max_length` or does not match `pattern`.

    `template` has no placeholder errors (see `placeholder_errors`).
    """
    for tick in ticks:
        name = fill(template, tick)
        if len(name) > max_length:
            reason = f"`{name}` is {len(name)} characters long, more than {max_length}"
            return BadName(tick=tick, name=name, reason=reason)
        if not pattern.fullmatch(name):
            reason = f"`{name}` does not match the pattern {pattern.pattern}"
            return BadName(tick=tick, name=name, reason=reason)
    return None


def first_collision(template: str, ticks: Iterable[Tick]) -> Collision | None:
    """The first two periods that fill `template` in alike (a job name, an output path)."""
    seen: dict[str, Tick] = {}
    for tick in ticks:
        value = fill(template, tick)
        if value in seen:
            return Collision(value=value, first=seen[value], second=tick)
        seen[value] = tick
    return None
