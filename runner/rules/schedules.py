"""Rules of recurring specs: the schedule, the placeholders, the periods' names."""

from __future__ import annotations

from runner.rules.rule import Rule

TITLE = "Recurring specs"

_RECURRING = """\
jobName: genre-fans-{date}
schedule:
  cron: "0 6 * * 1"
"""
_DATED_PATHS = """\
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/{date}/items.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/genre-fans/{date}/
"""

RULES = (
    Rule(
        "cron",
        "A schedule's cron expression that is not valid.",
        "Five fields (minute, hour, day of month, month, day of week) with numbers, ranges, "
        "lists, steps and names (`MON`, `JAN`). The finding points inside the expression.",
        'jobName: genre-fans-{date}\nschedule:\n  cron: "0 6 * * MON-FRI/2x"\n' + _DATED_PATHS,
    ),
    Rule(
        "timezone",
        "A schedule's time zone that is not an IANA name.",
        "`timezone` is a name of the IANA database (`Europe/Berlin`, `America/New_York`); "
        "the message suggests the closest one.",
        _RECURRING + "  timezone: Europe/Berln\n" + _DATED_PATHS,
    ),
    Rule(
        "schedule-start",
        "A schedule's start that is not a date.",
        "`start` is a date, `YYYY-MM-DD`, in the schedule's time zone: no period before its "
        "midnight counts.",
        _RECURRING + "  start: 2026-02-30\n" + _DATED_PATHS,
    ),
    Rule(
        "catch-up",
        "A schedule's catchUp that is not valid, or more due periods than it takes.",
        "`catchUp` is `latest` (only the newest due period) or `all` (every period from "
        "`start`, which it then needs); `all` submits at most 100 periods at once.",
        _RECURRING + "  catchUp: all\n" + _DATED_PATHS,
    ),
    Rule(
        "placeholder",
        "An unknown placeholder, or a stray brace, in a recurring spec.",
        "Placeholders are `{date}`, `{year}`, `{month}`, `{day}`, `{hour}`, `{minute}` and "
        "`{week}`; braces only delimit them. The message suggests the closest one.",
        'jobName: "genre-fans-{Date}"\nschedule:\n  cron: "0 6 * * 1"\n' + _DATED_PATHS,
    ),
    Rule(
        "placeholder-without-schedule",
        "A placeholder in a spec without a schedule.",
        "Only a recurring spec fills placeholders in; in a one-off spec `{date}` would stay "
        "as written. Add `schedule`, or write the value out. Silence it for an S3 path whose "
        "key really holds braces.",
        "jobName: genre-fans-{date}\n",
        ignorable=True,
    ),
    Rule(
        "period-name",
        "A period's job name that the service refuses.",
        "Every upcoming period's name (the next 1,000 ticks) must fit the service's pattern "
        "and 63 characters once its placeholders are filled in.",
        "jobName: weekly-genre-fans-segment-for-the-spring-campaign-team-{date}\n"
        'schedule:\n  cron: "0 6 * * 1"\n' + _DATED_PATHS,
    ),
    Rule(
        "period-name-collision",
        "Two periods of a recurring spec with the same job name.",
        "The name is each period's idempotency key: periods that share one would be one "
        "job. Add a placeholder that tells them apart (`{date}` for a daily or weekly "
        "schedule).",
        'jobName: genre-fans-{month}\nschedule:\n  cron: "0 6 * * 1"\n' + _DATED_PATHS,
    ),
    Rule(
        "period-output-collision",
        "Two periods of a recurring spec with the same output path.",
        "Two periods writing to one output path overwrite each other's results. Add a "
        "placeholder to the path.",
        _RECURRING
        + "jobInput:\n  s3DataSource:\n    path: s3://acme-personalize/batch/in/{date}/items.jsonl\n"
        "jobOutput:\n  s3DataDestination:\n    path: s3://acme-personalize/batch/out/genre-fans/\n",
    ),
)
