"""The plan: what `reconcile` would do, from the specs, the state and (with `--refresh`) the
service. `make_plan` is a pure function: no I/O, no clock, no backend.

Per spec: `create` (not recorded, and not known at the service), `unchanged` (recorded
with the same request), `adopt` (not recorded, but a job of that name exists at the
service with the same parameters), `conflict` (the spec changed after its job was
submitted, or a job of that name exists at the service with other parameters); per
recorded job without a spec: `orphan` (kept: jobs are never deleted).

A plan's dictionary form (`Plan.to_dict`: `{"format": "personalize-runner/plan",
"version": 1, ...}`, `schemas/plan.v1.json`) is what `plan --format json` prints and
`plan --out` saves: it records the state (lineage, serial, version token) and the specs'
digests it was made from, so that `reconcile --plan` applies it only if neither has moved
since (`runner.saved_plan` reads it back and checks that).
"""

from __future__ import annotations

import datetime
import json
import operator
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from runner.kinds import BATCH_SEGMENT_JOB, KINDS, JobKind, job_order
from runner.recurring import (
    RecurringPlan,
    RecurringSpec,
    is_recorded_period,
    owned_by_recurring,
    recurring_plans,
)
from runner.spec import JobSpec, RecordedFile
from runner.spec.latest import comparable, latest_of
from runner.state import JobRecord, Snapshot, State
from runner.times import format_minute, format_optional_time

# The plan's document in the JSON family of `--format json` (docs/json.md).
PLAN_FORMAT = "personalize-runner/plan"
PLAN_VERSION = 1

Scope = tuple[str, str, str]
"""(partition, region, account): where job names are unique, and the quota counts."""

Group = tuple[JobKind, Scope]
"""Jobs of one kind in one scope: one listing shows them, and they share a quota."""


class Change(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    ORPHAN = "orphan"


@dataclass(frozen=True)
class RemoteJob:
    """A job the service knows, as far as the refresh needed to look at it."""

    name: str
    arn: str
    status: str
    solution_version_arn: str | None = None
    # From `DescribeBatchSegmentJob`; None when the summary was enough to decide.
    request: Mapping[str, Any] | None = None
    # From `ListTagsForResource`, with `request`.
    tags: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class RemoteView:
    """What the service said: the scopes that were listed, and the jobs of interest in them."""

    scopes: frozenset[Scope]
    # By scope and the job's key (`JobKind.key`: its name and kind).
    jobs: Mapping[tuple[Scope, str], RemoteJob]
    # The names of the jobs pending or in progress of each kind in each scope listed:
    # quota slots taken.
    in_flight: Mapping[Group, frozenset[str]] = field(default_factory=dict)
    # What a person should know of how the view was made (a listing that could not be read).
    notes: tuple[str, ...] = ()

    def find(self, scope: Scope, key: str) -> RemoteJob | None:
        return self.jobs.get((scope, key))


@dataclass(frozen=True)
class PlannedJob:
    name: str
    change: Change
    reason: str
    partition: str
    region: str
    account: str
    # The spec's file, or the recorded one for an orphan.
    spec_file: str
    request_digest: str | None = None
    arn: str | None = None
    status: str | None = None
    # A recurring spec's job: its period (the tick, ISO 8601 local time with the offset).
    period: str | None = None
    # `solutionVersionArn: {latestOf: <solution>}`: the solution, resolved at submission.
    latest_of: str | None = None
    kind: JobKind = BATCH_SEGMENT_JOB

    @property
    def scope(self) -> Scope:
        return (self.partition, self.region, self.account)

    @property
    def key(self) -> str:
        """The job's key among jobs of every kind (the state's, `JobKind.key`)."""
        return self.kind.key(self.name)


@dataclass(frozen=True)
class SpecDigest:
    """A spec as a saved plan remembers it."""

    file: str
    index: int
    job_name: str
    request_digest: str
    file_digest: str

    @classmethod
    def of(cls, spec: JobSpec) -> SpecDigest:
        return cls(spec.file, spec.index, spec.job_name, spec.request_digest, spec.file_digest)


@dataclass(frozen=True)
class StateRef:
    """The state a plan was made from."""

    lineage: str
    serial: int
    version: str


@dataclass(frozen=True)
class Plan:
    jobs: tuple[PlannedJob, ...]
    # What `specs` are made from, when asked: only a saved or printed plan needs them, and
    # an up-to-date repository of 10,000 specs would spend a tenth of its plan on them.
    spec_source: Callable[[], tuple[SpecDigest, ...]] = field(repr=False, compare=False)
    # None: there was no state yet.
    state: StateRef | None
    refreshed: bool
    # Per recurring spec: its due periods, the recorded ones, the next tick.
    recurring: tuple[RecurringPlan, ...] = ()
    # The instant the plan was made at (`--now`, or the clock), that its recurring specs'
    # due periods are of: `reconcile --plan` applies a saved plan at it. None: not known.
    planned_at: datetime.datetime | None = None

    @cached_property
    def specs(self) -> tuple[SpecDigest, ...]:
        return self.spec_source()

    def of(self, *changes: Change) -> tuple[PlannedJob, ...]:
        return tuple(job for job in self.jobs if job.change in changes)

    def counts(self) -> dict[Change, int]:
        counter = Counter(job.change for job in self.jobs)
        return {change: counter[change] for change in Change}

    @property
    def has_changes(self) -> bool:
        """Whether `reconcile` would submit or record anything."""
        return bool(self.of(Change.CREATE, Change.ADOPT))

    @property
    def has_conflicts(self) -> bool:
        return bool(self.of(Change.CONFLICT))

    def to_dict(self) -> dict[str, Any]:
        state = self.state
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "refreshed": self.refreshed,
            "planned_at": format_optional_time(self.planned_at),
            "state": None
            if state is None
            else {"lineage": state.lineage, "serial": state.serial, "version": state.version},
            "summary": {change.value: count for change, count in self.counts().items()},
            "jobs": [
                {
                    "name": job.name,
                    "kind": job.kind.name,
                    "change": job.change.value,
                    "reason": job.reason,
                    "partition": job.partition,
                    "region": job.region,
                    "account": job.account,
                    "spec_file": job.spec_file,
                    "request_digest": job.request_digest,
                    "arn": job.arn,
                    "status": job.status,
                    "period": job.period,
                    "latest_of": job.latest_of,
                }
                for job in self.jobs
            ],
            "recurring": [item.to_dict() for item in self.recurring],
            "specs": [
                {
                    "file": spec.file,
                    "index": spec.index,
                    "job_name": spec.job_name,
                    "request_digest": spec.request_digest,
                    "file_digest": spec.file_digest,
                }
                for spec in self.specs
            ],
        }


def recorded_files(state: State | None) -> dict[str, RecordedFile]:
    """The spec files that `state` records whole, by name: every spec document of the file
    is the spec of a recorded job, and all were recorded with the same file digest.

    While a file's bytes keep that digest, its specs are those the records describe: the
    loader need not parse it (`load_specs(recorded=...)`).
    """
    if state is None:
        return {}
    # One pass for the usual file of one spec, the others grouped after: 10,000 records.
    single: dict[str, JobRecord] = {}
    several: dict[str, list[JobRecord]] = {}
    for record in state.jobs.values():
        file = record.spec_file
        other = single.setdefault(file, record)
        if other is not record:
            several.setdefault(file, [other]).append(record)
    default = BATCH_SEGMENT_JOB.name
    files = {}
    for file, record in single.items():
        # A recurring spec's file is parsed every time: a new period may be due.
        if (
            file in several
            or record.spec_documents != 1
            or record.spec_index is None
            or record.period is not None
        ):
            continue
        name = record.name
        key = name if record.kind == default else KINDS[record.kind].key(name)
        files[file] = RecordedFile(record.spec_digest, (key,))
    for file, records in several.items():
        first = records[0]
        count = first.spec_documents
        if (
            count != len(records)
            or any(record.period is not None for record in records)
            or any(
                record.spec_digest != first.spec_digest or record.spec_documents != count
                for record in records
            )
            or len({record.spec_index for record in records} - {None}) != count
        ):
            continue
        files[file] = RecordedFile(first.spec_digest, tuple(record.key for record in records))
    return files


def make_plan(
    specs: Sequence[JobSpec],
    snapshot: Snapshot | None,
    remote: RemoteView | None = None,
    *,
    unchanged_files: Collection[str] = (),
    recurring: Sequence[RecurringSpec] = (),
    planned_at: datetime.datetime | None = None,
) -> Plan:
    """The plan for `specs` (valid, with unique names) against the state in `snapshot`.

    `unchanged_files` are spec files not parsed because the state records them whole
    (`recorded_files`) and their bytes did not change: their jobs are unchanged.
    `recurring` are the recurring specs whose due periods are among `specs`
    (`runner.recurring.expand`): their recorded periods are unchanged, not orphans.
    """
    records: Mapping[str, JobRecord] = {} if snapshot is None else snapshot.state.jobs
    jobs: list[PlannedJob] = []
    named = set()
    for spec in specs:
        named.add(spec.key)
        jobs.append(_plan_spec(spec, records, remote))
    unchanged = frozenset(unchanged_files)
    owned = owned_by_recurring(recurring)
    for key, record in records.items():
        if key in named:
            continue
        if record.spec_file in unchanged:
            jobs.append(_recorded_job(record, Change.UNCHANGED, "recorded"))
        elif is_recorded_period(record, owned):
            jobs.append(
                _recorded_job(record, Change.UNCHANGED, f"recorded, period {record.period}")
            )
        else:
            jobs.append(
                _recorded_job(
                    record,
                    Change.ORPHAN,
                    "recorded, but its spec was removed: the job is kept (jobs are never deleted)",
                )
            )
    # By name (a key in C: 10,000 jobs), then, if two jobs share a name (of two kinds), both
    # kinds side by side: a segment job and an inference job of one name are neighbours.
    jobs.sort(key=_job_name)
    if len(set(map(_job_name, jobs))) != len(jobs):
        jobs.sort(key=lambda job: job_order(job.name, job.kind.name))
    state = None
    if snapshot is not None:
        state = StateRef(snapshot.state.lineage, snapshot.state.serial, snapshot.version)
    return Plan(
        jobs=tuple(jobs),
        spec_source=lambda: spec_digests(specs, snapshot, unchanged),
        state=state,
        refreshed=remote is not None,
        recurring=recurring_plans(recurring, records),
        planned_at=planned_at,
    )


def _recorded_job(record: JobRecord, change: Change, reason: str) -> PlannedJob:
    """A job planned from its record alone: its spec unchanged (not parsed), or gone.

    Made without `PlannedJob.__init__`, which checks nothing: a frozen dataclass's sets each
    of its 13 fields through `object.__setattr__`, and a plan of 10,000 recorded specs
    makes 10,000 of these."""
    job = _new_job(PlannedJob)
    _set_attribute(
        job,
        "__dict__",
        {
            "name": record.name,
            "change": change,
            "reason": reason,
            "partition": record.partition,
            "region": record.region,
            "account": record.account,
            "spec_file": record.spec_file,
            "request_digest": record.request_digest,
            "arn": record.arn,
            "status": record.status,
            "period": record.period,
            "latest_of": None,
            "kind": KINDS[record.kind],
        },
    )
    return job


_new_job = object.__new__
_set_attribute = object.__setattr__
_job_name = operator.attrgetter("name")


def spec_digests(
    specs: Sequence[JobSpec], snapshot: Snapshot | None, unchanged_files: Collection[str]
) -> tuple[SpecDigest, ...]:
    """What a saved plan remembers of the specs, the parsed and the unchanged alike."""
    digests = [SpecDigest.of(spec) for spec in specs]
    if unchanged_files and snapshot is not None:
        unchanged = frozenset(unchanged_files)
        digests += [
            SpecDigest(
                record.spec_file,
                record.spec_index,
                record.name,
                record.request_digest,
                record.spec_digest,
            )
            for record in snapshot.state.jobs.values()
            if record.spec_file in unchanged and record.spec_index is not None
        ]
    return tuple(sorted(digests, key=_spec_order))


def _plan_spec(spec: JobSpec, records: Mapping[str, Any], remote: RemoteView | None) -> PlannedJob:
    def planned(change: Change, reason: str, **fields: Any) -> PlannedJob:
        return PlannedJob(
            name=spec.job_name,
            kind=spec.kind,
            change=change,
            reason=reason,
            partition=spec.partition,
            region=spec.region,
            account=spec.account,
            spec_file=spec.file,
            request_digest=spec.request_digest,
            period=spec.period,
            latest_of=latest_of(spec.request),
            **fields,
        )

    record = records.get(spec.key)
    if record is not None:
        if record.request_digest != spec.request_digest and spec.period is not None:
            # A recorded period's job is immutable: the edit applies to later periods.
            return planned(
                Change.UNCHANGED,
                "recorded; the spec changed since, which applies to later periods only",
                arn=record.arn,
                status=record.status,
            )
        if record.request_digest != spec.request_digest:
            submitted = format_minute(record.submitted_at)
            return planned(
                Change.CONFLICT,
                f"the spec changed after its job was submitted on {submitted}; jobs are "
                "immutable: restore the spec, and put the change in a new spec with a new "
                "jobName",
                arn=record.arn,
                status=record.status,
            )
        return planned(Change.UNCHANGED, "recorded", arn=record.arn, status=record.status)
    scope = (spec.partition, spec.region, spec.account)
    if remote is None or scope not in remote.scopes:
        return planned(Change.CREATE, "new")
    found = remote.find(scope, spec.key)
    if found is None:
        return planned(Change.CREATE, "new, and not known at the service")
    if found.request is None:
        wanted = comparable(spec.request, found.solution_version_arn).get("solutionVersionArn")
        if found.solution_version_arn is not None and found.solution_version_arn != wanted:
            return planned(
                Change.CONFLICT,
                _exists_otherwise(
                    [_difference("solutionVersionArn", wanted, found.solution_version_arn)]
                ),
                arn=found.arn,
                status=found.status,
            )
        return planned(
            Change.ADOPT,
            "a job of this name exists at the service; its parameters are compared "
            "before it is recorded",
            arn=found.arn,
            status=found.status,
        )
    differences = request_differences(spec.kind, spec.request, found.request, found.tags or ())
    if differences:
        return planned(
            Change.CONFLICT, _exists_otherwise(differences), arn=found.arn, status=found.status
        )
    return planned(
        Change.ADOPT,
        "exists at the service with the same parameters: recorded, not submitted again",
        arn=found.arn,
        status=found.status,
    )


def _exists_otherwise(differences: Sequence[str]) -> str:
    return (
        "a job of this name exists at the service with other parameters ("
        + "; ".join(differences)
        + "); give this spec another jobName"
    )


def request_differences(
    kind: JobKind,
    spec_request: Mapping[str, Any],
    remote_request: Mapping[str, Any],
    remote_tags: Iterable[tuple[str, str]],
) -> list[str]:
    """How the job the service has differs from the one the spec asks for, for people.

    The service fills in the kind's defaults (`numResults`: 25) for the fields a request
    leaves out; the spec's tags must all be on the job (the service, or someone, may have
    added more). A `{latestOf: S}` matches any version of S.
    """
    spec_request = comparable(spec_request, remote_request.get("solutionVersionArn"))
    wanted = {**kind.request_defaults}
    wanted.update((key, value) for key, value in spec_request.items() if value is not None)
    have = {**kind.request_defaults}
    have.update((key, value) for key, value in remote_request.items() if value is not None)
    differences = [
        _difference(field, wanted.get(field), have.get(field))
        for field in kind.request_fields
        if (
            _missing_from(wanted.get(field), have.get(field))
            if field in kind.open_fields
            else wanted.get(field) != have.get(field)
        )
    ]
    tags = set(remote_tags)
    missing = [
        f"{tag['tagKey']}={tag['tagValue']}"
        for tag in wanted.get("tags") or ()
        if (tag["tagKey"], tag["tagValue"]) not in tags
    ]
    if missing:
        differences.append(f"tags: the job lacks {', '.join(missing)}")
    return differences


def _missing_from(wanted: object, have: object) -> bool:
    """Whether some of `wanted` (a spec's part of an open field, `JobKind.open_fields`) is
    missing from `have`, the service's whole: what the spec leaves out is the service's."""
    if wanted is None:
        return False
    if isinstance(wanted, Mapping) and isinstance(have, Mapping):
        return any(_missing_from(value, have.get(key)) for key, value in wanted.items())
    return bool(wanted != have)


def _difference(field: str, wanted: object, have: object) -> str:
    return f"{field}: the spec has {_show(wanted)}, the service {_show(have)}"


def _show(value: object) -> str:
    if value is None:
        return "none"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _spec_order(spec: SpecDigest) -> tuple[str, int]:
    return (spec.file, spec.index)
