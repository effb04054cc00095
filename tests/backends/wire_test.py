from __future__ import annotations

import datetime
import re

import pytest

from runner.arn import Arn
from runner.backends import MalformedAnswer
from runner.backends.wire import job_description, job_page, job_summary, to_datetime
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


def _summary(**fields: object) -> dict[str, object]:
    summary: dict[str, object] = {
        "jobName": "j1",
        "batchSegmentJobArn": "arn:aws:personalize:us-east-1:111122223333:batch-segment-job/j1",
        "status": "ACTIVE",
        "solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/s/1",
        "creationDateTime": UTC_NOON.timestamp(),
        "lastUpdatedDateTime": UTC_NOON,
        "failureReason": None,
    }
    summary.update(fields)
    return summary


# A page's usual summaries are read by a shorter path (issue 11): it gives what the
# summary's own reader gives, and leaves anything else to it, with its message.
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"creationDateTime": int(UTC_NOON.timestamp()), "lastUpdatedDateTime": None},
        {
            "lastUpdatedDateTime": UTC_NOON.astimezone(
                datetime.timezone(datetime.timedelta(hours=2))
            )
        },
        {"lastUpdatedDateTime": "2026-11-01T12:00:00Z"},
        {"status": "CREATE IN_PROGRESS", "failureReason": "", "solutionVersionArn": None},
        {"extra": [1, 2]},
    ],
)
def test_a_page_reads_each_summary_as_a_summary_is_read(fields: dict[str, object]) -> None:
    entry = _summary(**fields)
    summaries, token = job_page(BATCH_SEGMENT_JOB, {"batchSegmentJobs": [entry], "nextToken": "t"})

    assert summaries == [job_summary(BATCH_SEGMENT_JOB, entry)]
    assert token == "t"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"creationDateTime": True}, "not a timestamp: True"),
        ({"creationDateTime": 1e300}, "not a timestamp"),
        ({"jobName": ""}, "jobName ''"),
        ({"status": 5}, "status 5"),
        ({"failureReason": "bad \ud800"}, "which is not text"),
        ({"jobName": "j2"}, "which is not a batch segment job's of that name"),
        (
            {"batchSegmentJobArn": "arn:aws:s3:us-east-1:111122223333:batch-segment-job/j1"},
            "not an ARN of a job",
        ),
    ],
)
def test_a_page_with_one_unusual_summary_says_what_is_wrong_with_it(
    fields: dict[str, object], problem: str
) -> None:
    page = {"batchSegmentJobs": [_summary(), _summary(**fields)]}

    with pytest.raises(MalformedAnswer, match=re.escape(problem)):
        job_page(BATCH_SEGMENT_JOB, page)
