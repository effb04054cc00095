"""The remote view: what the service knows of the jobs the specs name, read, never written.

One listing (`ListBatchSegmentJobs` for batch segment jobs) per kind, account and region
that has unrecorded specs (it also tells which jobs are in flight there, holding quota
slots); a describe (`DescribeBatchSegmentJob`, and `ListTagsForResource`) only for a
listed job whose name an unrecorded spec asks for and whose summary cannot settle the
question (same solution version): comparing parameters needs the description.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.backends import FINAL_STATUSES, Backend, ServiceError, normalize_status
from runner.errors import BackendError
from runner.planner import Group, RemoteJob, RemoteView, Scope
from runner.spec import JobSpec
from runner.spec.latest import comparable
from runner.state import State


def fetch_remote_view(
    backend: Backend, specs: Sequence[JobSpec], state: State | None
) -> RemoteView:
    recorded = {} if state is None else state.jobs
    wanted: dict[Group, dict[str, JobSpec]] = {}
    for spec in specs:
        if spec.job_name not in recorded:
            scope = (spec.partition, spec.region, spec.account)
            wanted.setdefault((spec.kind, scope), {})[spec.job_name] = spec
    jobs: dict[tuple[Scope, str], RemoteJob] = {}
    in_flight: dict[Group, frozenset[str]] = {}
    for group in sorted(wanted, key=lambda group: (group[1], group[0].name)):
        kind, scope = group
        partition, region, account = scope
        busy: set[str] = set()
        try:
            for summary in backend.list_jobs(
                kind, partition=partition, region=region, account=account
            ):
                if normalize_status(summary.status) not in FINAL_STATUSES:
                    busy.add(summary.name)
                if summary.name not in wanted[group]:
                    continue
                spec = wanted[group][summary.name]
                version = comparable(spec.request, summary.solution_version_arn).get(
                    "solutionVersionArn"
                )
                if summary.solution_version_arn not in (None, version):
                    jobs[scope, summary.name] = RemoteJob(
                        name=summary.name,
                        arn=summary.arn,
                        status=summary.status,
                        solution_version_arn=summary.solution_version_arn,
                    )
                    continue
                description = backend.describe_job(kind, summary.arn)
                tags = backend.list_tags(summary.arn)
                jobs[scope, summary.name] = RemoteJob(
                    name=summary.name,
                    arn=summary.arn,
                    status=description.summary.status,
                    solution_version_arn=description.summary.solution_version_arn,
                    request=description.request,
                    tags=tuple((tag["tagKey"], tag["tagValue"]) for tag in tags),
                )
        except ServiceError as error:
            raise BackendError(
                f"cannot list the {kind.noun}s of account {account} in {region}: "
                f"{error}. Check the credentials and the permission "
                f"personalize:{kind.list_operation} ({kind.describe_operation}, "
                "ListTagsForResource), or plan offline (without --refresh)."
            ) from None
        in_flight[group] = frozenset(busy)
    return RemoteView(
        scopes=frozenset(scope for _, scope in wanted), jobs=jobs, in_flight=in_flight
    )
