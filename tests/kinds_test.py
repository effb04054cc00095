from __future__ import annotations

import pytest

from runner.kinds import (
    BATCH_INFERENCE_JOB,
    BATCH_SEGMENT_JOB,
    DEFAULT_KIND,
    KINDS,
    JobKind,
    kind_named,
    kind_of_arn,
    split_key,
)


def test_the_job_arn_follows_the_solution_version() -> None:
    assert BATCH_SEGMENT_JOB.job_arn_for(
        "arn:aws-cn:personalize:cn-north-1:123456789012:solution/a/b", "promo"
    ) == ("arn:aws-cn:personalize:cn-north-1:123456789012:batch-segment-job/promo")
    assert BATCH_SEGMENT_JOB.job_arn("aws", "eu-west-1", "123456789012", "promo") == (
        "arn:aws:personalize:eu-west-1:123456789012:batch-segment-job/promo"
    )


def test_kinds_are_found_by_name_and_by_arn() -> None:
    assert kind_named("BatchSegmentJob") is BATCH_SEGMENT_JOB
    assert kind_of_arn("arn:aws:personalize:r:1:batch-segment-job/promo") is BATCH_SEGMENT_JOB
    # Records written before kinds were recorded are batch segment jobs.
    assert kind_of_arn("not an arn") is DEFAULT_KIND is BATCH_SEGMENT_JOB
    assert kind_named("BatchInferenceJob") is BATCH_INFERENCE_JOB
    assert kind_of_arn("arn:aws:personalize:r:1:batch-inference-job/promo") is BATCH_INFERENCE_JOB
    with pytest.raises(KeyError):
        kind_named("NoSuchJob")


def test_jobs_of_two_kinds_may_share_a_name_but_not_a_key() -> None:
    # Segment jobs keep the keys that states gave them before there were other kinds.
    assert BATCH_SEGMENT_JOB.key("promo") == "promo"
    assert BATCH_INFERENCE_JOB.key("promo") == "batch-inference-job/promo"
    assert split_key("promo") == (BATCH_SEGMENT_JOB, "promo")
    assert split_key("batch-inference-job/promo") == (BATCH_INFERENCE_JOB, "promo")
    for bad in ("batch-segment-job/promo", "campaign/promo"):
        with pytest.raises(ValueError, match="is not the key of a job"):
            split_key(bad)


def test_only_the_inference_quota_is_a_setting() -> None:
    # At most 5 of each in flight per region; the service lets inference's be raised.
    assert (BATCH_SEGMENT_JOB.quota, BATCH_SEGMENT_JOB.quota_setting) == (5, None)
    assert (BATCH_INFERENCE_JOB.quota, BATCH_INFERENCE_JOB.quota_setting) == (
        5,
        "batch_inference_jobs",
    )


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_each_kind_names_its_operations_and_keys_consistently(kind: JobKind) -> None:
    noun = kind.name
    assert kind.create_operation == f"Create{noun}"
    assert kind.describe_operation == f"Describe{noun}"
    assert kind.list_operation == f"List{noun}s"
    lower = noun[0].lower() + noun[1:]
    assert (kind.arn_key, kind.describe_key, kind.list_key) == (
        f"{lower}Arn",
        lower,
        f"{lower}s",
    )
    assert kind.quota == 5
    assert "jobName" in kind.request_fields
    assert set(kind.request_defaults) <= set(kind.request_fields)
    # Kinds key the quota slots and the listings.
    assert {(kind, "scope"): 1}[kind, "scope"] == 1
