"""The service's JSON bodies, turned into the backend records, for both backends."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from runner.arn import Arn
from runner.backends import JobDescription, JobSummary, normalize_status
from runner.spec import REQUEST_FIELDS


def batch_segment_job_arn(solution_version_arn: str, job_name: str) -> str:
    """The ARN the service gives a job: same partition, region and account as its model."""
    model = Arn.parse(solution_version_arn)
    return str(
        Arn(
            model.partition,
            "personalize",
            model.region,
            model.account,
            f"batch-segment-job/{job_name}",
        )
    )


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


def job_summary(body: Mapping[str, Any]) -> JobSummary:
    """A `BatchSegmentJobSummary` or `BatchSegmentJob` body."""
    return JobSummary(
        name=body["jobName"],
        arn=body["batchSegmentJobArn"],
        status=normalize_status(body["status"]),
        solution_version_arn=body.get("solutionVersionArn"),
        created_at=to_datetime(body.get("creationDateTime")),
        updated_at=to_datetime(body.get("lastUpdatedDateTime")),
        failure_reason=body.get("failureReason"),
    )


def job_description(body: Mapping[str, Any]) -> JobDescription:
    """A `BatchSegmentJob` body (`DescribeBatchSegmentJob`'s `batchSegmentJob`)."""
    return JobDescription(
        summary=job_summary(body),
        request={field: body[field] for field in REQUEST_FIELDS if body.get(field) is not None},
    )
