from __future__ import annotations

import datetime

import pytest

from runner.arn import Arn
from runner.backends.wire import job_description, to_datetime
from runner.kinds import BATCH_SEGMENT_JOB


def test_arns_parse_and_print() -> None:
    text = "arn:aws-us-gov:personalize:us-gov-west-1:123456789012:solution/a/b"

    arn = Arn.parse(text)

    assert arn == Arn("aws-us-gov", "personalize", "us-gov-west-1", "123456789012", "solution/a/b")
    assert str(arn) == text


@pytest.mark.parametrize("text", ["", "arn:aws:personalize", "urn:aws:personalize:r:a:x"])
def test_non_arns_do_not_parse(text: str) -> None:
    with pytest.raises(ValueError, match="not an ARN"):
        Arn.parse(text)


UTC_NOON = datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "value",
    [
        UTC_NOON.timestamp(),
        int(UTC_NOON.timestamp()),
        UTC_NOON,
        UTC_NOON.astimezone(datetime.timezone(datetime.timedelta(hours=-5))),
        UTC_NOON.replace(tzinfo=None),
        "2026-11-01T12:00:00Z",
    ],
)
def test_timestamps_become_utc_datetimes(value: object) -> None:
    converted = to_datetime(value)

    assert converted == UTC_NOON
    assert converted.tzinfo == datetime.UTC


def test_descriptions_keep_the_request_fields_only() -> None:
    description = job_description(
        BATCH_SEGMENT_JOB,
        {
            "jobName": "promo",
            "batchSegmentJobArn": "arn:aws:personalize:r:1:batch-segment-job/promo",
            "status": "PENDING",
            "numResults": 25,
            "roleArn": "arn:aws:iam::1:role/R",
            "failureReason": None,
            "creationDateTime": 0,
        },
    )

    assert description.summary.status == "CREATE PENDING"
    assert description.request == {
        "jobName": "promo",
        "numResults": 25,
        "roleArn": "arn:aws:iam::1:role/R",
    }
