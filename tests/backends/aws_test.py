"""The aws backend, through a real boto3 client, against the HTTP stand-in."""

from __future__ import annotations

import datetime
import socket
import subprocess
import sys

import boto3
import pytest

from runner.backends import (
    ACTIVE,
    CREATE_FAILED,
    CREATE_PENDING,
    InvalidInput,
    JobSummary,
    LimitExceeded,
    ResourceAlreadyExists,
    ResourceNotFound,
    Throttled,
    Unavailable,
)
from runner.backends.aws import AwsBackend
from runner.boto import RetryMode
from runner.kinds import BATCH_SEGMENT_JOB
from tests.support.clock import EPOCH, ManualClock
from tests.support.job_requests import (
    INPUT_PATH,
    job_arn,
    job_request,
    solution_version_arn,
)
from tests.support.personalize_server import PersonalizeServer

CREATE = "CreateBatchSegmentJob"
CREATED = datetime.datetime.fromtimestamp(EPOCH, tz=datetime.UTC)


def service_jobs(server: PersonalizeServer) -> list[str]:
    body = server.service.list_batch_segment_jobs({})
    return [job["jobName"] for job in body["batchSegmentJobs"]]


def test_importing_the_backends_does_not_import_boto3() -> None:
    code = (
        "import sys, runner.backends, runner.backends.aws, runner.backends.local;"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in "
        "('boto3', 'botocore')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout == "[]\n"


def test_create_describe_list_and_tags(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    request = job_request(numResults=100, tags=[{"tagKey": "team", "tagValue": "growth"}])

    arn = aws_backend.create_job(BATCH_SEGMENT_JOB, request)
    description = aws_backend.describe_job(BATCH_SEGMENT_JOB, arn)
    listed = list(
        aws_backend.list_jobs(
            BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account="123456789012"
        )
    )
    tags = aws_backend.list_tags(arn)

    summary = JobSummary(
        name="holiday-promo",
        arn=job_arn("holiday-promo"),
        status=CREATE_PENDING,
        solution_version_arn=solution_version_arn(),
        created_at=CREATED,
        updated_at=CREATED,
    )
    assert arn == job_arn("holiday-promo")
    assert description.summary == summary
    assert description.request == {key: value for key, value in request.items() if key != "tags"}
    assert listed == [summary]
    assert tags == [{"tagKey": "team", "tagValue": "growth"}]
    assert [call.operation for call in personalize_server.calls] == [
        CREATE,
        "DescribeBatchSegmentJob",
        "ListBatchSegmentJobs",
        "ListTagsForResource",
    ]
    assert personalize_server.calls[0].body == request


def test_final_statuses_and_failure_reasons_come_through(
    aws_backend: AwsBackend, manual_clock: ManualClock
) -> None:
    arn = aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())
    manual_clock.advance(70)

    summary = aws_backend.describe_job(BATCH_SEGMENT_JOB, arn).summary

    assert (summary.status, summary.failure_reason, summary.updated_at) == (
        CREATE_FAILED,
        f"no input file under {INPUT_PATH}",
        CREATED + datetime.timedelta(seconds=70),
    )


def test_each_arn_s_region_gets_its_own_client(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    aws_backend.create_job(BATCH_SEGMENT_JOB, job_request("east"))
    aws_backend.create_job(BATCH_SEGMENT_JOB, job_request("west", region="eu-west-1"))
    aws_backend.create_job(BATCH_SEGMENT_JOB, job_request("east-again"))

    west = list(
        aws_backend.list_jobs(
            BATCH_SEGMENT_JOB, partition="aws", region="eu-west-1", account="123456789012"
        )
    )

    assert [job.name for job in west] == ["west"]
    assert sorted(aws_backend.clients.opened()) == [
        ("123456789012", "eu-west-1"),
        ("123456789012", "us-east-1"),
    ]


def test_listing_pages_by_100_and_keeps_to_the_account(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    service = personalize_server.service
    for index in range(150):
        if index % 5 == 0:
            manual_clock.advance(70)
        service.create_batch_segment_job(job_request(f"job-{index:03}"))
    service.create_batch_segment_job(job_request("theirs", account="210987654321"))

    listed = list(
        aws_backend.list_jobs(
            BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account="123456789012"
        )
    )

    assert [job.name for job in listed] == [f"job-{index:03}" for index in reversed(range(150))]
    assert {job.status for job in listed} == {CREATE_FAILED, CREATE_PENDING}
    pages = [call.body for call in personalize_server.calls]
    assert [page.get("maxResults") for page in pages] == [100, 100]
    assert "nextToken" in pages[1]


def test_statuses_are_normalized(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    service = personalize_server.service
    service.create_batch_segment_job(job_request())
    # The API reference's spelling of the unfinished statuses.
    with service.store.transaction() as state:
        state["jobs"][0]["job"]["status"] = "IN PROGRESS"
    manual_clock.advance(1)

    (summary,) = aws_backend.list_jobs(
        BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account="123456789012"
    )

    assert summary.status == "CREATE IN_PROGRESS"


def test_throttling_is_retried(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    personalize_server.throttle(2, operation=CREATE)

    arn = aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())

    assert arn == job_arn("holiday-promo")
    assert personalize_server.count(CREATE) == 3
    assert service_jobs(personalize_server) == ["holiday-promo"]


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException"])
def test_throttling_that_outlasts_the_retries_is_throttled(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer, code: str
) -> None:
    personalize_server.throttle(4, code=code)

    with pytest.raises(Throttled) as raised:
        aws_backend.describe_job(BATCH_SEGMENT_JOB, job_arn("holiday-promo"))

    assert raised.value.message == "Rate exceeded"
    assert personalize_server.count() == 4


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer, status: int
) -> None:
    personalize_server.fail(3, status=status)

    aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())

    assert personalize_server.count(CREATE) == 4
    assert service_jobs(personalize_server) == ["holiday-promo"]


def test_server_errors_that_outlast_the_retries_are_unavailable(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    personalize_server.fail(4, status=503)

    with pytest.raises(Unavailable, match="ServiceUnavailable"):
        aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())

    assert service_jobs(personalize_server) == []


@pytest.mark.parametrize("how", ["error", "close"])
def test_a_lost_create_response_surfaces_as_resource_already_exists(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer, how: str
) -> None:
    personalize_server.lose_response(how="close" if how == "close" else "error")

    with pytest.raises(ResourceAlreadyExists) as raised:
        aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())

    assert raised.value.message == (
        f"Another resource with Arn {job_arn('holiday-promo')} already exists."
    )
    assert personalize_server.count(CREATE) == 2
    assert service_jobs(personalize_server) == ["holiday-promo"]


def test_the_quota_surfaces_as_limit_exceeded(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    for index in range(5):
        aws_backend.create_job(BATCH_SEGMENT_JOB, job_request(f"job-{index}"))
    personalize_server.clear_calls()

    with pytest.raises(LimitExceeded, match="limit of 5 batch segment jobs"):
        aws_backend.create_job(BATCH_SEGMENT_JOB, job_request("sixth"))

    # botocore counts LimitExceededException as throttling and would retry it 3 times: for
    # a create it means 5 jobs in flight, so it surfaces at once (the reconciler waits).
    assert personalize_server.count(CREATE) == 1
    assert len(service_jobs(personalize_server)) == 5


def test_throttling_of_a_create_is_still_retried_and_other_limits_too(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    personalize_server.throttle(1, operation=CREATE)
    personalize_server.throttle(1, operation="ListBatchSegmentJobs", code="LimitExceededException")

    aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())
    jobs = list(
        aws_backend.list_jobs(
            BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account="123456789012"
        )
    )

    assert personalize_server.count(CREATE) == 2
    assert personalize_server.count("ListBatchSegmentJobs") == 2
    assert [job.name for job in jobs] == ["holiday-promo"]


def test_the_service_s_validation_surfaces_as_invalid_input(aws_backend: AwsBackend) -> None:
    # botocore checks types and minimum lengths, not patterns: the service does.
    with pytest.raises(InvalidInput, match="at 'jobName' failed to satisfy constraint"):
        aws_backend.create_job(BATCH_SEGMENT_JOB, job_request("holiday promo"))


def test_botocore_s_validation_surfaces_as_invalid_input(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    request = job_request()
    del request["roleArn"]

    with pytest.raises(InvalidInput, match="Missing required parameter"):
        aws_backend.create_job(BATCH_SEGMENT_JOB, request)

    assert personalize_server.calls == []


def test_unknown_jobs_are_not_found(aws_backend: AwsBackend) -> None:
    with pytest.raises(ResourceNotFound):
        aws_backend.describe_job(BATCH_SEGMENT_JOB, job_arn("nobody"))
    with pytest.raises(ResourceNotFound):
        aws_backend.list_tags(job_arn("nobody"))


def test_an_arn_without_a_region_is_invalid_input(aws_backend: AwsBackend) -> None:
    with pytest.raises(InvalidInput, match="names no region"):
        aws_backend.describe_job(
            BATCH_SEGMENT_JOB, "arn:aws:personalize::123456789012:batch-segment-job/x"
        )


def test_read_timeouts_that_outlast_the_retries_are_unavailable(
    personalize_server: PersonalizeServer, fast_retries: None, boto3_session: boto3.Session
) -> None:
    personalize_server.delay(5, times=2)

    with (
        AwsBackend(
            max_attempts=2,
            read_timeout=0.2,
            endpoint_url=personalize_server.endpoint_url,
            session=boto3_session,
        ) as backend,
        pytest.raises(Unavailable, match="Read timeout"),
    ):
        backend.describe_job(BATCH_SEGMENT_JOB, job_arn("holiday-promo"))

    assert personalize_server.count() == 2


def test_a_slow_answer_within_the_timeout_is_fine(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer
) -> None:
    personalize_server.delay(0.2, operation=CREATE)

    aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())

    assert personalize_server.count(CREATE) == 1


def test_an_endpoint_that_does_not_answer_is_unavailable(
    fast_retries: None, boto3_session: boto3.Session
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with (
        AwsBackend(
            max_attempts=2, endpoint_url=f"http://127.0.0.1:{port}", session=boto3_session
        ) as backend,
        pytest.raises(Unavailable, match="Could not connect to the endpoint URL"),
    ):
        backend.describe_job(BATCH_SEGMENT_JOB, job_arn("holiday-promo"))


def test_credentials_and_endpoint_come_from_the_environment(
    personalize_server: PersonalizeServer,
) -> None:
    # `personalize_server` set AWS_ENDPOINT_URL_PERSONALIZE and dummy credentials.
    with AwsBackend() as backend:
        arn = backend.create_job(BATCH_SEGMENT_JOB, job_request())

    assert arn == job_arn("holiday-promo")
    assert personalize_server.count(CREATE) == 1


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_the_retry_mode_is_selectable(
    personalize_server: PersonalizeServer, boto3_session: boto3.Session, mode: RetryMode
) -> None:
    with AwsBackend(
        retry_mode=mode,
        max_attempts=3,
        endpoint_url=personalize_server.endpoint_url,
        session=boto3_session,
    ) as backend:
        backend.create_job(BATCH_SEGMENT_JOB, job_request())
        client = backend.clients.personalize("123456789012", "us-east-1")
        retries = client.meta.config.retries  # type: ignore[attr-defined]

    assert retries == {"mode": mode, "total_max_attempts": 3}


def test_active_jobs(
    aws_backend: AwsBackend, personalize_server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    (personalize_server.service.s3_root / "acme-personalize/batch/in").mkdir(parents=True)
    (personalize_server.service.s3_root / "acme-personalize/batch/in/items.jsonl").write_text(
        '{"itemId": "105"}\n'
    )
    arn = aws_backend.create_job(BATCH_SEGMENT_JOB, job_request())
    manual_clock.advance(70)

    assert aws_backend.describe_job(BATCH_SEGMENT_JOB, arn).summary.status == ACTIVE
