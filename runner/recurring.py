"""Recurring specs, at an instant: the job of each due period, and what the plan tells.

`expand` turns every recurring spec (a template, `JobSpec.schedule` set) into the specs of
its periods due at `now` (`catchUp: latest`: the newest tick at or before it; `all`: every
tick from `start`, at most 100): each is a one-off spec whose `jobName` is the period's
name, the idempotency key. From there on a period's job goes the way of any job: planned,
created or adopted, recorded (with its spec and its `period`).

`recurring_plans` is what the plan adds per recurring spec: its due periods, those
recorded, the next tick (ISO 8601 in the spec's time zone), and, when the spec was edited
after its newest recorded period was submitted, from which period on the edit applies
(recorded jobs never change: they are immutable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runner.digest import canonical_json_digest
from runner.findings import Finding
from runner.spec import JobSpec, LoadResult
from runner.state import JobRecord

if TYPE_CHECKING:
    from runner.schedule import Tick

# `runner.schedule` (time zones, the cron dialect) and `runner.spec.recurring` are imported
# where a recurring spec needs them: a plan without one does not pay for them (issue 11).


@dataclass(frozen=True)
class RecurringSpec:
    """A recurring spec at an instant: its due periods' specs and its next tick."""

    spec: JobSpec = field(repr=False)
    due: tuple[JobSpec, ...]
    next_tick: Tick | None

    @property
    def file(self) -> str:
        return self.spec.file

    @property
    def index(self) -> int:
        return self.spec.index


@dataclass(frozen=True)
class Expansion:
    specs: list[JobSpec]
    """The one-off specs as they were, and the due periods' specs of the recurring ones."""
    recurring: tuple[RecurringSpec, ...]
    findings: list[Finding]


def expand(specs: Iterable[JobSpec], now: datetime) -> Expansion:
    """The specs with every recurring one replaced by the specs of its due periods."""
    given = list(specs)
    if all(spec.schedule is None for spec in given):
        return Expansion(specs=given, recurring=(), findings=[])
    from runner.schedule import TooManyDue, due_periods

    out: list[JobSpec] = []
    recurring: list[RecurringSpec] = []
    findings: list[Finding] = []
    for spec in given:
        if spec.schedule is None:
            out.append(spec)
            continue
        due = due_periods(spec.schedule, now)
        if isinstance(due, TooManyDue):
            findings.append(
                Finding(
                    spec.file,
                    spec.document.locate(("schedule", "catchUp")),
                    "catch-up",
                    f"schedule.catchUp: {due.message}",
                )
            )
            continue
        periods = tuple(period_spec(spec, tick) for tick in due.periods)
        out.extend(periods)
        recurring.append(RecurringSpec(spec=spec, due=periods, next_tick=due.next_tick))
    return Expansion(specs=out, recurring=tuple(recurring), findings=findings)


def at(loaded: LoadResult, now: datetime) -> tuple[LoadResult, tuple[RecurringSpec, ...]]:
    """`loaded` with its recurring specs expanded at `now` (their findings added), and the
    recurring specs, for the plan."""
    expansion = expand(loaded.specs, now)
    if not expansion.recurring and not expansion.findings:
        return loaded, ()
    findings = sorted([*loaded.findings, *expansion.findings], key=lambda f: f.sort_key)
    return replace(loaded, specs=expansion.specs, findings=findings), expansion.recurring


def period_spec(spec: JobSpec, tick: Tick) -> JobSpec:
    """The spec of the job of one period of the recurring `spec`."""
    from runner.spec.recurring import fill_request

    request = fill_request(spec.request, tick)
    return replace(spec, job_name=request["jobName"], request=request, period=tick.key)


def parse_now(text: str) -> datetime:
    """`--now`: ISO 8601, with `Z` or an offset; without one, UTC. `ValueError` if not."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class RecordedPeriod:
    name: str
    period: str
    arn: str
    status: str


@dataclass(frozen=True)
class RecurringPlan:
    """What the plan tells of one recurring spec."""

    spec_file: str
    spec_index: int
    job_name: str
    """The template, placeholders and all."""
    cron: str
    timezone: str
    due: tuple[str, ...]
    """The names of the due periods' jobs (created, adopted or already recorded)."""
    recorded: tuple[RecordedPeriod, ...]
    next_tick: str | None
    """ISO 8601 in the spec's time zone; None past year 9999."""
    edit_applies_from: str | None = None
    """When the spec changed since its newest recorded period: the first period (tick)
    the change applies to; the recorded ones keep their jobs."""

    def to_dict(self) -> dict[str, object]:
        return {
            "spec_file": self.spec_file,
            "spec_index": self.spec_index,
            "job_name": self.job_name,
            "cron": self.cron,
            "timezone": self.timezone,
            "due": list(self.due),
            "recorded": [
                {"name": r.name, "period": r.period, "arn": r.arn, "status": r.status}
                for r in self.recorded
            ],
            "next_tick": self.next_tick,
            "edit_applies_from": self.edit_applies_from,
        }


def recurring_plans(
    recurring: Sequence[RecurringSpec], records: Mapping[str, JobRecord]
) -> tuple[RecurringPlan, ...]:
    """Per recurring spec, its periods against the state's records (see the docstring)."""
    if not recurring:
        return ()
    by_file: dict[str, list[JobRecord]] = {}
    for record in records.values():
        if record.period is not None:
            by_file.setdefault(record.spec_file, []).append(record)
    plans = []
    for item in recurring:
        spec = item.spec
        schedule = spec.schedule
        assert schedule is not None
        mine = sorted(
            (
                record
                for record in by_file.get(spec.file, ())
                if record.spec_index in (None, spec.index)
            ),
            key=_period_instant,
        )
        plans.append(
            RecurringPlan(
                spec_file=spec.file,
                spec_index=spec.index,
                job_name=spec.job_name,
                cron=schedule.cron.text,
                timezone=schedule.timezone.key,
                due=tuple(period.job_name for period in item.due),
                recorded=tuple(
                    RecordedPeriod(record.name, record.period or "", record.arn, record.status)
                    for record in mine
                ),
                next_tick=None if item.next_tick is None else item.next_tick.key,
                edit_applies_from=_edit_applies_from(item, mine, records),
            )
        )
    return tuple(plans)


def owned_by_recurring(
    recurring: Sequence[RecurringSpec],
) -> frozenset[tuple[str, int]]:
    """(file, index) of each recurring spec: a record of one of their periods that is not
    due now is one of its recorded periods, not an orphan."""
    return frozenset((item.file, item.index) for item in recurring)


def is_recorded_period(record: JobRecord, owned: frozenset[tuple[str, int]]) -> bool:
    """Whether `record` is of a period of one of the recurring specs `owned` names."""
    if record.period is None:
        return False
    if record.spec_index is not None:
        return (record.spec_file, record.spec_index) in owned
    return any(file == record.spec_file for file, _ in owned)


def _edit_applies_from(
    item: RecurringSpec, mine: Sequence[JobRecord], records: Mapping[str, JobRecord]
) -> str | None:
    if not mine:
        return None
    newest = mine[-1]
    tick = _tick_of(newest.period or "")
    if tick is None:
        return None
    if canonical_json_digest(period_spec(item.spec, tick).request) == newest.request_digest:
        return None
    unrecorded = [period for period in item.due if period.key not in records]
    if unrecorded:
        return unrecorded[0].period
    return None if item.next_tick is None else item.next_tick.key


def _tick_of(key: str) -> Tick | None:
    from runner.schedule import Tick

    try:
        local = datetime.fromisoformat(key)
    except ValueError:
        return None
    if local.tzinfo is None:
        return None
    return Tick(local=local, instant=local.astimezone(UTC))


def _period_instant(record: JobRecord) -> tuple[datetime, str]:
    tick = _tick_of(record.period or "")
    return (tick.instant if tick else datetime.min.replace(tzinfo=UTC), record.name)
