"""One deadline per run (issue 10 point 2): `--timeout` bounds every call to the service
(its connect and read timeouts and its retries), the polling and the lock wait, through the
CLI against a stand-in that does not answer; what it cuts short is reported per job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.state import LockHolder, open_store
from tests.support.cli import run_cli
from tests.support.job_requests import job_arn
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state, state_path

# What a run may take beyond its --timeout: making a client, writing the state, exiting.
SLACK = 3.0


@pytest.fixture
def server(personalize_server: PersonalizeServer) -> Iterator[PersonalizeServer]:
    yield personalize_server
    # The calls left hanging end when the stand-in stops.
    personalize_server.clear_faults()


def timed(*args: str) -> tuple[Any, float]:
    started = time.monotonic()
    ran = run_cli(*args)
    return ran, time.monotonic() - started


def test_a_listing_that_never_answers_ends_the_run_at_its_deadline_and_frees_the_lock(
    repo: Path, server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    server.hang(10, operation="ListBatchSegmentJobs")

    ran, took = timed("reconcile", "--timeout", "10")

    assert 8 <= took <= 10 + SLACK
    assert ran.status == 1
    assert ran.out == ""
    assert ran.err.startswith(
        "error: DeadlineExceeded: the run's deadline (--timeout) passed during "
        "ListBatchSegmentJobs (after 1 attempt: Read timeout on endpoint URL: "
    )
    assert ran.err.endswith(
        ": the run's deadline (--timeout 10s) passed while asking the service what it knows "
        "of the specs' jobs; nothing was submitted. Run again, with a longer --timeout if the "
        "service is slow.\n"
    )
    assert server.count("CreateBatchSegmentJob") == 0
    # The lock is free: a run that will not wait for it goes ahead at once.
    server.clear_faults()
    again = run_cli("reconcile", "--lock-timeout", "0")
    assert again.status == 0, again.err


def test_a_create_cut_short_by_the_deadline_is_unknown_and_the_others_go_on(
    repo: Path, server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    server.hang(1, operation="CreateBatchSegmentJob")

    ran, took = timed("reconcile", "--timeout", "6", "--report", "report.json")

    assert took <= 6 + SLACK
    assert ran.status == 1
    report = json.loads((repo / "report.json").read_text(encoding="utf-8"))
    jobs = {job["name"]: (job["result"], job["reason"]) for job in report["jobs"]}
    result, reason = jobs["alpha"]
    assert result == "unknown"
    assert reason.startswith(
        "the deadline passed while the create was sent (DeadlineExceeded: the run's deadline "
        "(--timeout) passed during CreateBatchSegmentJob (after 1 attempt: Read timeout"
    )
    assert reason.endswith(
        "the job may or may not have been created; the next reconcile adopts it if it was, "
        "or submits it"
    )
    # Begun with what was left of the deadline (under a second), and answered.
    assert jobs["beta"] == ("created", "submitted")
    state = read_state(repo)
    assert {record.arn for record in state.jobs.values()} == {job_arn("beta")}

    again = run_cli("reconcile")
    assert again.status == 0, again.err
    state = read_state(repo)
    assert {record.arn for record in state.jobs.values()} == {job_arn("alpha"), job_arn("beta")}


def test_wait_and_status_refresh_end_on_time_when_the_service_does_not_answer(
    repo: Path, server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    before = state_path(repo).read_bytes()
    server.hang(10, operation="ListBatchSegmentJobs")

    waited, took = timed("wait", "--timeout", "4")

    assert took <= 4 + SLACK
    assert waited.status == 1
    assert (
        "DeadlineExceeded: the run's deadline (--timeout) passed during ListBatchSegmentJobs"
        in (waited.out)
    )
    assert waited.out.endswith("0 ACTIVE; 1 still running after 4s (alpha).\n")

    status, took = timed("status", "--refresh", "--timeout", "3")

    assert took <= 3 + SLACK
    assert status.status == 0
    assert status.err.startswith(
        "could not list the jobs of us-east-1 (123456789012): DeadlineExceeded: the run's "
        "deadline (--timeout) passed during ListBatchSegmentJobs"
    )
    assert "alpha" in status.out
    assert state_path(repo).read_bytes() == before


def test_the_lock_wait_is_bounded_by_the_deadline(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"])
    store = open_store(str(state_path(repo)))
    with store.lock(holder=LockHolder.current(), timeout=0):
        ran, took = timed("reconcile", "--timeout", "2")

    assert took <= 2 + SLACK
    assert ran.status == 1
    # The run's deadline is shorter than the lock timeout (60 s): it is what the wait takes.
    assert "is held by pid" in ran.err
    assert ran.err.endswith(
        "; gave up after 2s. Another run is using the state: wait for it to finish and run the "
        "command again, or allow a longer lock timeout. (The lock is released as soon as its "
        "holder exits, even if it is killed: there is nothing to delete.)\n"
    )
    assert server.count("CreateBatchSegmentJob") == 0
