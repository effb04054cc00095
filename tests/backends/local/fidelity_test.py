"""The local stand-in against botocore's model (issue 15): messages never print sensitive
values, and the status spellings the model documents are understood."""

from __future__ import annotations

import re

from runner.backends import (
    ACTIVE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    CREATE_PENDING,
    normalize_status,
)
from runner.backends.local import model
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
