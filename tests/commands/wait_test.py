from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.backends.local.service import PersonalizeService
from tests.support.cli import run_cli, succeed
from tests.support.clock import ManualClock
from tests.support.job_requests import job_arn, job_request
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state

FAILING = "s3://acme-personalize/batch/in/missing.jsonl"


def fail_some(request: object, *, s3_root: Path) -> str | None:
    assert isinstance(request, dict)
    if request["jobInput"]["s3DataSource"]["path"] == FAILING:
        return "Input data not found"
    return succeed(request, s3_root=s3_root)


@pytest.fixture
def server(
    s3_root: Path,
    manual_clock: ManualClock,
    aws_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PersonalizeServer]:
    service = PersonalizeService.in_memory(
        s3_root=s3_root,
        clock=manual_clock,
        pending_seconds=10,
        running_seconds=60,
        run_job=fail_some,
    )
    with PersonalizeServer(service) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", server.endpoint_url)
        yield server
    assert server.errors == []


def describes(server: PersonalizeServer) -> list[str]:
    return [
        call.body["batchSegmentJobArn"]
        for call in server.calls
        if call.operation == "DescribeBatchSegmentJob"
    ]


def test_wait_follows_jobs_to_their_final_status(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    assert run_cli("reconcile").status == 0
    manual_clock.advance(100)
    server.clear_calls()

    ran = run_cli("wait")

    assert ran.status == 0
    assert ran.out == "alpha: ACTIVE\nbeta: ACTIVE\n2 ACTIVE.\n"
    assert {record.status for record in read_state(repo).jobs.values()} == {"ACTIVE"}
    server.clear_calls()

    # Final jobs are never described again.
    again = run_cli("wait", "alpha")
    assert (again.status, again.out) == (0, "1 ACTIVE.\n")
    assert server.calls == []


def test_wait_fails_on_a_failed_job(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    write_specs(repo / "specs", ["alpha"])
    (repo / "specs" / "alpha.yaml").write_text(
        (repo / "specs" / "alpha.yaml")
        .read_text(encoding="utf-8")
        .replace("s3://acme-personalize/batch/in/items.jsonl", FAILING),
        encoding="utf-8",
    )
    write_specs(repo / "specs", ["beta"])
    assert run_cli("reconcile").status == 0
    manual_clock.advance(100)

    ran = run_cli("wait")

    assert ran.status == 1
    assert ran.out == (
        "alpha: CREATE FAILED: Input data not found\n"
        "beta: ACTIVE\n"
        "1 ACTIVE; 1 CREATE FAILED (alpha).\n"
    )
    assert read_state(repo).jobs["alpha"].failure_reason == "Input data not found"


def test_wait_gives_up_at_the_timeout(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    server.clear_calls()

    ran = run_cli("wait", "alpha", "--timeout", "0")

    assert ran.status == 1
    assert ran.out == "alpha: CREATE PENDING\n0 ACTIVE; 1 still running after 0s (alpha).\n"
    # One list page settles the job: no describe of its own.
    assert [call.operation for call in server.calls] == ["ListBatchSegmentJobs"]
    assert describes(server) == []


def test_wait_polls_a_page_per_region_and_describes_only_what_the_page_leaves_out(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    names = [f"job-{index:03}" for index in range(5)]
    write_specs(repo / "specs", names)
    assert run_cli("reconcile").status == 0
    # 98 newer jobs not of this repository (5 at a time: the quota) leave room for two of
    # ours on the first page of 100.
    for index in range(98):
        if index % 5 == 0:
            manual_clock.advance(71)
        server.service.create_batch_segment_job(job_request(f"other-{index:03}"))
    manual_clock.advance(71)
    server.clear_calls()

    ran = run_cli("wait", "--timeout", "0")

    assert ran.status == 0
    assert [call.operation for call in server.calls].count("ListBatchSegmentJobs") == 1
    assert describes(server) == [job_arn(name) for name in names[:3]]


def test_wait_for_a_job_that_is_not_recorded(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0

    ran = run_cli("wait", "nope")

    assert ran.status == 1
    assert ran.err.startswith("error: no job named 'nope' is recorded in state file ")
    assert ran.err.endswith("; `personalize-runner status` lists the recorded jobs\n")


def test_wait_for_a_name_follows_the_jobs_of_every_kind_that_have_it(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    write_specs(repo / "specs", ["alpha"])
    write_specs(repo / "specs", ["alpha", "beta"], kind="BatchInferenceJob")
    assert run_cli("reconcile").status == 0

    ran = run_cli("wait", "alpha", "--timeout", "0")

    assert ran.status == 1
    assert ran.out == (
        "alpha: CREATE PENDING\n"
        "alpha [inference]: CREATE PENDING\n"
        "0 ACTIVE; 2 still running after 0s (alpha, alpha [inference]).\n"
    )
    manual_clock.advance(100)
    # A key names one job of one kind.
    one = run_cli("wait", "batch-inference-job/alpha")
    assert (one.status, one.out) == (0, "alpha [inference]: ACTIVE\n1 ACTIVE.\n")
    assert read_state(repo).jobs["batch-inference-job/alpha"].status == "ACTIVE"
    assert read_state(repo).jobs["alpha"].status == "CREATE PENDING"
