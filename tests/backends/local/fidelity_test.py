"""The local stand-in against botocore's model and the service (issue 15): messages never
print sensitive values, the status spellings the model documents are understood, a create
is refused as the service refuses it (a missing filter, duplicate tag keys), and members the
model does not have are dropped."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from runner.backends import (
    ACTIVE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    CREATE_PENDING,
    InvalidInput,
    ResourceNotFound,
    normalize_status,
)
from runner.backends.local import model
from runner.backends.local.service import PersonalizeService
from tests.support.job_requests import job_request


def test_a_tag_list_too_long_is_refused_without_its_values() -> None:
    tags = [{"tagKey": f"key{i}", "tagValue": "secret-value"} for i in range(201)]
    errors = model.validate("CreateBatchSegmentJob", job_request(tags=tags))
    assert errors == [
        "Value at 'tags' failed to satisfy constraint: Member must have length less than or "
        "equal to 200"
    ]


def test_a_bad_tag_value_is_refused_without_it() -> None:
    errors = model.validate(
        "CreateBatchSegmentJob", job_request(tags=[{"tagKey": "team", "tagValue": "€uro"}])
    )
    assert len(errors) == 1
    assert errors[0].startswith("Value at 'tags.1.member.tagValue' failed to satisfy")
    assert "€uro" not in errors[0]


def test_the_statuses_the_model_documents_are_understood() -> None:
    shapes = model.service_model()["shapes"]
    documented = set()
    for shape in ("BatchSegmentJob", "BatchSegmentJobSummary"):
        text = shapes[shape]["members"]["status"]["documentation"]
        documented |= set(re.findall(r"<p>([A-Z][A-Z _]+)</p>", text))
    # The model spells the unfinished ones PENDING and IN PROGRESS; the stand-in reports
    # the developer guide's CREATE PENDING and CREATE IN_PROGRESS: both are read alike.
    assert documented == {"PENDING", "IN PROGRESS", "ACTIVE", "CREATE FAILED"}
    assert {normalize_status(status) for status in documented} == {
        CREATE_PENDING,
        CREATE_IN_PROGRESS,
        ACTIVE,
        CREATE_FAILED,
    }


FILTER = "arn:aws:personalize:us-east-1:123456789012:filter/exclude-churned"


def _service(tmp_path: Path, *, filters: set[str]) -> PersonalizeService:
    return PersonalizeService.in_memory(s3_root=tmp_path, filters=filters.__contains__)


def test_a_missing_filter_is_refused_at_create(tmp_path: Path) -> None:
    service = _service(tmp_path, filters=set())
    request = job_request(filterArn=FILTER)
    with pytest.raises(ResourceNotFound, match=f"Could not find filter: {FILTER}"):
        service.create_batch_segment_job(request)
    assert service.list_batch_segment_jobs({})["batchSegmentJobs"] == []
    known = _service(tmp_path, filters={FILTER})
    arn = known.create_batch_segment_job(request)["batchSegmentJobArn"]
    described = known.describe_batch_segment_job({"batchSegmentJobArn": arn})
    assert described["batchSegmentJob"]["filterArn"] == FILTER


def test_duplicate_tag_keys_in_one_request_are_refused(tmp_path: Path) -> None:
    service = _service(tmp_path, filters=set())
    tags = [
        {"tagKey": "team", "tagValue": "growth"},
        {"tagKey": "cost", "tagValue": "1"},
        {"tagKey": "team", "tagValue": "churn"},
    ]
    with pytest.raises(InvalidInput, match="Duplicate tag keys in the request: team"):
        service.create_batch_segment_job(job_request(tags=tags))
    arn = service.create_batch_segment_job(job_request(tags=tags[:2]))["batchSegmentJobArn"]
    with pytest.raises(InvalidInput, match="Duplicate tag keys in the request: team"):
        service.tag_resource({"resourceArn": arn, "tags": [tags[0], tags[2]]})
    assert service.list_tags_for_resource({"resourceArn": arn})["tags"] == tags[:2]


def test_members_the_model_does_not_have_are_dropped(tmp_path: Path) -> None:
    service = _service(tmp_path, filters=set())
    request: dict[str, Any] = job_request()
    request["jobInput"] = {"s3DataSource": {**request["jobInput"]["s3DataSource"], "x": 1}}
    request["jobOutput"] = {**request["jobOutput"], "extra": {"y": 2}}
    request["clientToken"] = "abc"
    arn = service.create_batch_segment_job(request)["batchSegmentJobArn"]
    job = service.describe_batch_segment_job({"batchSegmentJobArn": arn})["batchSegmentJob"]
    assert job["jobInput"] == job_request()["jobInput"]
    assert job["jobOutput"] == job_request()["jobOutput"]
    assert "clientToken" not in job
