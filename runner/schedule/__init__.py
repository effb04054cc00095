"""Recurring specs' schedules: cron expressions, their ticks in a time zone, placeholders.

The rules (PRODUCT.md, "Recurring specs"):

- Cron is the classic five fields: minute (0-59), hour (0-23), day of month (1-31), month
  (1-12 or `JAN`..`DEC`), day of week (0-7 or `SUN`..`SAT`, 0 and 7 both Sunday); names are
  case-insensitive. A field is a list (`1,15`) of `*`, a value, a range (`MON-FRI`), either
  of the last two with a step (`*/15`, `1-10/2`). A step needs `*` or a range before it;
  ranges do not wrap around. Macros (`@daily`), seconds, years and Quartz's `?`, `L`, `W`,
  `#` are errors that say so. An expression that can never match (`0 0 31 2 *`) is an error.
- The two day fields, as in Vixie cron: a field "is restricted" unless its text starts with
  `*`. When both are restricted, a day matching either counts (`0 0 1 * MON`: the 1st and
  every Monday); otherwise a day must match both (so `0 0 */2 * MON`, like Vixie cron,
  means the Mondays that fall on an odd day of the month).
- Ticks are wall times in the schedule's IANA time zone (default UTC). A wall time the
  clock skips (a daylight-saving gap) is no tick; one that happens twice (the hour the
  clock is set back) is one tick, at its first occurrence. `start` is a date in that zone:
  ticks from its midnight on count. A tick's `key` is its local time in ISO 8601 with the
  offset, which tells the two passes of a repeated hour apart.
- Placeholders `{date}` `{year}` `{month}` `{day}` `{hour}` `{minute}` `{week}` are filled
  with the tick's local time. Braces always delimit a placeholder and there is no escape:
  job names and tag values cannot contain braces, and S3 lists them among the characters to
  avoid in keys.
- Due periods: `catchUp: latest` is the newest tick at or before now (and not before
  `start`); `catchUp: all` is every tick from `start` to now, at most 100.

Errors are `ScheduleError` values with offsets into the text they are about; nothing here
raises for a user's mistake.
"""

from __future__ import annotations

from runner.schedule.checks import (
    UPCOMING,
    BadName,
    Collision,
    first_bad_name,
    first_collision,
    upcoming,
)
from runner.schedule.cron import CronExpr, parse_cron
from runner.schedule.errors import ScheduleError
from runner.schedule.periods import (
    MAX_CATCH_UP,
    CatchUp,
    DuePeriods,
    Schedule,
    TooManyDue,
    due_periods,
    next_period,
    parse_schedule,
)
from runner.schedule.placeholders import (
    PLACEHOLDERS,
    Placeholder,
    fill,
    find_placeholders,
    placeholder_errors,
)
from runner.schedule.ticks import (
    Tick,
    latest_tick_at_or_before,
    next_tick_after,
    tick_at,
    ticks_after,
    ticks_at_or_before,
    ticks_between,
)
from runner.schedule.zones import load_timezone

__all__ = [
    "MAX_CATCH_UP",
    "PLACEHOLDERS",
    "UPCOMING",
    "BadName",
    "CatchUp",
    "Collision",
    "CronExpr",
    "DuePeriods",
    "Placeholder",
    "Schedule",
    "ScheduleError",
    "Tick",
    "TooManyDue",
    "due_periods",
    "fill",
    "find_placeholders",
    "first_bad_name",
    "first_collision",
    "latest_tick_at_or_before",
    "load_timezone",
    "next_period",
    "next_tick_after",
    "parse_cron",
    "parse_schedule",
    "placeholder_errors",
    "tick_at",
    "ticks_after",
    "ticks_at_or_before",
    "ticks_between",
    "upcoming",
]
