"""Untrusted answers of the service through the CLI (issue 10 point 3): each malformed answer
is that one job's error — an unknown outcome when the create may have happened, settled by
adoption on the next run — never a traceback, never recorded, and the other jobs go on; a
status no batch job has and a job that vanished are reported, and neither holds a quota slot
nor keeps `reconcile --wait` or `wait` waiting. For each kind of job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.kinds import KINDS, JobKind
from runner.state import JobRecord, State
from tests.support.cli import run_cli
from tests.support.job_requests import job_arn
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state, state_path

KIND_LIST = list(KINDS.values())


@pytest.fixture(params=KIND_LIST, ids=[kind.name for kind in KIND_LIST])
def kind(request: pytest.FixtureRequest) -> JobKind:
    found: JobKind = request.param
    return found


def report_of(repo: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((repo / "report.json").read_text(encoding="utf-8"))
    return document


def jobs_of(report: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {job["name"]: (job["result"], job["status"]) for job in report["jobs"]}


def other_arn(kind: JobKind) -> str:
    return job_arn("someone-else", kind=kind)


CREATE_ANSWERS = {
    "not JSON": b"<html><body>502 Bad Gateway</body></html>",
    "not UTF-8": b"\xff\xfe\x00garbage",
    "an empty object": {},
    "a list": [1, 2, 3],
    "a number for the ARN": "number",
    "the ARN of another job": "other",
    "nested too deep": b"[" * 100_000 + b"]" * 100_000,
    "a 5,000-digit number": b'{"numResults": 1' + b"0" * 5000 + b"}",
}


def create_answer(kind: JobKind, which: str) -> object:
    answer = CREATE_ANSWERS[which]
    if answer == "number":
        return {kind.arn_key: 12345}
    if answer == "other":
        return {kind.arn_key: other_arn(kind)}
    return answer


@pytest.mark.parametrize("which", list(CREATE_ANSWERS))
def test_a_create_answered_with_garbage_is_that_jobs_unknown_outcome_settled_next_run(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind, which: str
) -> None:
    write_specs(repo / "specs", ["alpha", "beta", "gamma"], kind=kind.name)
    # The second create is made, and answered with garbage.
    calls: list[str] = []

    def second_only(body: dict[str, Any]) -> object:
        calls.append("create")
        return create_answer(kind, which) if len(calls) == 2 else body

    personalize_server.rewrite(second_only, times=3, operation=kind.create_operation)

    ran = run_cli("reconcile", "--report", "report.json")

    assert ran.status == 1
    assert "Traceback" not in ran.err
    report = report_of(repo)
    assert jobs_of(report) == {
        "alpha": ("created", "CREATE PENDING"),
        "beta": ("unknown", None),
        "gamma": ("created", "CREATE PENDING"),
    }
    (beta,) = [job for job in report["jobs"] if job["name"] == "beta"]
    assert beta["reason"].startswith("the service's answer to the create cannot be trusted (")
    assert beta["reason"].endswith(
        "): not recorded; the job may or may not have been created, the next reconcile adopts "
        "it if it was, or submits it"
    )
    # Never recorded as if it were right: the state holds the two jobs answered well.
    state = read_state(repo)
    assert sorted(record.name for record in state.jobs.values()) == ["alpha", "gamma"]
    assert other_arn(kind) not in state_path(repo).read_text(encoding="utf-8")

    # The job was created: the next run adopts it.
    again = run_cli("reconcile", "--report", "report.json")

    assert again.status == 0, again.err
    assert jobs_of(report_of(repo)) == {"beta": ("adopted", "CREATE PENDING")}
    assert read_state(repo).jobs[kind.key("beta")].arn == job_arn("beta", kind=kind)


def test_a_create_answered_with_garbage_that_did_not_create_is_submitted_next_run(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind
) -> None:
    write_specs(repo / "specs", ["alpha"], kind=kind.name)
    personalize_server.answer({}, operation=kind.create_operation, apply=False)

    assert run_cli("reconcile").status == 1
    assert not state_path(repo).exists()

    again = run_cli("reconcile", "--report", "report.json")

    assert again.status == 0
    assert jobs_of(report_of(repo)) == {"alpha": ("created", "CREATE PENDING")}


def alpha_of(state: Path | bytes, kind: JobKind) -> JobRecord:
    """alpha's record in the state (of the repository, or as these bytes)."""
    data = state if isinstance(state, bytes) else state_path(state).read_bytes()
    return State.from_json(data, source="test").jobs[kind.key("alpha")]


def recorded(repo: Path, kind: JobKind, names: list[str]) -> bytes:
    write_specs(repo / "specs", names, kind=kind.name)
    ran = run_cli("reconcile")
    assert ran.status == 0, ran.err
    return state_path(repo).read_bytes()


def without_status(kind: JobKind) -> Any:
    def change(body: dict[str, Any]) -> object:
        return {
            **body,
            kind.list_key: [
                {key: value for key, value in summary.items() if key != "status"}
                for summary in body[kind.list_key]
            ],
        }

    return change


def with_status(kind: JobKind, status: str, *, names: tuple[str, ...] = ("alpha",)) -> Any:
    def change(body: dict[str, Any]) -> object:
        return {
            **body,
            kind.list_key: [
                {**summary, "status": status} if summary["jobName"] in names else summary
                for summary in body[kind.list_key]
            ],
        }

    return change


def without(kind: JobKind, name: str) -> Any:
    def change(body: dict[str, Any]) -> object:
        return {
            **body,
            kind.list_key: [
                summary for summary in body[kind.list_key] if summary["jobName"] != name
            ],
        }

    return change


def test_a_listing_summary_without_status_is_read_by_describing_each_job(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind, manual_clock: Any
) -> None:
    recorded(repo, kind, ["alpha", "beta"])
    manual_clock.advance(20)
    personalize_server.rewrite(without_status(kind), operation=kind.list_operation)
    personalize_server.clear_calls()

    ran = run_cli("status", "--refresh")

    assert ran.status == 0
    assert ran.err == (
        "could not read the listing of the jobs of us-east-1 (123456789012): MalformedAnswer: "
        f"a summary of the {kind.list_operation} answer has no status; each job was described "
        "instead\n"
    )
    assert personalize_server.count(kind.describe_operation) == 2
    assert {record.status for record in read_state(repo).jobs.values()} == {"CREATE IN_PROGRESS"}


DESCRIBE_ANSWERS: dict[str, object] = {
    "not JSON": b"this is not JSON",
    "an empty object": {},
    "a string for the job": "job",
    "the description of another job": "other",
    "a timestamp that is none": "timestamp",
    "nested too deep": b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


def describe_answer(kind: JobKind, which: str, good: dict[str, Any]) -> object:
    answer = DESCRIBE_ANSWERS[which]
    job = good[kind.describe_key]
    if answer == "job":
        return {kind.describe_key: "garbage"}
    if answer == "other":
        return {
            kind.describe_key: {
                **job,
                "jobName": "other",
                kind.arn_key: job_arn("other", kind=kind),
            }
        }
    if answer == "timestamp":
        return {kind.describe_key: {**job, "creationDateTime": "the day before yesterday"}}
    return answer


@pytest.mark.parametrize("which", list(DESCRIBE_ANSWERS))
def test_a_describe_answered_with_garbage_is_that_jobs_error(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind, which: str
) -> None:
    before = recorded(repo, kind, ["alpha", "beta"])
    # No page shows alpha: it is described, and the describe is garbage.
    personalize_server.rewrite(without(kind, "alpha"), times=2, operation=kind.list_operation)
    for _ in range(2):
        answer = describe_answer(kind, which, {kind.describe_key: {}})
        if isinstance(answer, bytes) or DESCRIBE_ANSWERS[which] == {}:
            personalize_server.answer(answer, operation=kind.describe_operation)
        else:
            personalize_server.rewrite(
                lambda good: describe_answer(kind, which, good), operation=kind.describe_operation
            )

    status = run_cli("status", "--refresh")

    assert status.status == 0
    assert "Traceback" not in status.err
    assert status.err.startswith(
        f"{kind.key('alpha')}: could not get its status: MalformedAnswer: "
    )
    # Nothing recorded of alpha; beta, listed, has its status checked.
    alpha = read_state(repo).jobs[kind.key("alpha")]
    assert alpha == State.from_json(before, source="test").jobs[kind.key("alpha")]

    waited = run_cli("wait", "--timeout", "0")

    assert waited.status == 1
    assert "Traceback" not in waited.err
    assert f"{kind.key('alpha')}: could not get its status (MalformedAnswer: " in waited.out
    assert waited.out.endswith(
        f"2 still running after 0s ({kind.display('alpha')}, {kind.display('beta')}).\n"
    )
    assert read_state(repo).jobs[kind.key("alpha")] == alpha


def test_a_status_no_batch_job_has_is_reported_not_recorded_and_not_waited_for(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind
) -> None:
    before = recorded(repo, kind, ["alpha", "beta"])
    personalize_server.rewrite(with_status(kind, "EXPLODED"), operation=kind.list_operation)

    status = run_cli("status", "--refresh")

    assert status.status == 0
    assert status.err == (
        f"{kind.display('alpha')}: the service reports the status 'EXPLODED', which no batch job "
        "has: not recorded, and the job is no longer followed\n"
    )
    assert alpha_of(repo, kind) == alpha_of(before, kind)

    personalize_server.rewrite(with_status(kind, "EXPLODED"), operation=kind.list_operation)
    waited = run_cli("wait", kind.key("alpha"), "--timeout", "600")

    assert waited.status == 1
    assert waited.out.endswith(
        f"0 ACTIVE; 1 in a status no batch job has ({kind.display('alpha')}: EXPLODED).\n"
    )
    assert alpha_of(repo, kind) == alpha_of(before, kind)


def test_reconcile_wait_ends_on_a_status_no_batch_job_has_and_it_holds_no_slot(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind, manual_clock: Any
) -> None:
    # A quota's worth of jobs, done at the service, that its listing shows in a status no
    # batch job has: they hold no slot (were they in flight, the create would be refused).
    write_specs(repo / "specs", [f"old-{n}" for n in range(5)], kind=kind.name)
    assert run_cli("reconcile").status == 0
    manual_clock.advance(100)
    strange = (*(f"old-{n}" for n in range(5)), "alpha")
    write_specs(repo / "specs", ["alpha"], kind=kind.name)
    personalize_server.rewrite(
        with_status(kind, "EXPLODED", names=strange), times=100, operation=kind.list_operation
    )

    ran = run_cli("reconcile", "--wait", "--timeout", "30", "--report", "report.json")

    assert ran.status == 1
    assert ran.out.endswith(
        f"{kind.display('alpha')}: the service reports the status 'EXPLODED', which no batch "
        "job has: not recorded, and the job is no longer followed\n"
        "Reconcile: 1 created, 5 unchanged, then 0 ACTIVE and 0 CREATE FAILED and 1 EXPLODED "
        "(state serial 6).\n"
    )
    report = report_of(repo)
    assert jobs_of(report) == {"alpha": ("created", "EXPLODED")}
    (alpha,) = report["failures"]
    assert alpha["name"] == "alpha"
    assert read_state(repo).jobs[kind.key("alpha")].status == "CREATE PENDING"


def test_a_vanished_job_is_its_own_outcome_and_wait_ends_promptly(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind
) -> None:
    before = recorded(repo, kind, ["alpha", "beta"])
    personalize_server.rewrite(without(kind, "alpha"), times=2, operation=kind.list_operation)
    personalize_server.refuse(
        "ResourceNotFoundException",
        times=2,
        operation=kind.describe_operation,
        message="Could not find the job",
    )

    status = run_cli("status", "--refresh")

    assert status.status == 0
    assert status.err == (
        f"{kind.display('alpha')}: vanished: the service no longer knows the job "
        "(ResourceNotFoundException: Could not find the job); its record is kept as it was\n"
    )
    assert alpha_of(repo, kind) == alpha_of(before, kind)

    waited = run_cli("wait", kind.key("alpha"), "--timeout", "600")

    assert waited.status == 1
    assert waited.out.endswith(f"0 ACTIVE; 1 vanished at the service ({kind.display('alpha')}).\n")
    assert alpha_of(repo, kind) == alpha_of(before, kind)


def test_reconcile_plans_by_describing_when_the_listing_cannot_be_read(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind
) -> None:
    # alpha exists at the service but not in the state (lost); beta is new.
    recorded(repo, kind, ["alpha"])
    state_path(repo).unlink()
    write_specs(repo / "specs", ["beta"], kind=kind.name)
    # Read twice: by the plan, then by the reconcile.
    personalize_server.rewrite(without_status(kind), times=2, operation=kind.list_operation)

    planned = run_cli("plan", "--refresh")
    ran = run_cli("reconcile", "--report", "report.json")

    assert planned.status == 0
    assert planned.err.startswith(
        f"warning: could not read the listing of the {kind.noun}s of us-east-1 (123456789012): "
    )
    assert (ran.status, ran.err) == (0, "")
    # Said, not silently worked around.
    assert (
        f"warning: could not read the listing of the {kind.noun}s of us-east-1 (123456789012): "
        in ran.out
    )
    assert "; each job was described instead\n" in ran.out
    assert jobs_of(report_of(repo)) == {
        "alpha": ("adopted", "CREATE PENDING"),
        "beta": ("created", "CREATE PENDING"),
    }
    assert personalize_server.count(kind.create_operation) == 2


def test_state_import_refuses_a_job_in_a_status_no_batch_job_has(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    recorded(repo, KINDS["BatchSegmentJob"], ["alpha"])
    state_path(repo).unlink()

    def exploded(body: dict[str, Any]) -> object:
        return {"batchSegmentJob": {**body["batchSegmentJob"], "status": "EXPLODED"}}

    personalize_server.rewrite(exploded, operation="DescribeBatchSegmentJob")

    ran = run_cli("state", "import", "alpha")

    assert (ran.status, ran.out) == (1, "")
    assert ran.err == (
        "error: cannot import alpha: the service reports its status as 'EXPLODED', which no "
        "batch job has; try again later\n"
    )
    assert not state_path(repo).exists()


def test_a_job_to_adopt_in_a_status_no_batch_job_has_is_not_recorded(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind
) -> None:
    recorded(repo, kind, ["alpha"])
    state_path(repo).unlink()

    def exploded(body: dict[str, Any]) -> object:
        return {kind.describe_key: {**body[kind.describe_key], "status": "EXPLODED"}}

    # The plan's describe of the job is the adoption's.
    personalize_server.rewrite(exploded, operation=kind.describe_operation)

    ran = run_cli("reconcile", "--report", "report.json")

    assert ran.status == 1
    (alpha,) = report_of(repo)["jobs"]
    assert (alpha["result"], alpha["status"]) == ("unknown", "EXPLODED")
    assert alpha["reason"] == (
        "existed at the service with the same parameters, but the service reports the status "
        "'EXPLODED', which no batch job has: not recorded; the next reconcile asks again"
    )
    assert not state_path(repo).exists()
    assert run_cli("reconcile").status == 0
    assert alpha_of(repo, kind).status == "CREATE PENDING"
