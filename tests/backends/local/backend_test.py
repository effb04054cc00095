from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from runner.backends import (
    CREATE_FAILED,
    CREATE_PENDING,
    Backend,
    InvalidInput,
    JobSummary,
    LimitExceeded,
    ResourceAlreadyExists,
    ResourceNotFound,
)
from runner.backends.local import LocalBackend, default_root
from runner.backends.local.jobs import run_with_engine
from runner.backends.local.service import PersonalizeService
from runner.commands.local import setup_demo
from runner.engine.store import ModelStore
from runner.kinds import BATCH_SEGMENT_JOB
from tests.support.clock import EPOCH, ManualClock
from tests.support.job_requests import ACCOUNT, job_arn, job_request, solution_version_arn

CREATED = datetime.datetime.fromtimestamp(EPOCH, tz=datetime.UTC)


def test_local_backend_is_a_backend(local_backend: LocalBackend) -> None:
    backend: Backend = local_backend

    assert backend.name == "local"


def test_create_describe_list_and_tags(local_backend: LocalBackend) -> None:
    request = job_request(tags=[{"tagKey": "team", "tagValue": "growth"}])

    arn = local_backend.create_job(BATCH_SEGMENT_JOB, request)
    description = local_backend.describe_job(BATCH_SEGMENT_JOB, arn)

    summary = JobSummary(
        name="holiday-promo",
        arn=job_arn("holiday-promo"),
        status=CREATE_PENDING,
        solution_version_arn=solution_version_arn(),
        created_at=CREATED,
        updated_at=CREATED,
    )
    assert description.summary == summary
    assert description.request == {
        **{key: value for key, value in request.items() if key != "tags"},
        "numResults": 25,
    }
    assert list(
        local_backend.list_jobs(
            BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account=ACCOUNT
        )
    ) == [summary]
    assert (
        list(
            local_backend.list_jobs(
                BATCH_SEGMENT_JOB, partition="aws", region="eu-west-1", account=ACCOUNT
            )
        )
        == []
    )
    assert local_backend.list_tags(arn) == [{"tagKey": "team", "tagValue": "growth"}]


def test_listing_reads_every_page(tmp_path: Path) -> None:
    # Jobs that neither pend nor run finish as soon as the service is next called.
    service = PersonalizeService.in_memory(s3_root=tmp_path, pending_seconds=0, running_seconds=0)
    backend = LocalBackend(service)
    for index in range(205):
        backend.create_job(BATCH_SEGMENT_JOB, job_request(f"job-{index:03}"))

    jobs = list(
        backend.list_jobs(BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account=ACCOUNT)
    )

    assert sorted(job.name for job in jobs) == [f"job-{index:03}" for index in range(205)]
    assert {job.status for job in jobs} == {CREATE_FAILED}


def test_the_service_s_errors_come_through(
    local_backend: LocalBackend, manual_clock: ManualClock
) -> None:
    for index in range(5):
        local_backend.create_job(BATCH_SEGMENT_JOB, job_request(f"job-{index}"))

    with pytest.raises(ResourceAlreadyExists):
        local_backend.create_job(BATCH_SEGMENT_JOB, job_request("job-0"))
    with pytest.raises(LimitExceeded):
        local_backend.create_job(BATCH_SEGMENT_JOB, job_request("job-5"))
    with pytest.raises(InvalidInput):
        local_backend.create_job(BATCH_SEGMENT_JOB, job_request("job 5"))
    with pytest.raises(ResourceNotFound):
        local_backend.describe_job(BATCH_SEGMENT_JOB, job_arn("nobody"))


def test_the_default_service_persists_in_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path / "specs")

    root = tmp_path / ".personalize-local"
    request = job_request(solutionVersionArn=_demo_item_affinity(root))

    arn = LocalBackend().create_job(BATCH_SEGMENT_JOB, request)

    assert LocalBackend(root=root).describe_job(BATCH_SEGMENT_JOB, arn).summary.arn == arn
    assert (root / "service/jobs.json").is_file()


def test_the_default_service_refuses_a_solution_version_the_engine_does_not_know(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    unknown = "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/00000000"

    with pytest.raises(ResourceNotFound, match="Could not find solution version"):
        LocalBackend().create_job(BATCH_SEGMENT_JOB, job_request(solutionVersionArn=unknown))


def test_the_default_service_computes_segments_with_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    root = tmp_path / ".personalize-local"
    request = job_request(
        input_path="s3://acme-personalize/batch/in/holiday-items.jsonl",
        output_path="s3://acme-personalize/batch/out/demo/",
        solutionVersionArn=_demo_item_affinity(root),
        numResults=10,
    )
    clock = ManualClock()
    service = PersonalizeService.in_folder(root, clock=clock, run_job=run_with_engine)
    arn = LocalBackend(service).create_job(BATCH_SEGMENT_JOB, request)
    clock.advance(3600)

    assert LocalBackend(service).describe_job(BATCH_SEGMENT_JOB, arn).summary.status == "ACTIVE"
    lines = (root / "s3/acme-personalize/batch/out/demo/holiday-items.jsonl.out").read_text()
    first = json.loads(lines.splitlines()[0])
    assert len(first["output"]["recommendedUsers"]) == 10


def _demo_item_affinity(root: Path) -> str:
    """The demo's item-affinity solution version, trained in `root`."""
    setup_demo(root=root)
    (version,) = [
        version
        for version in ModelStore(root / "engine").solution_versions()
        if version.recipe == "aws-item-affinity"
    ]
    return version.arn


@pytest.mark.parametrize("marker", [".git", "personalize-runner.yaml"])
def test_default_root_is_at_the_repository_root(tmp_path: Path, marker: str) -> None:
    (tmp_path / marker).touch()
    (tmp_path / "a/b").mkdir(parents=True)

    assert default_root(tmp_path / "a/b") == tmp_path.resolve() / ".personalize-local"


def test_default_root_outside_a_repository_is_the_working_folder(tmp_path: Path) -> None:
    assert default_root(tmp_path).parent in (tmp_path.resolve(), *tmp_path.resolve().parents)
