"""How times are written: the one place, below every layer that writes one.

`format_time` is the machine form (the state, the lock files, every JSON document);
`format_minute` the form people read in tables and messages.
"""

from __future__ import annotations

import datetime

UTC = datetime.UTC


def format_time(value: datetime.datetime) -> str:
    """ISO 8601 in UTC with a `Z`: `2026-11-03T10:00:00.123456Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_optional_time(value: datetime.datetime | None) -> str | None:
    return None if value is None else format_time(value)


def format_minute(value: datetime.datetime) -> str:
    """To the minute, in UTC: `2026-11-03 10:00 UTC`."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
