"""The one kind of problem the schedule package reports: a value, never raised."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScheduleError:
    """What is wrong with a cron expression, a time zone or a placeholder, and where.

    `offset` and `end` are 0-based character offsets into the text that was checked (the
    cron expression, the time zone name, the template), `end` exclusive, so that lint can
    map them to a file's line and column.
    """

    message: str
    offset: int = 0
    end: int = 0
