"""Batch inference jobs on both backends: the local one, and the aws one through a real
boto3 client against the HTTP stand-in. Create (tags at creation), describe, list, the
service's checks of the inference fields, and names shared with segment jobs."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from runner.backends import CREATE_FAILED, CREATE_PENDING, Backend, InvalidInput, JobSummary
from runner.backends.aws import AwsBackend
from runner.backends.local import LocalBackend
from runner.backends.local.jobs import CHECKS
from runner.backends.local.service import PersonalizeService
from runner.kinds import BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB
from tests.support.clock import EPOCH, ManualClock
from tests.support.job_requests import job_arn, job_request, solution_version_arn, write_items

CREATED = datetime.datetime.fromtimestamp(EPOCH, tz=datetime.UTC)
SCOPE = {"partition": "aws", "region": "us-east-1", "account": "123456789012"}


def full_request(name: str = "nightly-recs") -> dict[str, Any]:
    """Every field of `CreateBatchInferenceJob`."""
    return job_request(
        name,
        filterArn="arn:aws:personalize:us-east-1:123456789012:filter/not-purchased",
        numResults=50,
        batchInferenceJobConfig={
            "itemExplorationConfig": {"explorationWeight": "0.3"},
            "rankingInfluence": {"POPULARITY": 0.5, "FRESHNESS": 1.0},
        },
        batchInferenceJobMode="BATCH_INFERENCE",
        tags=[{"tagKey": "team", "tagValue": "growth"}],
    )


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest, local_backend: LocalBackend) -> Backend:
    if request.param == "local":
        return local_backend
    aws: AwsBackend = request.getfixturevalue("aws_backend")
    return aws


def test_create_describe_list_and_tags(backend: Backend) -> None:
    request = full_request()

    arn = backend.create_job(BATCH_INFERENCE_JOB, request)
    description = backend.describe_job(BATCH_INFERENCE_JOB, arn)
    listed = list(backend.list_jobs(BATCH_INFERENCE_JOB, **SCOPE))

    summary = JobSummary(
        name="nightly-recs",
        arn=job_arn("nightly-recs", kind=BATCH_INFERENCE_JOB),
        status=CREATE_PENDING,
        solution_version_arn=solution_version_arn(),
        created_at=CREATED,
        updated_at=CREATED,
    )
    assert arn == "arn:aws:personalize:us-east-1:123456789012:batch-inference-job/nightly-recs"
    assert description.summary == summary
    assert description.request == {key: value for key, value in request.items() if key != "tags"}
    assert listed == [summary]
    # The tags were given at creation: no TagResource.
    assert backend.list_tags(arn) == [{"tagKey": "team", "tagValue": "growth"}]
    assert list(backend.list_jobs(BATCH_SEGMENT_JOB, **SCOPE)) == []


def test_the_service_fills_in_the_mode_and_the_number_of_results(backend: Backend) -> None:
    arn = backend.create_job(BATCH_INFERENCE_JOB, job_request("plain"))

    request = backend.describe_job(BATCH_INFERENCE_JOB, arn).request

    assert (request["numResults"], request["batchInferenceJobMode"]) == (25, "BATCH_INFERENCE")


def test_a_segment_job_and_an_inference_job_may_share_a_name(backend: Backend) -> None:
    segment = backend.create_job(BATCH_SEGMENT_JOB, job_request("promo"))
    inference = backend.create_job(BATCH_INFERENCE_JOB, job_request("promo"))

    assert (segment, inference) == (
        job_arn("promo"),
        job_arn("promo", kind=BATCH_INFERENCE_JOB),
    )
    assert [job.arn for job in backend.list_jobs(BATCH_SEGMENT_JOB, **SCOPE)] == [segment]
    assert [job.arn for job in backend.list_jobs(BATCH_INFERENCE_JOB, **SCOPE)] == [inference]


def test_the_inference_fields_are_checked_as_the_service_checks_them(
    local_backend: LocalBackend,
) -> None:
    request = job_request(
        "bad",
        batchInferenceJobConfig={"rankingInfluence": {"POPULARITY": 1.5, "RECENCY": 0.1}},
        batchInferenceJobMode="THEMES",
    )

    with pytest.raises(InvalidInput) as refused:
        local_backend.create_job(BATCH_INFERENCE_JOB, request)

    assert str(refused.value) == (
        "InvalidInputException: 3 validation errors detected: Value '1.5' at "
        "'batchInferenceJobConfig.rankingInfluence.POPULARITY' failed to satisfy constraint: "
        "Member must have value less than or equal to 1; Value 'RECENCY' at "
        "'batchInferenceJobConfig.rankingInfluence' failed to satisfy constraint: Member must "
        "satisfy enum value set: [POPULARITY, FRESHNESS]; Value 'THEMES' at "
        "'batchInferenceJobMode' failed to satisfy constraint: Member must satisfy enum value "
        "set: [BATCH_INFERENCE, THEME_GENERATION]"
    )


def test_a_raised_quota_lets_more_jobs_run(s3_root: Path, manual_clock: ManualClock) -> None:
    service = PersonalizeService.in_memory(
        s3_root=s3_root, clock=manual_clock, quotas={"BatchInferenceJob": 7}
    )
    backend = LocalBackend(service)
    for index in range(7):
        backend.create_job(BATCH_INFERENCE_JOB, job_request(f"recs-{index}"))
        if index < 5:
            backend.create_job(BATCH_SEGMENT_JOB, job_request(f"segment-{index}"))
    with pytest.raises(Exception, match="the limit of 7 batch inference jobs"):
        backend.create_job(BATCH_INFERENCE_JOB, job_request("recs-7"))
    with pytest.raises(Exception, match="the limit of 5 batch segment jobs"):
        backend.create_job(BATCH_SEGMENT_JOB, job_request("segment-5"))


def test_a_theme_generation_job_fails_locally_with_the_reason(
    s3_root: Path, manual_clock: ManualClock
) -> None:
    write_items(s3_root)
    service = PersonalizeService.in_memory(s3_root=s3_root, clock=manual_clock, runners=CHECKS)
    backend = LocalBackend(service)
    theme = job_request(
        "themes",
        batchInferenceJobMode="THEME_GENERATION",
        themeGenerationConfig={"fieldsForThemeGeneration": {"itemName": "TITLE"}},
    )
    themes = backend.create_job(BATCH_INFERENCE_JOB, theme)
    plain = backend.create_job(BATCH_INFERENCE_JOB, job_request("plain"))
    manual_clock.advance(60)

    failed = backend.describe_job(BATCH_INFERENCE_JOB, themes).summary

    assert (failed.status, failed.failure_reason) == (
        CREATE_FAILED,
        "theme generation is not available locally: its themes come from the service's "
        "generative model (Content Generator); use batchInferenceJobMode BATCH_INFERENCE",
    )
    assert backend.describe_job(BATCH_INFERENCE_JOB, plain).summary.status == "ACTIVE"
