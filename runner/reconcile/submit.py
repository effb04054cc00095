"""Submitting one planned job: create it, or adopt the job the service already has.

Each create is sent with the kind's create call (`CreateBatchSegmentJob`), and the state
is written right after every successful create, so that a crash loses at most the job
being submitted. `ResourceAlreadyExistsException` (our own earlier attempt whose answer
was lost, or a run killed before it wrote the state) means: describe the job and adopt it
when its parameters and tags match the spec, report a conflict when they do not.
Throttling and 5xx answers are retried by the backend; a create that still gets no answer
has an unknown outcome: it is reported and not recorded, and the next run's create gets
`ResourceAlreadyExistsException` and adopts the job if it was created. So has a create
whose answer cannot be trusted (not JSON, no ARN, the ARN of another job: issue 10), and
one that the run's deadline (`--timeout`) cut short; a job the deadline left no time to send
is deferred. A job the service
refuses (invalid input, a missing solution version) is reported and does not stop the
others.

A spec whose `solutionVersionArn` is `{latestOf: <solution>}` is sent with the solution's
newest ACTIVE version, found just before its create (`latest`) and recorded with the job;
while the solution has none, the job is deferred (the next run tries again), and a solution
that cannot be described fails that job only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.backends import (
    CREATE_PENDING,
    FINAL_STATUSES,
    KNOWN_STATUSES,
    Backend,
    DeadlineExceeded,
    JobDescription,
    LimitExceeded,
    MalformedAnswer,
    ResourceAlreadyExists,
    ServiceError,
    Throttled,
    Unavailable,
    normalize_status,
)
from runner.parallel import bounded_map
from runner.planner import PlannedJob, request_differences
from runner.reconcile.latest import LatestVersions, NoActiveVersion
from runner.reconcile.ledger import Ledger
from runner.reconcile.report import Result
from runner.spec import JobSpec
from runner.spec.latest import latest_of, with_version


class Full:
    """The quota refused a create."""


# A job's description and tags, as adoption compares them with its spec.
_Found = tuple[JobDescription, list[dict[str, str]]]


FULL = Full()


class Submitter:
    def __init__(
        self,
        *,
        backend: Backend,
        specs: Mapping[str, JobSpec],
        ledger: Ledger,
        timeout: float | None,
        concurrency: int = 1,
        described: Mapping[tuple[tuple[str, str, str], str], _Found] | None = None,
    ) -> None:
        self.backend = backend
        # Describes and tag listings at once when many jobs are adopted (issue 11).
        self.concurrency = concurrency
        # What the plan's remote view described, by scope and key: adopting those jobs
        # compares and records that, without asking again.
        self.described = dict(described or {})
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
        except DeadlineExceeded:
            self.defer(job, why="no time left")
            return None
        except MalformedAnswer as error:
            self.ledger.finish(
                job,
                Result.FAILED,
                f"cannot find the newest ACTIVE version of {solution}: the service's answer "
                f"cannot be trusted ({error}); the next reconcile tries again",
            )
            return None
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
        spec = self.specs[job.key]
        resolved = self.resolve(job, spec)
        if resolved is None:
            return None
        request, version = resolved
        try:
            self.sent.add(job.key)
            arn = self.backend.create_job(spec.kind, request)
        except ResourceAlreadyExists:
            return self.adopt(job, reason="already existed at the service (an earlier attempt)")
        except LimitExceeded:
            return FULL
        except DeadlineExceeded as error:
            self.ledger.finish(
                job,
                Result.UNKNOWN,
                f"the deadline passed while the create was sent ({error}): the job may or "
                "may not have been created; the next reconcile adopts it if it was, or "
                "submits it",
            )
            return None
        except MalformedAnswer as error:
            # A 200 whose body is not a create's answer (issue 10): the job may exist.
            self.ledger.finish(
                job,
                Result.UNKNOWN,
                f"the service's answer to the create cannot be trusted ({error}): not "
                "recorded; the job may or may not have been created, the next reconcile "
                "adopts it if it was, or submits it",
            )
            return None
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

    def adopt_all(self, jobs: Sequence[PlannedJob], *, reason: str) -> list[str | None]:
        """`adopt` each of `jobs`, whose describes and tag listings run `concurrency` at a
        time; each is recorded in the jobs' order, as it would be one by one."""
        found = bounded_map(self._described, jobs, workers=self.concurrency)
        return [
            self.adopt(job, reason=reason, found=described)
            for job, described in zip(jobs, found, strict=True)
        ]

    def _described(self, job: PlannedJob) -> _Found | ServiceError:
        spec = self.specs[job.key]
        found = self.described.pop((job.scope, job.key), None)
        if found is not None:
            return found
        try:
            return self.backend.describe_job(spec.kind, spec.job_arn), self.backend.list_tags(
                spec.job_arn
            )
        except ServiceError as error:
            return error

    def adopt(
        self, job: PlannedJob, *, reason: str, found: _Found | ServiceError | None = None
    ) -> str | None:
        """Record the existing job if it matches the spec: its ARN if it is in flight.
        `found`: its description and tags, when they were asked for already."""
        spec = self.specs[job.key]
        arn = spec.job_arn
        if found is None:
            found = self._described(job)
        if isinstance(found, ServiceError):
            error = found
            self.ledger.finish(
                job,
                Result.UNKNOWN,
                f"{reason}, but describing it failed ({error}); the next reconcile tries again",
                arn=arn,
            )
            return None
        description, tags = found
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
        if normalize_status(summary.status) not in KNOWN_STATUSES:
            self.ledger.finish(
                job,
                Result.UNKNOWN,
                f"{reason} with the same parameters, but the service reports the status "
                f"{summary.status!r}, which no batch job has: not recorded; the next "
                "reconcile asks again",
                arn=arn,
                status=summary.status,
            )
            return None
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

    def defer(self, job: PlannedJob, *, why: str | None = None) -> None:
        self.ledger.finish(
            job,
            Result.DEFERRED,
            f"not submitted: {why or f'no quota slot in {job.region}'} before the deadline "
            f"(--timeout {self.timeout:g}s); the next reconcile submits it",
        )
