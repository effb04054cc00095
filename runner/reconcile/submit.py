"""Submitting one planned job: create it, or adopt the job the service already has.

Each create is sent with the kind's create call (`CreateBatchSegmentJob`), and the state
is written right after every successful create, so that a crash loses at most the job
being submitted. `ResourceAlreadyExistsException` (our own earlier attempt whose answer
was lost, or a run killed before it wrote the state) means: describe the job and adopt it
when its parameters and tags match the spec, report a conflict when they do not.
Throttling and 5xx answers are retried by the backend; a create that still gets no answer
has an unknown outcome: it is reported and not recorded, and the next run's create gets
`ResourceAlreadyExistsException` and adopts the job if it was created. A job the service
refuses (invalid input, a missing solution version) is reported and does not stop the
others.

A spec whose `solutionVersionArn` is `{latestOf: <solution>}` is sent with the solution's
newest ACTIVE version, found just before its create (`latest`) and recorded with the job;
while the solution has none, the job is deferred (the next run tries again), and a solution
that cannot be described fails that job only.
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.backends import (
    CREATE_PENDING,
    FINAL_STATUSES,
    Backend,
    LimitExceeded,
    ResourceAlreadyExists,
    ServiceError,
    Throttled,
    Unavailable,
    normalize_status,
)
from runner.planner import PlannedJob, request_differences
from runner.reconcile.latest import LatestVersions, NoActiveVersion
from runner.reconcile.ledger import Ledger
from runner.reconcile.report import Result
from runner.spec import JobSpec
from runner.spec.latest import latest_of, with_version


class Full:
    """The quota refused a create."""


FULL = Full()


class Submitter:
    def __init__(
        self,
        *,
        backend: Backend,
        specs: Mapping[str, JobSpec],
        ledger: Ledger,
        timeout: float | None,
    ) -> None:
        self.backend = backend
        self.specs = specs
        self.ledger = ledger
        # The run's deadline in seconds, for the message of a deferred job.
        self.timeout = timeout
        self.latest = LatestVersions(backend)
        # The jobs whose create was sent (answered or not): what a signal may leave unknown.
        self.sent: set[str] = set()

    def resolve(
        self, job: PlannedJob, spec: JobSpec
    ) -> tuple[dict[str, object], str | None] | None:
        """The request to send, and the version a `latestOf` was resolved to; None when the
        job cannot be sent now (it is then finished: deferred or failed)."""
        solution = latest_of(spec.request)
        if solution is None:
            return dict(spec.request), None
        try:
            found = self.latest.resolve(solution)
        except ServiceError as error:
            self.ledger.finish(
                job,
                Result.FAILED,
                f"cannot find the newest ACTIVE version of {solution} ({error}); check the ARN "
                "and the permissions personalize:DescribeSolution and ListSolutionVersions",
            )
            return None
        except (KeyError, TypeError, ValueError) as error:
            self.ledger.finish(
                job,
                Result.FAILED,
                f"cannot find the newest ACTIVE version of {solution}: the service's answer "
                f"is not one ({type(error).__name__}: {error}); the next reconcile tries again",
            )
            return None
        if isinstance(found, NoActiveVersion):
            self.ledger.finish(job, Result.DEFERRED, found.message)
            return None
        return with_version(spec.request, found), found

    def create(self, job: PlannedJob) -> str | Full | None:
        """Submit `job`: its ARN, None when it is not in flight (failed, adopted final,
        …), `FULL` when the quota refused it (try again after a poll)."""
        spec = self.specs[job.name]
        resolved = self.resolve(job, spec)
        if resolved is None:
            return None
        request, version = resolved
        try:
            self.sent.add(job.name)
            arn = self.backend.create_job(spec.kind, request)
        except ResourceAlreadyExists:
            return self.adopt(job, reason="already existed at the service (an earlier attempt)")
        except LimitExceeded:
            return FULL
        except (Throttled, Unavailable) as error:
            self.ledger.finish(
                job,
                Result.UNKNOWN,
                f"the service did not answer ({error}): the job may or may not have been "
                "created; the next reconcile adopts it if it was, or submits it",
            )
            return None
        except ServiceError as error:
            self.ledger.finish(job, Result.FAILED, f"the service refused the job: {error}")
            return None
        record = self.ledger.new_record(
            spec, arn, recorded_by="created", status=CREATE_PENDING, solution_version_arn=version
        )
        self.ledger.record(record, created=True)
        self.ledger.finish(job, Result.CREATED, "submitted", arn=arn, status=CREATE_PENDING)
        return arn

    def adopt(self, job: PlannedJob, *, reason: str) -> str | None:
        """Record the existing job if it matches the spec: its ARN if it is in flight."""
        spec = self.specs[job.name]
        arn = spec.job_arn
        try:
            description = self.backend.describe_job(spec.kind, arn)
            tags = self.backend.list_tags(arn)
        except ServiceError as error:
            self.ledger.finish(
                job,
                Result.UNKNOWN,
                f"{reason}, but describing it failed ({error}); the next reconcile tries again",
                arn=arn,
            )
            return None
        differences = request_differences(
            spec.kind,
            spec.request,
            description.request,
            [(tag["tagKey"], tag["tagValue"]) for tag in tags],
        )
        if differences:
            self.ledger.finish(
                job,
                Result.CONFLICT,
                "a job of this name exists at the service with other parameters ("
                + "; ".join(differences)
                + "); give this spec another jobName",
                arn=arn,
                status=description.summary.status,
            )
            return None
        summary = description.summary
        record = self.ledger.new_record(
            spec,
            summary.arn,
            recorded_by="adopted",
            status=normalize_status(summary.status),
            description=description,
            solution_version_arn=(
                None if latest_of(spec.request) is None else summary.solution_version_arn
            ),
        )
        self.ledger.record(record, created=False)
        self.ledger.finish(
            job,
            Result.ADOPTED,
            f"{reason} with the same parameters: recorded, not submitted again",
            arn=record.arn,
            status=record.status,
            failure_reason=record.failure_reason,
        )
        return None if record.status in FINAL_STATUSES else record.arn

    def defer(self, job: PlannedJob) -> None:
        self.ledger.finish(
            job,
            Result.DEFERRED,
            f"not submitted: no quota slot in {job.region} before the deadline "
            f"(--timeout {self.timeout:g}s); the next reconcile submits it",
        )
