"""The services the reconciler submits jobs to: one protocol, two implementations.

`aws` talks to Amazon Personalize through boto3; `local` is the embedded stand-in.
Nothing here imports boto3: commands that do not talk to AWS must not pay for it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from runner.kinds import JobKind
from runner.service import (
    ACTIVE,
    BACKEND_NAMES,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    CREATE_PENDING,
    FINAL_STATUSES,
    IN_FLIGHT_STATUSES,
    KNOWN_STATUSES,
    SERVICE_ERRORS,
    VANISHED,
    DeadlineExceeded,
    InvalidInput,
    InvalidNextToken,
    LimitExceeded,
    MalformedAnswer,
    ResourceAlreadyExists,
    ResourceInUse,
    ResourceNotFound,
    ServiceError,
    Throttled,
    TooManyTags,
    Unavailable,
    normalize_status,
)

# The service's statuses, errors and backend names live below the backends, in
# `runner.service` (`runner.boto` and `runner.config` import them from there); they are
# re-exported here for the layers above.
__all__ = [
    "ACTIVE",
    "BACKEND_NAMES",
    "CREATE_FAILED",
    "CREATE_IN_PROGRESS",
    "CREATE_PENDING",
    "FINAL_STATUSES",
    "IN_FLIGHT_STATUSES",
    "KNOWN_STATUSES",
    "SERVICE_ERRORS",
    "VANISHED",
    "DeadlineExceeded",
    "InvalidInput",
    "InvalidNextToken",
    "LimitExceeded",
    "MalformedAnswer",
    "ResourceAlreadyExists",
    "ResourceInUse",
    "ResourceNotFound",
    "ServiceError",
    "Throttled",
    "TooManyTags",
    "Unavailable",
    "normalize_status",
]


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

    def list_page(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> list[JobSummary]:
        """The listing's first page alone, one call (what a poll reads: issue 11): at most
        a page (100) of summaries, fewer where the service's page held other accounts'."""

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        """`ListTagsForResource`: `[{"tagKey": …, "tagValue": …}]`."""

    def describe_solution(self, arn: str) -> SolutionDescription:
        """`DescribeSolution`: a solution, its latest version among its fields."""

    def list_solution_versions(self, solution_arn: str) -> Iterator[SolutionVersionSummary]:
        """`ListSolutionVersions`: every version of the solution, every page."""
