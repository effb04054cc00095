"""Recurring specs at the spec level: their schedule, their templates, and what lint checks.

A spec with `schedule` stands for one job per period (PRODUCT.md, "Recurring specs"). Its
`jobName`, its S3 paths and its tag values are templates whose placeholders (`{date}`,
`{week}`, …) are filled in with a period's tick (`fill_request`). Lint checks, beyond the
schema: the schedule (cron, time zone, start, catchUp) and the placeholders, each at its
place inside the value; then, over the next 1,000 periods (`UPCOMING`, from `start` when
that is later), that every period's name is one the service takes, and that no two
periods share a name or an output path. Placeholders in a spec without `schedule` are
findings: nothing would fill them in.

The upcoming periods are counted from the clock, or from `start` when it is later: what
lint says of a schedule depends on the day only when it should (a name that grows too
long in some later year).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from runner.findings import Finding, Related
from runner.schedule import (
    Schedule,
    ScheduleError,
    Tick,
    fill,
    find_placeholders,
    first_bad_name,
    first_collision,
    parse_schedule,
    placeholder_errors,
    upcoming,
)
from runner.spec import JobSpec
from runner.yaml.document import Document, Path_
from runner.yaml.span import Span

SCHEDULE = "schedule"
_JOB_NAME: Path_ = ("jobName",)
_INPUT: Path_ = ("jobInput", "s3DataSource", "path")
_OUTPUT: Path_ = ("jobOutput", "s3DataDestination", "path")
_SCHEDULE_RULES = {
    "cron": "cron",
    "timezone": "timezone",
    "start": "schedule-start",
    "catchUp": "catch-up",
}
# What the service takes as a job name (botocore's shape `Name`, anchored), and its length.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_]*")
NAME_MAX = 63


def schedule_of(data: Mapping[str, Any]) -> Schedule | tuple[tuple[str, ScheduleError], ...]:
    """The spec's schedule, or its problems by key of `schedule:` (a valid document)."""
    fields = data[SCHEDULE]
    return parse_schedule(
        fields["cron"],
        timezone=fields.get("timezone", "UTC"),
        start=fields.get("start"),
        catch_up=fields.get("catchUp", "latest"),
    )


def template_paths(data: Mapping[str, Any]) -> Iterator[Path_]:
    """Where a spec's templates are: its name, its S3 paths, its tag values."""
    yield _JOB_NAME
    yield _INPUT
    yield _OUTPUT
    for index, _ in enumerate(data.get("tags") or ()):
        yield ("tags", index, "tagValue")


def fill_request(request: Mapping[str, Any], tick: Tick) -> dict[str, Any]:
    """A period's request: every template of `request` filled in with `tick`."""
    filled: dict[str, Any] = dict(request)
    filled["jobName"] = fill(request["jobName"], tick)
    source = request["jobInput"]["s3DataSource"]
    filled["jobInput"] = {
        **request["jobInput"],
        "s3DataSource": {**source, "path": fill(source["path"], tick)},
    }
    destination = request["jobOutput"]["s3DataDestination"]
    filled["jobOutput"] = {
        **request["jobOutput"],
        "s3DataDestination": {**destination, "path": fill(destination["path"], tick)},
    }
    if request.get("tags"):
        filled["tags"] = [
            {**tag, "tagValue": fill(tag["tagValue"], tick)} for tag in request["tags"]
        ]
    return filled


def check_recurring(file: str, document: Document, text: str) -> list[Finding]:
    """Lint's checks of schedules and placeholders in one valid document; `text` is the
    file's, to place a finding inside a value."""
    data: dict[str, Any] = document.data
    where = _Places(file, document, text)
    if SCHEDULE not in data:
        return list(_placeholders_without_schedule(data, where))
    findings: list[Finding] = []
    schedule = schedule_of(data)
    if not isinstance(schedule, Schedule):
        for key, error in schedule:
            findings.append(where.inside((SCHEDULE, key), _SCHEDULE_RULES[key], error))
    for path in template_paths(data):
        for error in placeholder_errors(_get(data, path)):
            message = f"{_label(path)}: {error.message}"
            findings.append(where.inside(path, "placeholder", error, message=message))
    if findings or not isinstance(schedule, Schedule):
        return findings
    ticks = upcoming(schedule, _counting_from(schedule))
    findings += _check_names(data, ticks, where)
    return findings


def period_names(data: Mapping[str, Any], schedule: Schedule) -> dict[str, Tick]:
    """The names of the upcoming periods (see the module's docstring), each with its tick."""
    names: dict[str, Tick] = {}
    for tick in upcoming(schedule, _counting_from(schedule)):
        names.setdefault(fill(data["jobName"], tick), tick)
    return names


def _counting_from(schedule: Schedule) -> datetime:
    # The schedule's ticks after now begin at `start` when that is later.
    return datetime.now(UTC)


def _check_names(data: Mapping[str, Any], ticks: Sequence[Tick], where: _Places) -> list[Finding]:
    findings = []
    bad = first_bad_name(data["jobName"], ticks, pattern=NAME_PATTERN, max_length=NAME_MAX)
    if bad is not None:
        findings.append(
            where.at(
                _JOB_NAME,
                "period-name",
                f"jobName: the period {bad.tick.key} would be named so that the service "
                f"refuses it: {bad.reason}",
            )
        )
    for path, rule, what in (
        (_JOB_NAME, "period-name-collision", "a name"),
        (_OUTPUT, "period-output-collision", "an output path"),
    ):
        collision = first_collision(_get(data, path), ticks)
        if collision is not None:
            findings.append(
                where.at(
                    path, rule, f"{_label(path)}: two periods share {what}: {collision.message}"
                )
            )
    return findings


def _placeholders_without_schedule(data: Mapping[str, Any], where: _Places) -> Iterator[Finding]:
    for path in template_paths(data):
        value = _get(data, path)
        found = find_placeholders(value)
        if not found:
            if path[0] in ("jobName", "tags"):
                # Braces the service refuses in names and tag values; an S3 key may hold them.
                for error in placeholder_errors(value)[:1]:
                    message = f"{_label(path)}: {error.message}"
                    yield where.inside(path, "placeholder", error, message=message)
            continue
        first = found[0]
        error = ScheduleError("", first.offset, first.end)
        yield where.inside(
            path,
            "placeholder-without-schedule",
            error,
            message=(
                f"{_label(path)}: `{value[first.offset : first.end]}` is a placeholder, filled "
                "in only in a recurring spec: add `schedule` (cron and time zone), or write "
                "the value out"
            ),
        )


@lru_cache(maxsize=1)
def _lines_of(text: str) -> list[str]:
    # Once per file, not per document: a file of n documents would take n² steps.
    return text.splitlines()


class _Places:
    """Findings at a node of a document, or at an offset inside its value."""

    def __init__(self, file: str, document: Document, text: str) -> None:
        self.file = file
        self.document = document
        self.lines = _lines_of(text)

    def at(self, path: Path_, rule: str, message: str) -> Finding:
        return Finding(self.file, self.document.locate(path), rule, message)

    def inside(
        self, path: Path_, rule: str, error: ScheduleError, *, message: str | None = None
    ) -> Finding:
        span = self.document.locate(path)
        if message is None:
            message = f"{_label(path)}: {error.message}"
        if span.line != span.end_line or not 0 < span.line <= len(self.lines):
            return Finding(self.file, span, rule, message)
        line = self.lines[span.line - 1]
        quoted = line[span.col - 1 : span.col] in ("'", '"')
        start = span.col + quoted + error.offset
        end = span.col + quoted + max(error.end, error.offset + 1)
        return Finding(self.file, Span(span.line, start, span.line, end), rule, message)


def _get(data: Mapping[str, Any], path: Path_) -> str:
    node: Any = data
    for part in path:
        node = node[part]
    return str(node)


def _label(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_Owner = tuple[JobSpec, Tick | None]


def check_period_names(specs: Iterable[JobSpec]) -> list[Finding]:
    """A name that two specs give their jobs: a one-off's, or one of the upcoming periods'
    of a recurring spec. Both places are reported, once per pair of specs (the same
    jobName in two one-off specs is `check_job_names`'s)."""
    owners: dict[str, list[tuple[JobSpec, Tick | None]]] = {}
    for spec in specs:
        if spec.schedule is None:
            owners.setdefault(spec.key, []).append((spec, None))
            continue
        for name, period in period_names(spec.document.data, spec.schedule).items():
            # Names are unique per kind: a segment and an inference job may share one.
            owners.setdefault(spec.kind.key(name), []).append((spec, period))
    pairs: dict[tuple[int, int], tuple[str, _Owner, _Owner]] = {}
    for key, same in owners.items():
        name = key.rpartition("/")[2]  # the key's kind prefix off (`JobKind.key`)
        # The pairs with a recurring spec in them: one-offs among themselves are not
        # looked at (n one-offs of one name would take n² steps for nothing).
        for index, one in enumerate(same):
            if one[1] is None:
                continue
            for other, two in enumerate(same):
                if other == index or (other < index and two[1] is not None):
                    continue
                first, second = (two, one) if other < index else (one, two)
                if first[0] is not second[0]:
                    pairs.setdefault((id(first[0]), id(second[0])), (name, first, second))
    findings = []
    for name, one, two in pairs.values():
        findings.append(_shared_name(name, one, two))
        findings.append(_shared_name(name, two, one))
    return findings


def _shared_name(
    name: str, own: tuple[JobSpec, Tick | None], other: tuple[JobSpec, Tick | None]
) -> Finding:
    spec, tick = own
    elsewhere, when = other
    mine = f"{name!r}, the name of its period {tick.key}," if tick else f"{name!r}"
    theirs = f"{elsewhere.file}:{_span(elsewhere).line}" + (
        f" (its period {when.key})" if when is not None else ""
    )
    return Finding(
        spec.file,
        _span(spec),
        "duplicate-job-name",
        f"jobName: {mine} is also the name of a job of {theirs}; job names are the "
        "idempotency key and must be unique",
        related=(Related(elsewhere.file, _span(elsewhere), "the same job name"),),
    )


def _span(spec: JobSpec) -> Span:
    return spec.document.locate(_JOB_NAME)
