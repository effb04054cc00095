"""Placeholders (`{date}`, `{week}`, ...) in a recurring spec's job name, paths and tags.

Braces always delimit a placeholder; there is no escape (see the package docstring).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from runner.schedule.errors import ScheduleError
from runner.schedule.ticks import Tick


def _iso_week(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


_VALUES: dict[str, Callable[[datetime], str]] = {
    "date": lambda local: f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
    "year": lambda local: f"{local.year:04d}",
    "month": lambda local: f"{local.month:02d}",
    "day": lambda local: f"{local.day:02d}",
    "hour": lambda local: f"{local.hour:02d}",
    "minute": lambda local: f"{local.minute:02d}",
    "week": _iso_week,
}
PLACEHOLDERS = tuple(_VALUES)


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A `{name}` in a text: `offset` is that of `{`, `end` just after `}`."""

    name: str
    offset: int
    end: int

    @property
    def known(self) -> bool:
        return self.name in _VALUES


def find_placeholders(text: str) -> tuple[Placeholder, ...]:
    """Every well-formed `{...}` in `text`, known or not, in order."""
    return tuple(item for item in _scan(text) if isinstance(item, Placeholder))


def placeholder_errors(text: str) -> tuple[ScheduleError, ...]:
    """Unknown placeholders and stray braces in `text`, in order."""
    errors: list[ScheduleError] = []
    for item in _scan(text):
        if isinstance(item, ScheduleError):
            errors.append(item)
        elif not item.known:
            errors.append(ScheduleError(_unknown_message(item.name), item.offset, item.end))
    return tuple(errors)


def fill(text: str, tick: Tick) -> str:
    """`text` with each placeholder replaced by the tick's local time.

    Callers check `placeholder_errors` first: a text with errors here is a bug.
    """
    parts: list[str] = []
    position = 0
    for item in _scan(text):
        if isinstance(item, ScheduleError) or not item.known:
            raise ValueError(f"fill() on a text with placeholder errors: {text!r}")
        parts.append(text[position : item.offset])
        parts.append(_VALUES[item.name](tick.local))
        position = item.end
    parts.append(text[position:])
    return "".join(parts)


def _scan(text: str) -> list[Placeholder | ScheduleError]:
    # From brace to brace (a search in C): most texts have none, and a spec has many texts.
    items: list[Placeholder | ScheduleError] = []
    search = _BRACE.search
    brace = search(text)
    while brace is not None:
        position = brace.start()
        if text[position] == "}":
            items.append(
                ScheduleError(
                    "`}` without a `{` before it (braces only delimit placeholders)",
                    position,
                    position + 1,
                )
            )
            brace = search(text, position + 1)
            continue
        close = search(text, position + 1)
        if close is None or text[close.start()] == "{":
            items.append(
                ScheduleError(
                    "`{` without a `}` after it (braces only delimit placeholders)",
                    position,
                    position + 1,
                )
            )
            brace = close
        else:
            end = close.start()
            items.append(Placeholder(text[position + 1 : end], position, end + 1))
            brace = search(text, end + 1)
    return items


_BRACE = re.compile("[{}]")


def _unknown_message(name: str) -> str:
    known = ", ".join(f"{{{valid}}}" for valid in PLACEHOLDERS)
    if not name.strip():
        return f"empty placeholder `{{{name}}}` (the placeholders are {known})"
    guess = next((valid for valid in PLACEHOLDERS if valid == name.strip().lower()), None)
    if guess is None:
        close = difflib.get_close_matches(name.lower(), PLACEHOLDERS, n=1, cutoff=0.6)
        guess = close[0] if close else None
    if guess is not None:
        return f"unknown placeholder `{{{name}}}`: did you mean `{{{guess}}}`?"
    return f"unknown placeholder `{{{name}}}` (the placeholders are {known})"
