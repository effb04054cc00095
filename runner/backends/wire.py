"""The service's JSON bodies, turned into the backend records, for both backends."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from runner.backends import (
    JobDescription,
    JobSummary,
    SolutionDescription,
    SolutionVersionSummary,
    normalize_status,
)
from runner.kinds import JobKind


def to_datetime(value: object) -> datetime.datetime | None:
    """A wire timestamp (epoch seconds, or what botocore already parsed) in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    if isinstance(value, str):
        return to_datetime(datetime.datetime.fromisoformat(value))
    raise TypeError(f"not a timestamp: {value!r}")


def job_summary(kind: JobKind, body: Mapping[str, Any]) -> JobSummary:
    """A summary of the kind's listing (`BatchSegmentJobSummary`), or its description
    (`BatchSegmentJob`)."""
    return JobSummary(
        name=body["jobName"],
        arn=body[kind.arn_key],
        status=normalize_status(body["status"]),
        solution_version_arn=body.get("solutionVersionArn"),
        created_at=to_datetime(body.get("creationDateTime")),
        updated_at=to_datetime(body.get("lastUpdatedDateTime")),
        failure_reason=body.get("failureReason"),
    )


def job_description(kind: JobKind, body: Mapping[str, Any]) -> JobDescription:
    """The kind's description (`DescribeBatchSegmentJob`'s `batchSegmentJob`)."""
    return JobDescription(
        summary=job_summary(kind, body),
        request={
            field: body[field] for field in kind.request_fields if body.get(field) is not None
        },
    )


def solution_version_summary(body: Mapping[str, Any]) -> SolutionVersionSummary:
    """A `SolutionVersionSummary` of `ListSolutionVersions` or `DescribeSolution`."""
    arn = body["solutionVersionArn"]
    status = body["status"]
    if not isinstance(arn, str) or not isinstance(status, str):
        raise TypeError(f"not a solution version summary: {dict(body)!r}")
    return SolutionVersionSummary(
        arn=arn,
        status=normalize_status(status),
        created_at=to_datetime(body.get("creationDateTime")),
        updated_at=to_datetime(body.get("lastUpdatedDateTime")),
        failure_reason=body.get("failureReason"),
    )


def solution_description(body: Mapping[str, Any]) -> SolutionDescription:
    """`DescribeSolution`'s `solution`."""
    latest = body.get("latestSolutionVersion")
    return SolutionDescription(
        arn=body["solutionArn"],
        status=body.get("status"),
        latest_version=None if latest is None else solution_version_summary(latest),
    )
