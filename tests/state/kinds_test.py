"""Records of every kind of job in one state: a batch segment job and a batch inference job
may share a name, so a record's key is its kind's (`JobKind.key`); records carry their kind,
and the records of states written before there were other kinds are batch segment jobs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.errors import StateError
from runner.kinds import BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB, JobKind
from runner.state import JobRecord, State
from tests.state.support import LINEAGE, make_record

INFERENCE_ARN = "arn:aws:personalize:us-east-1:123456789012:batch-inference-job/promo"


def inference_record(name: str = "promo") -> JobRecord:
    return make_record(
        name,
        arn=BATCH_INFERENCE_JOB.job_arn("aws", "us-east-1", "123456789012", name),
        kind=BATCH_INFERENCE_JOB.name,
        period="2026-11-30T06:00:00+01:00",
    )


def test_jobs_of_two_kinds_with_one_name_are_two_records() -> None:
    state = State.new().with_jobs([make_record("promo"), inference_record()])

    data = state.to_json()

    assert sorted(state.jobs) == ["batch-inference-job/promo", "promo"]
    jobs = json.loads(data)["jobs"]
    # The kind is written for the other kinds; segment records keep their old form.
    assert jobs["batch-inference-job/promo"]["kind"] == "BatchInferenceJob"
    assert "kind" not in jobs["promo"]
    read = State.from_json(data, source="test")
    assert read == state
    assert {key: record.kind for key, record in read.jobs.items()} == {
        "promo": "BatchSegmentJob",
        "batch-inference-job/promo": "BatchInferenceJob",
    }
    assert read.jobs["batch-inference-job/promo"].name == "promo"
    assert read.without_job("promo").jobs.keys() == {"batch-inference-job/promo"}


def test_records_of_older_states_are_batch_segment_jobs() -> None:
    old = State(format_version=2, lineage=LINEAGE, serial=3, jobs={"promo": make_record("promo")})

    read = State.from_json(old.to_json(), source="test")

    assert read.jobs["promo"].kind == BATCH_SEGMENT_JOB.name
    assert read.jobs["promo"].key == "promo"
    # The first change writes the newest format, which may hold other kinds.
    assert read.with_job(inference_record()).format_version == 3


def _state_with(key: str, record: dict[str, object], *, version: int = 3) -> bytes:
    return json.dumps(
        {"format_version": version, "jobs": {key: record}, "lineage": LINEAGE, "serial": 1}
    ).encode()


def _inference_json() -> dict[str, object]:
    jobs: dict[str, dict[str, object]] = json.loads(
        State.new().with_job(inference_record()).to_json()
    )["jobs"]
    return jobs["batch-inference-job/promo"]


@pytest.mark.parametrize(
    ("key", "changes", "version", "problem"),
    [
        (
            "batch-inference-job/promo",
            {"kind": "BatchRecommendationJob"},
            3,
            'jobs["batch-inference-job/promo"].kind must be one of BatchInferenceJob, not '
            '"BatchRecommendationJob"',
        ),
        (
            "promo",
            {},
            3,
            'jobs["promo"]: the key of a batch inference job is "batch-inference-job/promo"',
        ),
        (
            "batch-inference-job/promo",
            {"arn": "arn:aws:personalize:us-east-1:123456789012:batch-segment-job/promo"},
            3,
            'jobs["batch-inference-job/promo"].arn is not the ARN of a batch inference job: '
            "'arn:aws:personalize:us-east-1:123456789012:batch-segment-job/promo'",
        ),
        (
            "batch-inference-job/promo",
            {},
            2,
            'jobs["batch-inference-job/promo"]: only a state of format version 3 or later '
            "holds jobs of kinds other than batch segment jobs",
        ),
    ],
    ids=["unknown-kind", "key-without-kind", "arn-of-another-kind", "old-format"],
)
def test_a_record_whose_kind_does_not_hold_together_is_refused(
    key: str, changes: dict[str, object], version: int, problem: str
) -> None:
    record = {**_inference_json(), **changes}

    with pytest.raises(StateError) as refused:
        State.from_json(_state_with(key, record, version=version), source="state.json")

    assert str(refused.value).startswith(f"cannot read the state in state.json: {problem}. ")


def test_a_segment_record_without_a_kind_under_an_inference_key_is_refused() -> None:
    record = json.loads(State.new().with_job(make_record("promo")).to_json())["jobs"]["promo"]

    with pytest.raises(StateError, match="is the ARN of another job"):
        State.from_json(_state_with("batch-inference-job/promo", record), source="state.json")


@settings(max_examples=50, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(
            st.sampled_from([BATCH_SEGMENT_JOB, BATCH_INFERENCE_JOB]),
            st.text(alphabet="ab-_1", min_size=1, max_size=4).filter(lambda n: n[0] not in "-_"),
        ),
        max_size=6,
        unique=True,
    )
)
def test_any_mix_of_kinds_round_trips(jobs: list[tuple[JobKind, str]]) -> None:
    records = [
        make_record(
            name,
            arn=kind.job_arn("aws", "us-east-1", "123456789012", name),
            kind=kind.name,
        )
        for kind, name in jobs
    ]
    state = State.new().with_jobs(records)

    read = State.from_json(state.to_json(), source="test")

    assert read == state
    assert sorted(read.jobs) == sorted(kind.key(name) for kind, name in jobs)
