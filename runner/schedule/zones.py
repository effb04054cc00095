"""Time zones by IANA name, from the standard library's `zoneinfo`."""

from __future__ import annotations

import difflib
import zoneinfo
from zoneinfo import ZoneInfo

from runner.schedule.errors import ScheduleError

# Names zoneinfo loads that are not time zones a spec can mean: the machine's own zone
# (which differs between a laptop and CI) and the leap-second variants of the database.
_NOT_A_ZONE_PREFIXES = ("posix/", "right/")
_NOT_A_ZONE = frozenset({"localtime", "posixrules"})


def load_timezone(name: str) -> ZoneInfo | ScheduleError:
    """The time zone with that IANA name (`Europe/Berlin`, `UTC`), or why there is none."""
    if name and name not in _NOT_A_ZONE and not name.startswith(_NOT_A_ZONE_PREFIXES):
        try:
            return ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return ScheduleError(_unknown_zone_message(name), 0, len(name))


def _unknown_zone_message(name: str) -> str:
    if not name:
        return "the time zone is empty: give an IANA name such as `Europe/Berlin` or `UTC`"
    # Listing every zone reads the whole database: only done for a name that is wrong.
    known = sorted(zoneinfo.available_timezones() - _NOT_A_ZONE)
    by_case = {zone.lower(): zone for zone in known}
    guess = by_case.get(name.lower()) or by_case.get(name.lower().partition("/")[2])
    if guess is None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        guess = close[0] if close else None
    hint = f": did you mean `{guess}`?" if guess else " (an IANA name such as `Europe/Berlin`)"
    return f"unknown time zone `{name}`{hint}"
