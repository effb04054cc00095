"""Issue 10's guarantees against inputs the other tests do not try, through the CLI: text
that is no text. JSON allows the escape of half a surrogate pair (`"\\ud800"`), which no
output can encode: a state holding one was read and shown until `status --format json`
died on it, and an answer of the service holding one was recorded. The state's reader
refuses it with a clear message; an answer holding one is that one job's error, and the
other jobs go on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state, state_path


def recorded(repo: Path, names: list[str]) -> None:
    write_specs(repo / "specs", names)
    ran = run_cli("reconcile")
    assert ran.status == 0, ran.err


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83d"])
def test_a_state_holding_half_a_surrogate_pair_is_refused_by_every_reader(
    repo: Path, personalize_server: PersonalizeServer, escape: str
) -> None:
    recorded(repo, ["alpha"])
    text = state_path(repo).read_text(encoding="utf-8")
    state_path(repo).write_text(
        text.replace("specs/alpha.yaml", f"specs/alpha{escape}.yaml"), encoding="utf-8"
    )

    for args in (("status",), ("status", "--format", "json"), ("plan",), ("reconcile",)):
        ran = run_cli(*args)

        assert (ran.status, ran.out) == (1, ""), args
        assert ran.err.startswith(f"error: cannot read the state in {state_path(repo)}: ")
        assert f"it has a string holding {escape}, half of a surrogate pair, which is no " in (
            ran.err
        )
    assert personalize_server.count("CreateBatchSegmentJob") == 1


def test_a_surrogate_pair_is_a_character_and_read(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    recorded(repo, ["alpha"])
    document = json.loads(state_path(repo).read_text(encoding="utf-8"))
    (record,) = document["jobs"].values()
    record["failure_reason"] = "\U0001f600"
    state_path(repo).write_text(json.dumps(document), encoding="utf-8")  # ensure_ascii

    ran = run_cli("status", "--format", "json")

    assert ran.status == 0, ran.err
    (job,) = json.loads(ran.out)["jobs"]
    assert job["failure_reason"] == "\U0001f600"


def _failed_with_half_a_pair(body: dict[str, Any]) -> object:
    summaries = [
        {**summary, "status": "CREATE FAILED", "failureReason": "bad \ud800 input"}
        if summary["jobName"] == "alpha"
        else summary
        for summary in body["batchSegmentJobs"]
    ]
    return json.dumps({**body, "batchSegmentJobs": summaries}).encode()


def test_a_listing_with_half_a_surrogate_pair_is_read_by_describing_each_job(
    repo: Path, personalize_server: PersonalizeServer, manual_clock: Any
) -> None:
    recorded(repo, ["alpha", "beta"])
    manual_clock.advance(20)
    personalize_server.rewrite(_failed_with_half_a_pair, operation="ListBatchSegmentJobs")

    ran = run_cli("status", "--refresh")

    assert ran.status == 0
    assert ran.err == (
        "could not read the listing of the jobs of us-east-1 (123456789012): MalformedAnswer: "
        "a summary of the ListBatchSegmentJobs answer has failureReason 'bad \\ud800 input', "
        "which is not text; each job was described instead\n"
    )
    state = read_state(repo)
    assert {record.status for record in state.jobs.values()} == {"CREATE IN_PROGRESS"}
    shown = run_cli("status", "--format", "json")
    assert shown.status == 0, shown.err


def test_a_create_answered_with_half_a_surrogate_pair_is_that_jobs_unknown_outcome(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    personalize_server.rewrite(
        lambda body: json.dumps(
            {"batchSegmentJobArn": body["batchSegmentJobArn"] + "\udc00"}
        ).encode(),
        operation="CreateBatchSegmentJob",
    )

    ran = run_cli("reconcile", "--format", "json")

    assert ran.status == 1
    ran.out.encode("utf-8")  # what a process's stdout must be able to write
    jobs = {job["name"]: job for job in json.loads(ran.out)["jobs"]}
    assert (jobs["alpha"]["result"], jobs["beta"]["result"]) == ("unknown", "created")
    assert "which is not text" in jobs["alpha"]["reason"]
    state = read_state(repo)
    assert sorted(record.name for record in state.jobs.values()) == ["beta"]

    again = run_cli("reconcile", "--format", "json")

    assert again.status == 0, again.err
    assert [job["result"] for job in json.loads(again.out)["jobs"]] == ["adopted"]
