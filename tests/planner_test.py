from __future__ import annotations

from typing import Any

import pytest

from runner.kinds import BATCH_INFERENCE_JOB
from runner.output.plan import render_text
from runner.planner import (
    Change,
    Plan,
    RemoteJob,
    RemoteView,
    make_plan,
    request_differences,
)
from runner.state import JobRecord, Snapshot, State
from tests.state.support import LINEAGE, make_record
from tests.support.job_requests import job_arn, solution_version_arn
from tests.support.job_specs import make_spec

SCOPE = ("aws", "us-east-1", "123456789012")


def snapshot_of(*records: JobRecord, serial: int = 4) -> Snapshot:
    state = State(
        format_version=1,
        lineage=LINEAGE,
        serial=serial,
        jobs={record.name: record for record in records},
    )
    return Snapshot(state=state, version=f"{LINEAGE}:{serial}:{'e' * 64}")


def remote_of(*jobs: RemoteJob) -> RemoteView:
    return RemoteView(scopes=frozenset({SCOPE}), jobs={(SCOPE, job.name): job for job in jobs})


def remote_job(name: str, **fields: object) -> RemoteJob:
    spec = make_spec(name)
    request = {key: value for key, value in spec.request.items() if key != "tags"}
    request.setdefault("numResults", 25)
    described = {**request, **fields}
    return RemoteJob(
        name=name,
        arn=job_arn(name),
        status="ACTIVE",
        solution_version_arn=str(described["solutionVersionArn"]),
        request=described,
        tags=(("team", "growth"), ("owner", "someone")),
    )


def changes(plan: Plan) -> dict[str, Change]:
    return {job.name: job.change for job in plan.jobs}


def test_no_specs_and_no_state_is_an_empty_plan() -> None:
    plan = make_plan([], None)

    assert plan.jobs == ()
    assert not plan.has_changes
    assert render_text(plan) == "Plan: no jobs (offline, no state yet)\n\nNothing to do.\n"


def test_each_change_against_the_state() -> None:
    new = make_spec("new-job")
    same = make_spec("same-job")
    edited = make_spec("edited-job", numResults=100)
    snapshot = snapshot_of(
        make_record("same-job", request_digest=same.request_digest, status="ACTIVE"),
        make_record("edited-job", request_digest=make_spec("edited-job").request_digest),
        make_record("gone-job"),
    )

    plan = make_plan([new, same, edited], snapshot)

    assert changes(plan) == {
        "edited-job": Change.CONFLICT,
        "gone-job": Change.ORPHAN,
        "new-job": Change.CREATE,
        "same-job": Change.UNCHANGED,
    }
    assert plan.has_changes
    assert plan.has_conflicts
    assert plan.state is not None
    assert (plan.state.lineage, plan.state.serial) == (LINEAGE, 4)
    assert not plan.refreshed


def test_the_plan_is_offline_without_a_remote_view() -> None:
    plan = make_plan([make_spec("a"), make_spec("b")], None)

    assert changes(plan) == {"a": Change.CREATE, "b": Change.CREATE}
    assert plan.counts()[Change.CREATE] == 2


@pytest.mark.parametrize(
    ("remote", "expected", "reason"),
    [
        (None, Change.CREATE, "new, and not known at the service"),
        (
            remote_job("holiday-promo"),
            Change.ADOPT,
            "exists at the service with the same parameters: recorded, not submitted again",
        ),
        (
            remote_job("holiday-promo", numResults=100),
            Change.CONFLICT,
            "a job of this name exists at the service with other parameters (numResults: the "
            "spec has 25, the service 100); give this spec another jobName",
        ),
        (
            remote_job(
                "holiday-promo", jobOutput={"s3DataDestination": {"path": "s3://other/out/"}}
            ),
            Change.CONFLICT,
            "a job of this name exists at the service with other parameters (jobOutput: the "
            'spec has {"s3DataDestination":{"path":"s3://acme-personalize/batch/out/"}}, '
            'the service {"s3DataDestination":{"path":"s3://other/out/"}}); give this spec '
            "another jobName",
        ),
        (
            RemoteJob(
                "holiday-promo",
                job_arn("holiday-promo"),
                "ACTIVE",
                solution_version_arn=solution_version_arn().replace("4fd8ee1c", "00000000"),
            ),
            Change.CONFLICT,
            "a job of this name exists at the service with other parameters "
            '(solutionVersionArn: the spec has "'
            + solution_version_arn()
            + '", the service "'
            + solution_version_arn().replace("4fd8ee1c", "00000000")
            + '"); give this spec another jobName',
        ),
    ],
)
def test_the_remote_view_decides_between_create_adopt_and_conflict(
    remote: RemoteJob | None, expected: Change, reason: str
) -> None:
    spec = make_spec("holiday-promo", tags=[{"tagKey": "team", "tagValue": "growth"}])
    view = remote_of() if remote is None else remote_of(remote)

    (job,) = make_plan([spec], None, view).jobs

    assert (job.change, job.reason) == (expected, reason)


def test_a_scope_that_was_not_listed_stays_create() -> None:
    view = RemoteView(scopes=frozenset(), jobs={})

    (job,) = make_plan([make_spec("a")], None, view).jobs

    assert (job.change, job.reason) == (Change.CREATE, "new")


def test_tags_of_the_spec_must_all_be_on_the_job() -> None:
    spec = make_spec(tags=[{"tagKey": "team", "tagValue": "search"}])

    differences = request_differences(
        spec.kind, spec.request, remote_job("holiday-promo").request or {}, []
    )

    assert differences == ["tags: the job lacks team=search"]


def test_a_recorded_job_is_never_compared_with_the_service() -> None:
    spec = make_spec("holiday-promo")
    snapshot = snapshot_of(make_record("holiday-promo", request_digest=spec.request_digest))

    (job,) = make_plan([spec], snapshot, remote_of(remote_job("holiday-promo", numResults=7))).jobs

    assert job.change is Change.UNCHANGED


@pytest.mark.parametrize(
    ("spec_config", "service_config", "differences"),
    [
        # The service may fill in a recipe's exploration settings: left out, they match.
        (None, {"itemExplorationConfig": {"explorationWeight": "0.3"}}, []),
        (
            {"rankingInfluence": {"POPULARITY": 1}},
            {"rankingInfluence": {"POPULARITY": 1.0, "FRESHNESS": 0.0}},
            [],
        ),
        (
            {"rankingInfluence": {"POPULARITY": 0.5}},
            {"rankingInfluence": {"POPULARITY": 0.2}},
            [
                'batchInferenceJobConfig: the spec has {"rankingInfluence":{"POPULARITY":0.5}}, '
                'the service {"rankingInfluence":{"POPULARITY":0.2}}'
            ],
        ),
    ],
    ids=["left-out", "part-given", "other-value"],
)
def test_an_inference_jobs_configuration_is_the_service_s_to_complete(
    spec_config: dict[str, object] | None,
    service_config: dict[str, object],
    differences: list[str],
) -> None:
    fields: dict[str, Any] = {} if spec_config is None else {"batchInferenceJobConfig": spec_config}
    spec = make_spec("recs", kind=BATCH_INFERENCE_JOB, **fields)
    remote = {
        **spec.request,
        "numResults": 25,
        "batchInferenceJobMode": "BATCH_INFERENCE",
        "batchInferenceJobConfig": service_config,
    }

    assert request_differences(spec.kind, spec.request, remote, []) == differences
    # The mode is compared with the service's default.
    themed = {**remote, "batchInferenceJobMode": "THEME_GENERATION"}
    assert request_differences(spec.kind, spec.request, themed, [])[-1] == (
        'batchInferenceJobMode: the spec has "BATCH_INFERENCE", the service "THEME_GENERATION"'
    )


def test_jobs_are_in_name_order_with_the_kinds_of_one_name_side_by_side() -> None:
    specs = [
        make_spec("beta", kind=BATCH_INFERENCE_JOB),
        make_spec("gamma"),
        make_spec("beta"),
        make_spec("alpha", kind=BATCH_INFERENCE_JOB),
    ]

    plan = make_plan(specs, None)

    assert [(job.name, job.kind.name) for job in plan.jobs] == [
        ("alpha", "BatchInferenceJob"),
        ("beta", "BatchSegmentJob"),
        ("beta", "BatchInferenceJob"),
        ("gamma", "BatchSegmentJob"),
    ]
    only_segment_jobs = make_plan([make_spec(name) for name in ("b", "c", "a")], None)
    assert [job.name for job in only_segment_jobs.jobs] == ["a", "b", "c"]
