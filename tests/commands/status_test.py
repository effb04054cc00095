from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.backends.local.service import PersonalizeService
from tests.support.cli import run_cli, succeed
from tests.support.clock import ManualClock
from tests.support.job_requests import job_arn
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state


@pytest.fixture
def server(
    s3_root: Path,
    manual_clock: ManualClock,
    aws_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PersonalizeServer]:
    """Jobs pend 10 s and run 60 s on the manual clock, and succeed."""
    service = PersonalizeService.in_memory(
        s3_root=s3_root, clock=manual_clock, pending_seconds=10, running_seconds=60, run_job=succeed
    )
    with PersonalizeServer(service) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", server.endpoint_url)
        yield server
    assert server.errors == []


def test_no_state_no_jobs(repo: Path) -> None:
    assert run_cli("status").out == "No jobs recorded.\n"
    assert json.loads(run_cli("status", "--format", "json").out) == {
        "format": "personalize-runner/status",
        "version": 1,
        "jobs": [],
    }


def test_status_shows_the_recorded_jobs(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha", "beta-long-name"])
    assert run_cli("reconcile").status == 0
    submitted = read_state(repo).jobs["alpha"].submitted_at.strftime("%Y-%m-%d %H:%M UTC")
    server.clear_calls()

    ran = run_cli("status")

    assert ran.status == 0
    assert ran.out == (
        "JOB             STATUS          REGION     ACCOUNT       SUBMITTED             "
        "RECORDED\n"
        f"alpha           CREATE PENDING  us-east-1  123456789012  {submitted}  created\n"
        f"beta-long-name  CREATE PENDING  us-east-1  123456789012  {submitted}  created\n"
    )
    # Without --refresh, the state only.
    assert server.calls == []
    (job,) = json.loads(run_cli("status", "--format", "json").out)["jobs"][:1]
    # The shape of a record in every output (`state show` too).
    assert list(job) == [
        "name",
        "kind",
        "arn",
        "status",
        "recorded_by",
        "partition",
        "region",
        "account",
        "spec_file",
        "spec_digest",
        "request_digest",
        "git_commit",
        "submitted_at",
        "created_at",
        "updated_at",
        "failure_reason",
        "status_checked_at",
        "spec_index",
        "spec_documents",
        "period",
        "solution_version_arn",
    ]
    assert (job["name"], job["arn"]) == ("alpha", job_arn("alpha"))


def test_refresh_polls_only_unfinished_jobs_and_records_what_it_learns(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    manual_clock.advance(100)
    assert run_cli("status", "--refresh").status == 0
    assert read_state(repo).jobs["alpha"].status == "ACTIVE"
    write_specs(repo / "specs", ["beta"])
    assert run_cli("reconcile").status == 0
    manual_clock.advance(15)
    server.clear_calls()

    ran = run_cli("status", "--refresh")

    assert ran.status == 0
    # One list page of the region: nothing to describe, nothing asked of the final alpha.
    assert [(call.operation, call.body) for call in server.calls] == [
        ("ListBatchSegmentJobs", {"maxResults": 100})
    ]
    state = read_state(repo)
    assert state.jobs["beta"].status == "CREATE IN_PROGRESS"
    assert state.jobs["beta"].status_checked_at is not None
    assert "beta   CREATE IN_PROGRESS" in ran.out
