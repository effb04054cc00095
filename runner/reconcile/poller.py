"""The one poller: how `reconcile`, `wait` and `status --refresh` learn the status of jobs.

A poll of one kind of job in one account and region is one list call (`ListBatchSegmentJobs`:
one page of up to 100 summaries, newest first) plus one describe
(`DescribeBatchSegmentJob`) per watched job that the page does not show (none, as long as
the service lists newest first). The page also tells how many jobs not watched are in
flight there: the quota slots they hold. One page is one call, whatever it holds: the aws
backend leaves out the summaries of other accounts and does not ask for the next page to
make up for them (`Backend.list_page`), so that a poll never reads every job the service holds.

Polls of a region are at least `poll_first` (2 s) apart: at most 30 polls a minute per
region, whatever the number of jobs. While watched jobs are in flight the interval is a
twentieth of the age of the oldest, within [`poll_first`, `poll_max`] = [2 s, 60 s]: a job
that runs T seconds is seen finished at most max(2 s, T/20) late, and a job costs no call
of its own. While nothing watched is in flight (every quota slot is taken by jobs not of
this run), the interval backs off from 2 s by 1.5x to 60 s. A job recorded in a final
status is never asked about.

Answers are untrusted (issue 10): a listing page that cannot be read settles nothing, so
each watched job of the group is described instead. A watched job the service no longer
knows (`ResourceNotFoundException` on describe: it is not on the page either) is
*vanished*; one in a status that no batch job has (`EXPLODED`) is reported as it is. Either
is *dropped*: no longer followed, its status not recorded (the record keeps the last status
the service gave; the next look asks again), and it holds no quota slot — only jobs listed
`CREATE PENDING` or `CREATE IN_PROGRESS` count as in flight.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from runner.arn import Arn
from runner.backends import (
    FINAL_STATUSES,
    IN_FLIGHT_STATUSES,
    KNOWN_STATUSES,
    VANISHED,
    Backend,
    JobSummary,
    MalformedAnswer,
    ResourceNotFound,
    ServiceError,
    normalize_status,
)
from runner.kinds import JobKind, kind_of_arn, split_key
from runner.planner import Group
from runner.reconcile.report import Listener
from runner.state import State

POLL_FIRST = 2.0
POLL_MAX = 60.0
POLL_BACKOFF = 1.5
# The poll interval while jobs are in flight, as a fraction of the oldest one's age.
POLL_AGE_FRACTION = 0.05


class Clock(Protocol):
    def now(self) -> datetime.datetime:
        """The time, aware, for the records."""

    def monotonic(self) -> float:
        """Seconds, for deadlines."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Poll:
    """What one poll of a group said of its watched jobs (key → ARN; the key is the state's,
    `JobKind.key`: jobs of two kinds may share a name)."""

    # The watched jobs it found, listed or described, in a status of a batch job (normalized).
    seen: Mapping[str, JobSummary]
    # The watched jobs whose describe failed.
    errors: Mapping[str, ServiceError]
    # Jobs in flight that are not watched, on the page; None when the listing failed.
    others: int | None = 0
    # The listing failed (when it could not be read, the watched jobs were described).
    failed: ServiceError | None = None
    # The watched jobs no longer followed (`dropped`): vanished, or in a status no batch job
    # has; `failure_reason` says which. Never recorded.
    dropped: Mapping[str, JobSummary] = field(default_factory=dict)


def unfinished(state: State, names: Sequence[str] = ()) -> dict[str, str]:
    """The recorded jobs (all, or those of the keys given) not in a final status, to poll:
    key → ARN."""
    records = [state.jobs[key] for key in names] if names else list(state.jobs.values())
    return {
        record.key: record.arn
        for record in records
        if normalize_status(record.status) not in FINAL_STATUSES
    }


def poll(backend: Backend, group: Group, watched: Mapping[str, str]) -> Poll:
    """One list page of `group`, and a describe for each watched job it leaves out (each
    one, when the page cannot be read)."""
    kind, (partition, region, account) = group
    seen: dict[str, JobSummary] = {}
    others: int | None = 0
    failed: ServiceError | None = None
    try:
        for summary in backend.list_page(kind, partition=partition, region=region, account=account):
            status = normalize_status(summary.status)
            key = kind.key(summary.name)
            if watched.get(key) == summary.arn:
                seen[key] = replace(summary, status=status)
            elif status in IN_FLIGHT_STATUSES:
                others = (others or 0) + 1
    except MalformedAnswer as error:
        seen, others, failed = {}, None, error
    except ServiceError as error:
        return Poll(seen={}, errors={}, others=None, failed=error)
    missing = {name: arn for name, arn in watched.items() if name not in seen}
    described, errors = describe_jobs(backend, kind, missing)
    seen.update(described)
    followed, dropped = settle(seen)
    return Poll(seen=followed, errors=errors, others=others, failed=failed, dropped=dropped)


def describe_jobs(
    backend: Backend, kind: JobKind, jobs: Mapping[str, str]
) -> tuple[dict[str, JobSummary], dict[str, ServiceError]]:
    """One describe per job (key → ARN): the summaries (`VANISHED` for a job the service
    does not know), and the errors."""
    summaries: dict[str, JobSummary] = {}
    errors: dict[str, ServiceError] = {}
    for key, arn in jobs.items():
        try:
            summary = backend.describe_job(kind, arn).summary
        except ResourceNotFound as error:
            summaries[key] = JobSummary(
                name=split_key(key)[1],
                arn=arn,
                status=VANISHED,
                failure_reason=(
                    f"vanished: the service no longer knows the job ({error}); "
                    "its record is kept as it was"
                ),
            )
        except ServiceError as error:
            errors[key] = error
        else:
            summaries[key] = replace(summary, status=normalize_status(summary.status))
    return summaries, errors


def settle(
    summaries: Mapping[str, JobSummary],
) -> tuple[dict[str, JobSummary], dict[str, JobSummary]]:
    """The summaries in a status of a batch job, and those dropped (vanished, or in another
    status, with the reason in `failure_reason`)."""
    followed: dict[str, JobSummary] = {}
    dropped: dict[str, JobSummary] = {}
    for key, summary in summaries.items():
        if summary.status in KNOWN_STATUSES:
            followed[key] = summary
        elif summary.status == VANISHED:
            dropped[key] = summary
        else:
            dropped[key] = replace(
                summary,
                failure_reason=(
                    f"the service reports the status {summary.status!r}, which no batch job "
                    "has: not recorded, and the job is no longer followed"
                ),
            )
    return followed, dropped


def dropped_note(key: str, summary: JobSummary) -> str:
    """What to tell of a job the poller dropped (`key`, the state's, names it)."""
    kind, name = split_key(key)
    return f"{kind.display(name)}: {summary.failure_reason}"


def groups(jobs: Mapping[str, str]) -> dict[Group, dict[str, str]]:
    """Jobs (name → ARN) by kind, account and region, as their ARNs tell."""
    grouped: dict[Group, dict[str, str]] = {}
    for name, arn in jobs.items():
        parsed = Arn.parse(arn)
        group = (kind_of_arn(arn), (parsed.partition, parsed.region, parsed.account))
        grouped.setdefault(group, {})[name] = arn
    return grouped


@dataclass(frozen=True)
class Round:
    """One poll of every group of some jobs."""

    seen: Mapping[str, JobSummary]
    errors: Mapping[str, ServiceError]
    # The groups whose listing failed.
    failed: Mapping[Group, ServiceError]
    # The jobs dropped (`Poll.dropped`).
    dropped: Mapping[str, JobSummary] = field(default_factory=dict)


def poll_all(backend: Backend, jobs: Mapping[str, str]) -> Round:
    """One poll of each kind, account and region that `jobs` (key → ARN) are in."""
    seen: dict[str, JobSummary] = {}
    errors: dict[str, ServiceError] = {}
    failed: dict[Group, ServiceError] = {}
    dropped: dict[str, JobSummary] = {}
    for group, watched in sorted(groups(jobs).items(), key=lambda item: _group_order(item[0])):
        result = poll(backend, group, watched)
        if result.failed is not None:
            failed[group] = result.failed
        seen.update(result.seen)
        errors.update(result.errors)
        dropped.update(result.dropped)
    return Round(seen=seen, errors=errors, failed=failed, dropped=dropped)


def listing_failed(group: Group, error: ServiceError) -> str:
    """What to tell of a failed listing."""
    _, (_, region, account) = group
    if isinstance(error, MalformedAnswer):
        return (
            f"could not read the listing of the jobs of {region} ({account}): {error}; "
            "each job was described instead"
        )
    return f"could not list the jobs of {region} ({account}): {error}"


def age_interval(age: float, *, first: float = POLL_FIRST, maximum: float = POLL_MAX) -> float:
    """The interval between polls while the oldest watched job in flight is `age` seconds old."""
    return min(maximum, max(first, POLL_AGE_FRACTION * age))


def backed_off(delay: float, *, maximum: float = POLL_MAX) -> float:
    """The interval after `delay` while nothing watched is in flight."""
    return min(delay * POLL_BACKOFF, maximum)


def follow_jobs(
    backend: Backend,
    jobs: Mapping[str, str],
    *,
    clock: Clock,
    timeout: float | None,
    listener: Listener,
    on_update: Callable[[list[JobSummary]], None],
    poll_first: float = POLL_FIRST,
    poll_max: float = POLL_MAX,
) -> tuple[dict[str, JobSummary], tuple[str, ...]]:
    """Poll `jobs` (name → ARN, unfinished) until all are final or `timeout` passes: the
    last summaries, and the names still unfinished. A job is not asked about again once
    it is final; `on_update` gets every change of status."""
    deadline = None if timeout is None else clock.monotonic() + timeout
    pending = dict(jobs)
    last: dict[str, JobSummary] = {}
    # Each failure is told once: the job or the listing, until it works again.
    reported: set[str] = set()
    unlisted: set[Group] = set()
    while pending:
        result = poll_all(backend, pending)
        for group, error in result.failed.items():
            if group not in unlisted:
                listener.note(f"{listing_failed(group, error)}; trying again")
        unlisted = set(result.failed)
        for name, error in sorted(result.errors.items()):
            if name not in reported:
                reported.add(name)
                listener.note(f"{name}: could not get its status ({error}); trying again")
        for name, summary in sorted(result.dropped.items()):
            # Not recorded (`on_update` does not hear of it); the job is not followed.
            listener.note(dropped_note(name, summary))
            last[name] = summary
            del pending[name]
        changed = []
        for name, summary in sorted(result.seen.items()):
            before = last.get(name)
            if before is None or before.status != summary.status:
                changed.append(summary)
                listener.status_changed(summary)
            last[name] = summary
            if summary.status in FINAL_STATUSES:
                del pending[name]
        if changed:
            on_update(changed)
        listener.polled(final=len(jobs) - len(pending), total=len(jobs))
        if not pending:
            break
        remaining = None if deadline is None else deadline - clock.monotonic()
        if remaining is not None and remaining <= 0:
            break
        interval = age_interval(
            _oldest_age((last.get(name) for name in pending), now=clock.now()),
            first=poll_first,
            maximum=poll_max,
        )
        clock.sleep(interval if remaining is None else min(interval, remaining))
    return last, tuple(sorted(pending))


def _oldest_age(summaries: Iterable[JobSummary | None], *, now: datetime.datetime) -> float:
    """Seconds since the oldest of `summaries` was created (0 when none says)."""
    created = [summary.created_at for summary in summaries if summary and summary.created_at]
    return max(0.0, (now - min(created)).total_seconds()) if created else 0.0


def _group_order(group: Group) -> tuple[str, str, str, str]:
    kind, (partition, region, account) = group
    return (kind.name, partition, region, account)
