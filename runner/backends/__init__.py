"""The services the reconciler submits jobs to: one protocol, two implementations.

`aws` talks to Amazon Personalize through boto3; `local` is the embedded stand-in.
Nothing here imports boto3: commands that do not talk to AWS must not pay for it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from runner.kinds import JobKind

CREATE_PENDING = "CREATE PENDING"
CREATE_IN_PROGRESS = "CREATE IN_PROGRESS"
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"
FINAL_STATUSES = frozenset({ACTIVE, CREATE_FAILED})
IN_FLIGHT_STATUSES = frozenset({CREATE_PENDING, CREATE_IN_PROGRESS})
# The statuses of a batch job, once normalized: any other is reported, never recorded, and
# ends the following of that job (it holds no quota slot: the service's own refusal,
# `LimitExceededException`, says when a slot is taken).
KNOWN_STATUSES = FINAL_STATUSES | IN_FLIGHT_STATUSES
# Not a status of the service: the runner's word for a job the service no longer knows
# (`ResourceNotFoundException` on describe, absent from its listing). Reported, never
# recorded; the next look asks again.
VANISHED = "VANISHED"
# The API model documents a batch job's unfinished statuses as `PENDING` and `IN PROGRESS`;
# the developer guide, and the local stand-in, spell them `CREATE PENDING` and
# `CREATE IN_PROGRESS`. Every spelling is read as the guide's.
_STATUS_ALIASES = {
    "PENDING": CREATE_PENDING,
    "IN PROGRESS": CREATE_IN_PROGRESS,
    "IN_PROGRESS": CREATE_IN_PROGRESS,
    "CREATE IN PROGRESS": CREATE_IN_PROGRESS,
}


def normalize_status(status: str) -> str:
    return _STATUS_ALIASES.get(status, status)


class ServiceError(Exception):
    """An error answer of the service, by its AWS error code."""

    code: ClassVar[str] = "ServiceException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidInput(ServiceError):
    code = "InvalidInputException"


class ResourceAlreadyExists(ServiceError):
    code = "ResourceAlreadyExistsException"


class LimitExceeded(ServiceError):
    code = "LimitExceededException"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFoundException"


class ResourceInUse(ServiceError):
    code = "ResourceInUseException"


class TooManyTags(ServiceError):
    code = "TooManyTagsException"


class InvalidNextToken(ServiceError):
    code = "InvalidNextTokenException"


class MalformedAnswer(ServiceError):
    """An answer that is not what the API says it is: a body that is not JSON, a missing or
    mistyped field, the ARN of another job. The call may have taken effect at the service
    (a create): its outcome is unknown."""

    code = "MalformedAnswer"


class DeadlineExceeded(ServiceError):
    """The run's deadline (`--timeout`) passed before the call was answered (and no retry
    may outlast it): the call may or may not have taken effect."""

    code = "DeadlineExceeded"


class Throttled(ServiceError):
    """Throttling that outlasted the retries."""

    code = "ThrottlingException"


class Unavailable(ServiceError):
    """A 5xx answer, a timeout or a lost connection that outlasted the retries.

    The call may or may not have taken effect at the service.
    """

    code = "ServiceUnavailable"


SERVICE_ERRORS: Mapping[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        InvalidInput,
        ResourceAlreadyExists,
        LimitExceeded,
        ResourceNotFound,
        ResourceInUse,
        TooManyTags,
        InvalidNextToken,
        Throttled,
    )
}


@dataclass(frozen=True)
class JobSummary:
    """What a listing (`ListBatchSegmentJobs`) tells of a job."""

    name: str
    arn: str
    status: str
    solution_version_arn: str | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class JobDescription:
    """What a describe (`DescribeBatchSegmentJob`) tells of a job.

    `request` holds the kind's create request fields as the service reports them
    (`JobKind.request_fields`), so that it can be compared with a spec.
    """

    summary: JobSummary
    request: Mapping[str, Any]


@dataclass(frozen=True)
class SolutionVersionSummary:
    """What `ListSolutionVersions` (and `DescribeSolution`'s `latestSolutionVersion`)
    tells of a solution version."""

    arn: str
    status: str
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class SolutionDescription:
    """What `DescribeSolution` tells of a solution: what resolving `latestOf` reads."""

    arn: str
    status: str | None = None
    latest_version: SolutionVersionSummary | None = None


class Backend(Protocol):
    """The Personalize calls the runner makes, for jobs of a kind (`runner.kinds`): its
    create, describe and list operations. Region and account come from the ARNs."""

    name: str

    def create_job(self, kind: JobKind, request: Mapping[str, Any]) -> str:
        """The kind's create (`CreateBatchSegmentJob`); returns the job's ARN."""

    def describe_job(self, kind: JobKind, arn: str) -> JobDescription:
        """The kind's describe (`DescribeBatchSegmentJob`)."""

    def list_jobs(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> Iterator[JobSummary]:
        """The kind's listing (`ListBatchSegmentJobs`), every page, newest first, for one
        account and region."""

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        """`ListTagsForResource`: `[{"tagKey": …, "tagValue": …}]`."""

    def describe_solution(self, arn: str) -> SolutionDescription:
        """`DescribeSolution`: a solution, its latest version among its fields."""

    def list_solution_versions(self, solution_arn: str) -> Iterator[SolutionVersionSummary]:
        """`ListSolutionVersions`: every version of the solution, every page."""


# The backends, by name; `runner.backends.registry.open_backend` opens one.
BACKEND_NAMES = ("aws", "local")
