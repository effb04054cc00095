"""A job record: one batch job (of any kind) the runner submitted, adopted or imported.

`new_record` is the one way to make the record of a spec's job, for `reconcile` and for
`state import` alike.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from runner.kinds import DEFAULT_KIND, KINDS
from runner.times import UTC

if TYPE_CHECKING:
    from runner.backends import JobDescription
    from runner.kinds import JobKind

RecordedBy = Literal["created", "adopted", "imported"]
RECORDED_BY: tuple[str, ...] = get_args(RecordedBy)


def _utc(value: datetime.datetime, field: str) -> datetime.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class JobRecord:
    """One batch job, keyed by `key`: its `jobName` (unique per kind, account and region)
    and its kind."""

    name: str
    arn: str
    partition: str
    region: str
    account: str
    # The spec's path relative to the repository root, with `/` separators.
    spec_file: str
    # sha256 of the spec document's content: incremental planning, and a spec edited
    # after its job was submitted (jobs are immutable).
    spec_digest: str
    # sha256 of the canonical JSON of the exact `CreateBatchSegmentJob` request sent.
    request_digest: str
    git_commit: str | None
    submitted_at: datetime.datetime
    recorded_by: RecordedBy
    status: str
    # The service's own times.
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    failure_reason: str | None = None
    status_checked_at: datetime.datetime | None = None
    # Where the spec stood in `spec_file` when the job was recorded: the index of its
    # document, and how many spec documents the file held (all of them recorded, with
    # this `spec_digest`). None when unknown (a format version 1 state, an import).
    spec_index: int | None = None
    spec_documents: int | None = None
    # The period of the recurring spec whose job this is: its tick, ISO 8601 local time with
    # the offset (`2026-11-02T06:00:00+01:00`); None for a one-off spec's job.
    period: str | None = None
    # The solution version the job was submitted with, when its spec asked for the newest
    # one (`latestOf`, resolved at submission); None when the spec names the version.
    solution_version_arn: str | None = None
    # The kind of job (`runner.kinds`): records written before there were other kinds are
    # batch segment jobs.
    kind: str = DEFAULT_KIND.name

    @property
    def key(self) -> str:
        """The record's key in the state: its name, with its kind's prefix for a kind other
        than batch segment jobs (`JobKind.key`)."""
        return self.name if self.kind == DEFAULT_KIND.name else KINDS[self.kind].key(self.name)

    def __post_init__(self) -> None:
        for field in _TIME_FIELDS:
            value = getattr(self, field)
            if value is not None and value.tzinfo is not UTC:
                object.__setattr__(self, field, _utc(value, field))


_TIME_FIELDS = ("submitted_at", "created_at", "updated_at", "status_checked_at")


class RecordedSpec(Protocol):
    """What a record is made of: a spec's job (`runner.spec.JobSpec`, a layer above the
    state, which it is not imported from)."""

    @property
    def job_name(self) -> str: ...
    @property
    def partition(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def file_digest(self) -> str: ...
    @property
    def request_digest(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def documents(self) -> int: ...
    @property
    def period(self) -> str | None: ...
    @property
    def kind(self) -> JobKind: ...


def new_record(
    spec: RecordedSpec,
    arn: str,
    *,
    recorded_by: RecordedBy,
    status: str,
    description: JobDescription | None,
    git_commit: str | None,
    now: datetime.datetime,
    solution_version_arn: str | None = None,
) -> JobRecord:
    """The record of `spec`'s job, submitted (or found) as `arn`; `description` is what
    the service said of it, when it was asked; `solution_version_arn` the version a
    `latestOf` was resolved to."""
    summary = None if description is None else description.summary
    return JobRecord(
        name=spec.job_name,
        arn=arn,
        partition=spec.partition,
        region=spec.region,
        account=spec.account,
        spec_file=spec.file,
        spec_digest=spec.file_digest,
        request_digest=spec.request_digest,
        git_commit=git_commit,
        submitted_at=(summary.created_at if summary and summary.created_at else now),
        recorded_by=recorded_by,
        status=status,
        created_at=None if summary is None else summary.created_at,
        updated_at=None if summary is None else summary.updated_at,
        failure_reason=None if summary is None else summary.failure_reason,
        status_checked_at=None if summary is None else now,
        spec_index=spec.index,
        spec_documents=spec.documents,
        period=spec.period,
        solution_version_arn=solution_version_arn,
        kind=spec.kind.name,
    )
