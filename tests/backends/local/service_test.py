from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from runner.backends import (
    ACTIVE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    CREATE_PENDING,
    InvalidInput,
    InvalidNextToken,
    LimitExceeded,
    ResourceAlreadyExists,
    ResourceNotFound,
    TooManyTags,
)
from runner.backends.local.service import PersonalizeService
from runner.errors import BackendError
from tests.support.clock import EPOCH, ManualClock
from tests.support.job_requests import (
    INPUT_PATH,
    job_arn,
    job_request,
    solution_version_arn,
    write_items,
)


def create(service: PersonalizeService, request: Mapping[str, Any]) -> str:
    return str(service.create_batch_segment_job(request)["batchSegmentJobArn"])


def describe(service: PersonalizeService, arn: str) -> dict[str, Any]:
    job: dict[str, Any] = service.describe_batch_segment_job({"batchSegmentJobArn": arn})[
        "batchSegmentJob"
    ]
    return job


def test_create_answers_the_arn_of_the_account_and_region_of_the_solution_version(
    local_service: PersonalizeService,
) -> None:
    body = local_service.create_batch_segment_job(
        job_request("promo", region="cn-north-1", account="210987654321", partition="aws-cn")
    )

    assert body == {
        "batchSegmentJobArn": (
            "arn:aws-cn:personalize:cn-north-1:210987654321:batch-segment-job/promo"
        )
    }


def test_describe_reports_the_request_and_defaults_num_results_to_25(
    local_service: PersonalizeService,
) -> None:
    request = job_request("promo", filterArn="arn:aws:personalize:us-east-1:1:filter/f")

    job = describe(local_service, create(local_service, request))

    assert job == {
        **request,
        "numResults": 25,
        "batchSegmentJobArn": job_arn("promo"),
        "status": CREATE_PENDING,
        "creationDateTime": EPOCH,
        "lastUpdatedDateTime": EPOCH,
    }


V = "failed to satisfy constraint: Member must"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"jobName": None},
            f"1 validation error detected: Value null at 'jobName' {V} not be null",
            id="missing",
        ),
        pytest.param(
            {"jobName": "a" * 64},
            f"1 validation error detected: Value '{'a' * 64}' at 'jobName' {V} have length "
            "less than or equal to 63",
            id="too-long",
        ),
        pytest.param(
            {"jobName": "holiday promo"},
            f"1 validation error detected: Value 'holiday promo' at 'jobName' {V} satisfy "
            r"regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\-_]*",
            id="pattern-whole-value",
        ),
        pytest.param(
            {"jobName": ""},
            f"2 validation errors detected: Value '' at 'jobName' {V} have length greater than "
            f"or equal to 1; Value '' at 'jobName' {V} satisfy regular expression pattern: "
            r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*",
            id="empty",
        ),
        pytest.param(
            {"numResults": "25"},
            f"1 validation error detected: Value '25' at 'numResults' {V} be an integer",
            id="integer",
        ),
        pytest.param(
            {"numResults": True},
            f"1 validation error detected: Value 'true' at 'numResults' {V} be an integer",
            id="boolean-is-no-integer",
        ),
        pytest.param(
            {"jobInput": {}},
            f"1 validation error detected: Value null at 'jobInput.s3DataSource' {V} not be null",
            id="nested",
        ),
        pytest.param(
            {"jobOutput": {"s3DataDestination": {"path": "ftp://bucket/out/"}}},
            "1 validation error detected: Value 'ftp://bucket/out/' at "
            f"'jobOutput.s3DataDestination.path' {V} satisfy regular expression pattern: "
            "(s3|http|https)://.+",
            id="s3-location",
        ),
        pytest.param(
            {"roleArn": "arn:aws:iam::12345:role/R"},
            f"1 validation error detected: Value 'arn:aws:iam::12345:role/R' at 'roleArn' {V} "
            r"satisfy regular expression pattern: arn:([a-z\d-]+):iam::\d{12}:role/?"
            r"[a-zA-Z_0-9+=,.@\-_/]+",
            id="role-arn",
        ),
        pytest.param(
            {"tags": [{"tagKey": "team", "tagValue": "growth"}, {"tagKey": "a!", "tagValue": ""}]},
            f"1 validation error detected: Value at 'tags.2.member.tagKey' {V} satisfy regular "
            r"expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
            id="tag-key-sensitive",
        ),
        pytest.param(
            {"tags": [{"tagKey": "team"}]},
            f"1 validation error detected: Value null at 'tags.1.member.tagValue' {V} not be null",
            id="tag-value-missing",
        ),
        pytest.param(
            {"tags": {"team": "growth"}},
            # A tag list holds sensitive values: the message never prints them.
            f"1 validation error detected: Value at 'tags' {V} be a list",
            id="list",
        ),
        pytest.param(
            {"jobName": None, "roleArn": None},
            f"2 validation errors detected: Value null at 'jobName' {V} not be null; "
            f"Value null at 'roleArn' {V} not be null",
            id="several",
        ),
    ],
)
def test_create_validates_the_request_against_the_api_model(
    local_service: PersonalizeService, fields: dict[str, Any], message: str
) -> None:
    request = {key: value for key, value in job_request(**fields).items() if value is not None}

    with pytest.raises(InvalidInput) as raised:
        local_service.create_batch_segment_job(request)

    assert raised.value.message == message


def test_more_than_200_tags_are_refused(local_service: PersonalizeService) -> None:
    tags = [{"tagKey": f"k{index}", "tagValue": "v"} for index in range(201)]

    with pytest.raises(InvalidInput, match=f"at 'tags' {V} have length less than or equal to 200"):
        local_service.create_batch_segment_job(job_request(tags=tags))


@pytest.mark.parametrize(
    "key",
    [
        "équipe",
        "коман да",  # a letter and a space of other scripts
        "チーム\u3000名",  # ideographic space: \p{Z}
        "stage٣",  # Arabic-Indic digit three: \p{N}
        "Ⅻ",  # Roman numeral twelve: \p{N} (Nl)
        "a_b.c:d/e=f+g-h@i",
    ],
)
def test_tag_keys_may_hold_any_letter_space_or_number(
    local_service: PersonalizeService, key: str
) -> None:
    arn = create(local_service, job_request(tags=[{"tagKey": key, "tagValue": key}]))

    assert local_service.list_tags_for_resource({"resourceArn": arn}) == {
        "tags": [{"tagKey": key, "tagValue": key}]
    }


@pytest.mark.parametrize(
    "key",
    [
        "soft\u00adhyphen",  # a format character, not a letter
        "tab\tstop",  # a control character, not \p{Z}
        "emoji\U0001f600",  # a symbol
        "a!",
    ],
)
def test_tag_keys_may_hold_nothing_else(local_service: PersonalizeService, key: str) -> None:
    with pytest.raises(InvalidInput, match=r"at 'tags\.1\.member\.tagKey'"):
        local_service.create_batch_segment_job(job_request(tags=[{"tagKey": key, "tagValue": "v"}]))


def test_tag_keys_starting_with_aws_are_reserved(local_service: PersonalizeService) -> None:
    with pytest.raises(InvalidInput, match="the prefix aws: is reserved"):
        local_service.create_batch_segment_job(
            job_request(tags=[{"tagKey": "AWS:team", "tagValue": "v"}])
        )


def test_a_solution_arn_is_not_a_solution_version_arn(local_service: PersonalizeService) -> None:
    request = job_request(
        solutionVersionArn="arn:aws:personalize:us-east-1:123456789012:solution/item-affinity"
    )

    with pytest.raises(InvalidInput) as raised:
        local_service.create_batch_segment_job(request)

    assert raised.value.message == (
        "Provide a valid solution version ARN: "
        "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity"
    )


def test_unknown_solution_versions_are_not_found(
    local_root: Path, manual_clock: ManualClock
) -> None:
    known = solution_version_arn(region="eu-west-1")
    service = PersonalizeService.in_folder(
        local_root, clock=manual_clock, solution_versions=lambda arn: arn == known
    )

    create(service, job_request(region="eu-west-1"))
    with pytest.raises(ResourceNotFound) as raised:
        create(service, job_request())

    assert raised.value.message == f"Could not find solution version: {solution_version_arn()}"


def test_names_are_unique_per_account_and_region(local_service: PersonalizeService) -> None:
    create(local_service, job_request("promo"))
    create(local_service, job_request("promo", region="eu-west-1"))
    create(local_service, job_request("promo", account="210987654321"))

    with pytest.raises(ResourceAlreadyExists) as raised:
        create(local_service, job_request("promo", numResults=10))

    assert raised.value.message == f"Another resource with Arn {job_arn('promo')} already exists."


def test_names_stay_taken_after_the_job_finished(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    arn = create(local_service, job_request("promo"))
    manual_clock.advance(70)
    assert describe(local_service, arn)["status"] == CREATE_FAILED

    with pytest.raises(ResourceAlreadyExists):
        create(local_service, job_request("promo"))


def test_at_most_5_jobs_per_region_are_pending_or_in_progress(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    for index in range(3):
        create(local_service, job_request(f"first-{index}"))
    manual_clock.advance(10)  # the first three are in progress
    for index in range(2):
        create(local_service, job_request(f"second-{index}"))

    with pytest.raises(LimitExceeded) as raised:
        create(local_service, job_request("sixth"))
    create(local_service, job_request("elsewhere", region="eu-west-1"))
    create(local_service, job_request("other-account", account="210987654321"))

    assert raised.value.message == (
        "You have reached the limit of 5 batch segment jobs in CREATE PENDING or "
        "CREATE IN_PROGRESS status in us-east-1. Wait for a job to finish and try again."
    )
    listed = local_service.list_batch_segment_jobs({}, region="us-east-1", account="123456789012")[
        "batchSegmentJobs"
    ]
    assert len(listed) == 5


def test_finished_jobs_free_their_slot(
    local_service: PersonalizeService, manual_clock: ManualClock, s3_root: Path
) -> None:
    write_items(s3_root)
    for index in range(3):
        create(local_service, job_request(f"first-{index}"))
    manual_clock.advance(30)
    for index in range(2):
        create(local_service, job_request(f"second-{index}"))
    with pytest.raises(LimitExceeded):
        create(local_service, job_request("sixth"))

    manual_clock.advance(40)  # the first three finished: one ACTIVE, ...

    for index in range(3):
        create(local_service, job_request(f"third-{index}"))
    with pytest.raises(LimitExceeded):
        create(local_service, job_request("sixth"))


def test_a_job_pends_then_runs_then_is_active(
    local_service: PersonalizeService, manual_clock: ManualClock, s3_root: Path
) -> None:
    write_items(s3_root, items=["105", "106"])
    arn = create(local_service, job_request())
    seen = []
    for seconds in (0, 9.5, 0.5, 59.5, 0.5, 100):
        manual_clock.advance(seconds)
        job = describe(local_service, arn)
        seen.append((job["status"], job["lastUpdatedDateTime"] - EPOCH))

    assert seen == [
        (CREATE_PENDING, 0),
        (CREATE_PENDING, 0),
        (CREATE_IN_PROGRESS, 10),
        (CREATE_IN_PROGRESS, 10),
        (ACTIVE, 70),
        (ACTIVE, 70),
    ]
    assert "failureReason" not in describe(local_service, arn)


def test_a_job_that_is_read_late_goes_through_every_status_at_once(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    arn = create(local_service, job_request())
    manual_clock.advance(3600)

    job = describe(local_service, arn)

    assert (job["status"], job["lastUpdatedDateTime"], job["creationDateTime"]) == (
        CREATE_FAILED,
        EPOCH + 70,
        EPOCH,
    )
    assert job["failureReason"] == f"no input file under {INPUT_PATH}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", f"Input data at {INPUT_PATH} is empty: it has no JSON records."),
        ("\n\n", f"Input data at {INPUT_PATH} is empty: it has no JSON records."),
        (
            '{"itemId": "105"}\n{"itemId": \n',
            f"Invalid input data in {INPUT_PATH} at line 2: the input must be JSON Lines, "
            "one JSON object per line.",
        ),
        (
            '["105"]\n',
            f"Invalid input data in {INPUT_PATH} at line 1: the input must be JSON Lines, "
            "one JSON object per line.",
        ),
        (
            '[{"itemId": "105"}, {"itemId": "106"}]',
            f"Invalid input data in {INPUT_PATH} at line 1: the input must be JSON Lines, "
            "one JSON object per line.",
        ),
    ],
)
def test_a_job_over_bad_input_fails(
    local_service: PersonalizeService,
    manual_clock: ManualClock,
    s3_root: Path,
    content: str,
    reason: str,
) -> None:
    (s3_root / "acme-personalize/batch/in").mkdir(parents=True)
    (s3_root / "acme-personalize/batch/in/items.jsonl").write_text(content)
    arn = create(local_service, job_request())
    manual_clock.advance(70)

    job = describe(local_service, arn)

    assert (job["status"], job["failureReason"]) == (CREATE_FAILED, reason)


def test_failed_jobs_are_listed_with_their_reason(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    create(local_service, job_request())
    manual_clock.advance(70)

    (summary,) = local_service.list_batch_segment_jobs({})["batchSegmentJobs"]

    assert summary == {
        "batchSegmentJobArn": job_arn("holiday-promo"),
        "jobName": "holiday-promo",
        "status": CREATE_FAILED,
        "creationDateTime": EPOCH,
        "lastUpdatedDateTime": EPOCH + 70,
        "failureReason": f"no input file under {INPUT_PATH}",
        "solutionVersionArn": solution_version_arn(),
    }


def test_jobs_run_through_the_job_runner_once(local_root: Path, manual_clock: ManualClock) -> None:
    runs: list[tuple[Mapping[str, Any], Path]] = []

    def run_job(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
        runs.append((request, s3_root))
        return None

    service = PersonalizeService.in_folder(
        local_root, clock=manual_clock, pending_seconds=1, running_seconds=2, run_job=run_job
    )
    arn = create(service, job_request(tags=[{"tagKey": "team", "tagValue": "growth"}]))
    manual_clock.advance(3)
    for _ in range(3):
        assert describe(service, arn)["status"] == ACTIVE

    assert runs == [
        (
            job_request(numResults=25),
            local_root / "s3",
        )
    ]


def paged(service: PersonalizeService, **request: Any) -> list[list[str]]:
    pages = []
    while True:
        body = service.list_batch_segment_jobs(request, region="us-east-1")
        pages.append([summary["jobName"] for summary in body["batchSegmentJobs"]])
        if "nextToken" not in body:
            return pages
        request["nextToken"] = body["nextToken"]


def test_listing_pages_newest_first(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    for index in range(7):
        create(local_service, job_request(f"job-{index}"))
        create(local_service, job_request(f"elsewhere-{index}", region="eu-west-1"))
        manual_clock.advance(70)

    assert paged(local_service, maxResults=3) == [
        ["job-6", "job-5", "job-4"],
        ["job-3", "job-2", "job-1"],
        ["job-0"],
    ]
    assert paged(local_service) == [[f"job-{index}" for index in reversed(range(7))]]


def test_listing_pages_do_not_move_when_jobs_are_added(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    for index in range(4):
        create(local_service, job_request(f"job-{index}"))
        manual_clock.advance(1)
    first = local_service.list_batch_segment_jobs({"maxResults": 2})
    create(local_service, job_request("job-new"))

    second = local_service.list_batch_segment_jobs(
        {"maxResults": 2, "nextToken": first["nextToken"]}
    )

    assert [job["jobName"] for job in second["batchSegmentJobs"]] == ["job-1", "job-0"]
    assert "nextToken" not in second


def test_listing_filters_by_solution_version(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    other = solution_version_arn().replace("4fd8ee1c", "5ae9ff2d")
    create(local_service, job_request("mine"))
    create(local_service, job_request("theirs", solutionVersionArn=other))

    body = local_service.list_batch_segment_jobs({"solutionVersionArn": other})

    assert [job["jobName"] for job in body["batchSegmentJobs"]] == ["theirs"]


@pytest.mark.parametrize(
    ("request_body", "error", "message"),
    [
        (
            {"maxResults": 101},
            InvalidInput,
            f"1 validation error detected: Value '101' at 'maxResults' {V} have value less "
            "than or equal to 100",
        ),
        (
            {"maxResults": 0},
            InvalidInput,
            f"1 validation error detected: Value '0' at 'maxResults' {V} have value greater "
            "than or equal to 1",
        ),
        (
            {"nextToken": "not-a-token"},
            InvalidNextToken,
            "The nextToken is not valid: not-a-token",
        ),
        (
            {"nextToken": "é"},
            InvalidInput,
            f"1 validation error detected: Value 'é' at 'nextToken' {V} satisfy regular "
            r"expression pattern: \p{ASCII}{0,1500}",
        ),
    ],
)
def test_listing_refuses_bad_paging(
    local_service: PersonalizeService,
    request_body: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error) as raised:
        local_service.list_batch_segment_jobs(request_body)

    assert getattr(raised.value, "message", None) == message


def test_a_token_belongs_to_its_listing(
    local_service: PersonalizeService, manual_clock: ManualClock
) -> None:
    for index in range(2):
        create(local_service, job_request(f"job-{index}"))
    token = local_service.list_batch_segment_jobs({"maxResults": 1})["nextToken"]

    with pytest.raises(InvalidNextToken):
        local_service.list_batch_segment_jobs(
            {"nextToken": token, "solutionVersionArn": solution_version_arn()}
        )


def test_unknown_jobs_are_not_found(local_service: PersonalizeService) -> None:
    arn = job_arn("nobody")

    with pytest.raises(ResourceNotFound) as raised:
        describe(local_service, arn)
    with pytest.raises(ResourceNotFound):
        local_service.list_tags_for_resource({"resourceArn": arn})

    assert raised.value.message == f"Could not find resource with Arn {arn}."


def test_tag_resource_adds_and_replaces_tags(local_service: PersonalizeService) -> None:
    arn = create(local_service, job_request(tags=[{"tagKey": "team", "tagValue": "growth"}]))

    local_service.tag_resource(
        {
            "resourceArn": arn,
            "tags": [{"tagKey": "team", "tagValue": "data"}, {"tagKey": "cost", "tagValue": "7"}],
        }
    )

    assert local_service.list_tags_for_resource({"resourceArn": arn})["tags"] == [
        {"tagKey": "team", "tagValue": "data"},
        {"tagKey": "cost", "tagValue": "7"},
    ]


def test_tag_resource_keeps_to_200_tags(local_service: PersonalizeService) -> None:
    tags = [{"tagKey": f"k{index}", "tagValue": "v"} for index in range(200)]
    arn = create(local_service, job_request(tags=tags))

    with pytest.raises(TooManyTags):
        local_service.tag_resource({"resourceArn": arn, "tags": [{"tagKey": "x", "tagValue": ""}]})


def test_call_dispatches_by_operation_name(local_service: PersonalizeService) -> None:
    arn = local_service.call("CreateBatchSegmentJob", job_request())["batchSegmentJobArn"]

    assert local_service.call("ListBatchSegmentJobs", {}, region="eu-west-1") == {
        "batchSegmentJobs": []
    }
    assert local_service.call("DescribeBatchSegmentJob", {"batchSegmentJobArn": arn})[
        "batchSegmentJob"
    ]["jobName"] == ("holiday-promo")


def test_jobs_persist_across_instances(
    local_root: Path, manual_clock: ManualClock, s3_root: Path
) -> None:
    write_items(s3_root)
    first = PersonalizeService.in_folder(local_root, clock=manual_clock)
    arn = create(first, job_request(tags=[{"tagKey": "team", "tagValue": "growth"}]))
    manual_clock.advance(60)

    second = PersonalizeService.in_folder(local_root, clock=manual_clock)

    assert describe(second, arn)["status"] == ACTIVE
    assert second.list_tags_for_resource({"resourceArn": arn})["tags"] == [
        {"tagKey": "team", "tagValue": "growth"}
    ]
    with pytest.raises(ResourceAlreadyExists):
        create(second, job_request())
    state = json.loads((local_root / "service/jobs.json").read_text())
    assert state["formatVersion"] == 1
    assert [record["job"]["status"] for record in state["jobs"]] == [ACTIVE]


def test_progress_is_saved_even_when_the_call_fails(
    local_service: PersonalizeService, manual_clock: ManualClock, local_root: Path
) -> None:
    create(local_service, job_request())
    manual_clock.advance(70)

    with pytest.raises(ResourceNotFound):
        describe(local_service, job_arn("nobody"))

    state = json.loads((local_root / "service/jobs.json").read_text())
    assert [record["job"]["status"] for record in state["jobs"]] == [CREATE_FAILED]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not valid JSON"),
        ('{"formatVersion": 1}', "not a local service state"),
        ('{"formatVersion": 9, "jobs": []}', "format version 9, this runner reads version 1"),
    ],
)
def test_an_unreadable_state_stops_with_a_clear_message(
    local_service: PersonalizeService, local_root: Path, content: str, why: str
) -> None:
    (local_root / "service").mkdir(parents=True)
    (local_root / "service/jobs.json").write_text(content)

    with pytest.raises(BackendError) as raised:
        local_service.list_batch_segment_jobs({})

    assert str(raised.value).startswith(
        f"The local service's state {local_root / 'service/jobs.json'} cannot be read: {why}"
    )
    assert (local_root / "service/jobs.json").read_text() == content


def test_an_in_memory_service_writes_no_files(tmp_path: Path, manual_clock: ManualClock) -> None:
    service = PersonalizeService.in_memory(s3_root=tmp_path / "s3", clock=manual_clock)
    arn = create(service, job_request())

    assert describe(service, arn)["status"] == CREATE_PENDING
    assert list(tmp_path.iterdir()) == []
