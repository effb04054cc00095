"""The remote view: what the service knows of the jobs the specs name, read, never written.

One listing (`ListBatchSegmentJobs` for batch segment jobs) per kind, account and region
that has unrecorded specs (it also tells which jobs are in flight there, holding quota
slots); a describe (`DescribeBatchSegmentJob`, and `ListTagsForResource`) only for a
listed job whose name an unrecorded spec asks for and whose summary cannot settle the
question (same solution version): comparing parameters needs the description. Those
describes run a few at a time per kind, account and region (`runner.parallel`,
`concurrency: {describe: N}`, 8 by default; issue 11).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from runner.backends import (
    IN_FLIGHT_STATUSES,
    Backend,
    DeadlineExceeded,
    JobDescription,
    JobSummary,
    MalformedAnswer,
    ResourceNotFound,
    ServiceError,
    normalize_status,
)
from runner.errors import BackendError
from runner.kinds import JobKind
from runner.parallel import DESCRIBE_CONCURRENCY, bounded_map
from runner.planner import Group, RemoteJob, RemoteView, Scope
from runner.spec import JobSpec
from runner.spec.latest import comparable
from runner.state import State


def fetch_remote_view(
    backend: Backend,
    specs: Sequence[JobSpec],
    state: State | None,
    *,
    concurrency: int = DESCRIBE_CONCURRENCY,
    described: dict[tuple[Scope, str], Described] | None = None,
) -> RemoteView:
    """The remote view of `specs`' unrecorded jobs; `described` (if given) receives the
    descriptions and tags that were asked for, by scope and key: what adopting those
    jobs compares and records, without asking again (issue 11)."""
    recorded = {} if state is None else state.jobs
    wanted: dict[Group, dict[str, JobSpec]] = {}
    for spec in specs:
        if spec.key not in recorded:
            scope = (spec.partition, spec.region, spec.account)
            wanted.setdefault((spec.kind, scope), {})[spec.job_name] = spec
    jobs: dict[tuple[Scope, str], RemoteJob] = {}
    in_flight: dict[Group, frozenset[str]] = {}
    notes: list[str] = []
    for group in sorted(wanted, key=lambda group: (group[1], group[0].name)):
        kind, scope = group
        partition, region, account = scope
        busy: set[str] = set()
        to_compare: list[JobSummary] = []
        try:
            try:
                listed = list(
                    backend.list_jobs(kind, partition=partition, region=region, account=account)
                )
            except MalformedAnswer as error:
                # A listing that cannot be read tells nothing (issue 10): each job that an
                # unrecorded spec asks for is described instead, and none counts as in
                # flight (a create that the quota refuses waits for a slot).
                notes.append(
                    f"could not read the listing of the {kind.noun}s of {region} ({account}): "
                    f"{error}; each job was described instead"
                )
                listed = _described(backend, kind, wanted[group].values())
            for summary in listed:
                if normalize_status(summary.status) in IN_FLIGHT_STATUSES:
                    busy.add(summary.name)
                if summary.name not in wanted[group]:
                    continue
                spec = wanted[group][summary.name]
                version = comparable(spec.request, summary.solution_version_arn).get(
                    "solutionVersionArn"
                )
                found = RemoteJob(
                    name=summary.name,
                    arn=summary.arn,
                    status=summary.status,
                    solution_version_arn=summary.solution_version_arn,
                )
                if summary.solution_version_arn in (None, version):
                    to_compare.append(summary)
                jobs[scope, kind.key(summary.name)] = found
            compared = bounded_map(
                functools.partial(_compared, backend, kind),
                to_compare,
                workers=concurrency,
            )
            for summary, pair in zip(to_compare, compared, strict=True):
                if pair is not None:
                    description, tags = pair
                    jobs[scope, kind.key(summary.name)] = RemoteJob(
                        name=summary.name,
                        arn=summary.arn,
                        status=description.summary.status,
                        solution_version_arn=description.summary.solution_version_arn,
                        request=description.request,
                        tags=tuple((tag["tagKey"], tag["tagValue"]) for tag in tags),
                    )
                    if described is not None:
                        described[scope, kind.key(summary.name)] = pair
        except DeadlineExceeded:
            raise
        except ServiceError as error:
            raise BackendError(
                f"cannot list the {kind.noun}s of account {account} in {region}: "
                f"{error}. Check the credentials and the permission "
                f"personalize:{kind.list_operation} ({kind.describe_operation}, "
                "ListTagsForResource), or plan offline (without --refresh)."
            ) from None
        in_flight[group] = frozenset(busy)
    return RemoteView(
        scopes=frozenset(scope for _, scope in wanted),
        jobs=jobs,
        in_flight=in_flight,
        notes=tuple(notes),
    )


# A job's description and its tags.
Described = tuple[JobDescription, list[dict[str, str]]]


def _compared(backend: Backend, kind: JobKind, summary: JobSummary) -> Described | None:
    """The listed job's description and tags, to compare with its spec; None when they
    cannot be had (an error, an answer that cannot be read): the job is then planned for
    adoption, which describes it again and compares before it records anything."""
    try:
        return backend.describe_job(kind, summary.arn), backend.list_tags(summary.arn)
    except (MalformedAnswer, ResourceNotFound):
        return None


def _described(backend: Backend, kind: JobKind, specs: Iterable[JobSpec]) -> list[JobSummary]:
    """The summaries of the jobs of `specs` that the service describes (those it does not
    know are not there)."""
    found = []
    for spec in specs:
        try:
            found.append(backend.describe_job(kind, spec.job_arn).summary)
        except ResourceNotFound:
            continue
    return found
