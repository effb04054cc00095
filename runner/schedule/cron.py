"""Cron expressions: the classic five fields, parsed into the sets of values they allow.

`parse_cron` returns a `CronExpr` or a `ScheduleError` whose offsets point into the
expression. See the package docstring for the dialect.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass

from runner.schedule.errors import ScheduleError

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

# The longest a month can be, whatever the year: a day that no month of the expression
# has makes an expression that never matches.
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# Spelled out rather than taken from `calendar.month_name`, which follows the locale.
_MONTHS_IN_FULL = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    # The value the first name stands for (1 for JAN, 0 for SUN).
    first_name_value: int = 0


_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day of month", 1, 31)
_MONTH = _Field("month", 1, 12, MONTH_NAMES, 1)
_WEEKDAY = _Field("day of week", 0, 7, DAY_NAMES, 0)
_FIELDS = (_MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)

_NUMBER = re.compile(r"[0-9]+")
_NAME = re.compile(r"[A-Za-z]+")
# Quartz's and cronie's extensions (`L`, `15W`, `5#2`, `?`), to say so when they are used.
_QUARTZ = re.compile(r"[0-9]*(L|W|LW)|.*[?#].*")


@dataclass(frozen=True, slots=True)
class CronExpr:
    """A parsed cron expression: for each field, the values it matches.

    Weekdays are 0 (Sunday) to 6 (Saturday); 7 in the text is stored as 0. `day_or` is
    true when both day fields are restricted (neither starts with `*`): a day then matches
    when either field matches, as in Vixie cron; otherwise both must.
    """

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: tuple[int, ...]
    weekdays: frozenset[int]
    day_or: bool

    def day_matches(self, year: int, month: int, day: int) -> bool:
        weekday = (calendar.weekday(year, month, day) + 1) % 7
        return self._day_rule(day in self.days, weekday in self.weekdays)

    def days_in(self, year: int, month: int) -> tuple[int, ...]:
        """The days of `year`-`month` that match, ascending (month assumed to match)."""
        first, length = calendar.monthrange(year, month)
        # calendar counts weekdays from Monday = 0; cron from Sunday = 0.
        sunday_based = first + 1
        return tuple(
            day
            for day in range(1, length + 1)
            if self._day_rule(day in self.days, (sunday_based + day - 1) % 7 in self.weekdays)
        )

    def _day_rule(self, by_day: bool, by_weekday: bool) -> bool:
        return (by_day or by_weekday) if self.day_or else (by_day and by_weekday)


def parse_cron(text: str) -> CronExpr | ScheduleError:
    """Parse a five-field cron expression, or say what is wrong with it and where."""
    stripped = text.strip()
    if stripped.lower() in _MACROS:
        at = text.index(stripped)
        return ScheduleError(
            f"`{stripped}` is not supported: write the five fields, `{_MACROS[stripped.lower()]}`",
            at,
            at + len(stripped),
        )
    tokens = [(match.start(), match.group()) for match in re.finditer(r"\S+", text)]
    if len(tokens) != len(_FIELDS):
        return _field_count_error(text, tokens)
    sets: list[frozenset[int]] = []
    for field, (offset, token) in zip(_FIELDS, tokens, strict=True):
        parsed = _parse_field(field, token, offset)
        if isinstance(parsed, ScheduleError):
            return parsed
        sets.append(parsed)
    minutes, hours, days, months, weekdays = sets
    day_star = tokens[2][1].startswith("*")
    weekday_star = tokens[4][1].startswith("*")
    expr = CronExpr(
        text=text,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=days,
        months=tuple(sorted(months)),
        weekdays=frozenset(value % 7 for value in weekdays),
        day_or=not day_star and not weekday_star,
    )
    if not expr.day_or and not any(
        day <= _LONGEST_MONTH[month - 1] for month in expr.months for day in expr.days
    ):
        offset, token = tokens[2]
        return ScheduleError(
            f"`{text.strip()}` never matches: {_month_list(expr.months)} "
            f"{'has' if len(expr.months) == 1 else 'have'} no day {_number_list(expr.days)}",
            offset,
            offset + len(token),
        )
    return expr


def _field_count_error(text: str, tokens: list[tuple[int, str]]) -> ScheduleError:
    expected = "five fields (minute, hour, day of month, month, day of week)"
    if not tokens:
        return ScheduleError(f"the cron expression is empty: it needs {expected}", 0, len(text))
    if len(tokens) > len(_FIELDS):
        offset = tokens[len(_FIELDS)][0]
        end = tokens[-1][0] + len(tokens[-1][1])
        return ScheduleError(
            f"a cron expression has {expected}; this one has {len(tokens)} "
            "(seconds and years are not part of the classic format)",
            offset,
            end,
        )
    return ScheduleError(
        f"a cron expression has {expected}; this one has {len(tokens)}",
        tokens[0][0],
        tokens[-1][0] + len(tokens[-1][1]),
    )


def _parse_field(field: _Field, token: str, offset: int) -> frozenset[int] | ScheduleError:
    values: set[int] = set()
    position = offset
    for item in token.split(","):
        if not item:
            return ScheduleError(f"empty item in the {field.name} list", position, position + 1)
        parsed = _parse_item(field, item, position)
        if isinstance(parsed, ScheduleError):
            return parsed
        values.update(parsed)
        position += len(item) + 1
    return frozenset(values)


def _parse_item(field: _Field, item: str, offset: int) -> range | ScheduleError:
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        step_offset = offset + len(span) + 1
        parsed_step = _parse_step(field, step_text, step_offset)
        if isinstance(parsed_step, ScheduleError):
            return parsed_step
        step = parsed_step
    if span == "*":
        return range(field.low, field.high + 1, step)
    low_text, dash, high_text = span.partition("-")
    low = _parse_value(field, low_text, offset)
    if isinstance(low, ScheduleError):
        return low
    if not dash:
        if slash:
            return ScheduleError(
                f"a step needs a range or `*` before it: write `{span}-{field.high}/{step_text}` "
                f"or `*/{step_text}`",
                offset,
                offset + len(item),
            )
        return range(low, low + 1)
    high_offset = offset + len(low_text) + 1
    high = _parse_value(field, high_text, high_offset)
    if isinstance(high, ScheduleError):
        return high
    if high < low:
        return ScheduleError(
            f"the {field.name} range `{span}` runs backwards; ranges do not wrap around: "
            f"write `{low}-{field.high},{field.low}-{high}`",
            offset,
            offset + len(span),
        )
    return range(low, high + 1, step)


def _parse_step(field: _Field, text: str, offset: int) -> int | ScheduleError:
    if not _NUMBER.fullmatch(text):
        return ScheduleError(
            f"a step is a number, not `{text}`" if text else "a step is missing after `/`",
            offset,
            offset + max(len(text), 1),
        )
    step = int(text)
    width = field.high - field.low + 1
    if not 1 <= step <= width:
        return ScheduleError(
            f"a {field.name} step is 1 to {width}, not {step}", offset, offset + len(text)
        )
    return step


def _parse_value(field: _Field, text: str, offset: int) -> int | ScheduleError:
    end = offset + max(len(text), 1)
    if _NUMBER.fullmatch(text):
        value = int(text)
        if not field.low <= value <= field.high:
            return ScheduleError(
                f"{field.name} {value} is out of range {field.low}-{field.high}", offset, end
            )
        return value
    if _NAME.fullmatch(text):
        if not field.names:
            return ScheduleError(
                f"the {field.name} field takes numbers, not `{text}`{_hint(text)}", offset, end
            )
        upper = text.upper()
        if upper in field.names:
            return field.names.index(upper) + field.first_name_value
        return ScheduleError(_unknown_name(field, text), offset, end)
    if not text:
        return ScheduleError(f"a {field.name} value is missing", offset, end)
    bad = next(
        (index for index, char in enumerate(text) if not char.isascii() or not char.isalnum()), 0
    )
    return ScheduleError(
        f"unexpected `{text[bad]}` in the {field.name} field{_hint(text)}",
        offset + bad,
        offset + bad + 1,
    )


def _hint(text: str) -> str:
    if _QUARTZ.fullmatch(text.upper()):
        return " (`?`, `L`, `W` and `#` are not part of the classic format)"
    return ""


def _unknown_name(field: _Field, text: str) -> str:
    upper = text.upper()
    guess = upper[:3] if upper[:3] in field.names else None
    if guess is None:
        close = difflib.get_close_matches(upper, field.names, n=1, cutoff=0.5)
        guess = close[0] if close else None
    names = f"{field.names[0]}..{field.names[-1]}"
    suggestion = f": did you mean `{guess}`?" if guess else f" (the names are {names})"
    return f"unknown {field.name} name `{text}`{suggestion}"


def _month_list(months: tuple[int, ...]) -> str:
    return ", ".join(_MONTHS_IN_FULL[month - 1] for month in months)


def _number_list(values: frozenset[int]) -> str:
    return ", ".join(str(value) for value in sorted(values))
