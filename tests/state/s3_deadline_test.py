"""`--timeout` bounds a whole run, the state store's calls and STS's included (issue 10),
through the command line in processes of their own: an S3 or STS endpoint that accepts
connections and never answers (or answers long after), and moto's S3 stalling one kind of
request midway. Each run ends within its deadline plus a few seconds, exits 1 naming the
call it cut short, and leaves a state that reads back with every ARN the service returned
(or says which job the next run adopts)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from runner.state import State
from tests.state.s3_server import S3Server
from tests.support.cli import aws_env, cli_process
from tests.support.clock import ManualClock
from tests.support.job_requests import job_arn
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import make_repo
from tests.support.silent_server import SilentServer
from tests.support.sts_server import MOTO_ACCOUNT

KEY = "personalize/state.json"
# A hang guard, not a benchmark: the documented margin is a few seconds; this also covers
# starting Python and importing boto3 on a loaded machine.
GUARD = 15.0
# The S3 key of a delta (a record written under the lock), not the writes' probe.
DELTA = r"\.deltas/[^/]+/\d+\.json$"


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err: str
    took: float


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def server(personalize_server: PersonalizeServer) -> Iterator[PersonalizeServer]:
    yield personalize_server
    personalize_server.clear_faults()


@pytest.fixture
def stalling(s3_server: S3Server) -> Iterator[S3Server]:
    yield s3_server
    s3_server.stalling.lift()


def run(repo: Path, env: dict[str, str], *args: str, timeout: float) -> Ran:
    """`personalize-runner ARGS --timeout TIMEOUT` in a process of its own, which must end
    within the guard."""
    began = time.monotonic()
    process = cli_process(*args, "--timeout", f"{timeout:g}", cwd=repo, env=env, capture=True)
    try:
        out, err = process.communicate(timeout=timeout + GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"{args} --timeout {timeout:g} did not end: {out}{err}")
    return Ran(process.returncode, out, err, time.monotonic() - began)


def environment(
    server: PersonalizeServer, tmp_path: Path, *, s3: str | None = None, sts: str | None = None
) -> dict[str, str]:
    env = aws_env(server.endpoint_url, tmp_path)
    if s3 is not None:
        env["AWS_ENDPOINT_URL_S3"] = s3
    if sts is not None:
        env["AWS_ENDPOINT_URL_STS"] = sts
    # A lock left behind lapses soon (the runs here release theirs).
    env["PERSONALIZE_RUNNER_S3_LOCK_LEASE"] = "3"
    return env


def s3_state(s3_server: S3Server, bucket: str) -> State:
    """The state as any reader sees it: the object and the deltas after it."""
    from runner.state.s3 import S3StateStore

    client = boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    snapshot = S3StateStore(bucket, KEY, client=client, warn=lambda _: None).read()
    assert snapshot is not None
    return snapshot.state


def arns(state: State) -> set[str]:
    return {record.arn for record in state.jobs.values()}


@pytest.mark.parametrize("endpoint", ["silent_server", "slow_server"])
def test_reconcile_against_an_s3_that_does_not_answer_ends_at_its_deadline(
    repo: Path,
    tmp_path: Path,
    server: PersonalizeServer,
    endpoint: str,
    request: pytest.FixtureRequest,
) -> None:
    silent: SilentServer = request.getfixturevalue(endpoint)
    write_specs(repo / "specs", ["alpha"])
    env = environment(server, tmp_path, s3=silent.endpoint_url)

    ran = run(repo, env, "reconcile", "--state", f"s3://acme-state/{KEY}", timeout=6)

    assert ran.status == 1, ran
    assert ran.took <= 6 + GUARD
    # The call cut short, on which key, and what to do.
    assert re.search(
        rf"^error: cannot check conditional writes on s3://acme-state/{KEY}\.probe-[0-9a-f-]+: "
        r"the run's deadline \(--timeout\) passed during PutObject \(after 1 attempt: "
        r"Read timeout on endpoint URL: .*\. S3 did not answer before the run's deadline; "
        r"run again \(with a longer --timeout if S3 is slow\)",
        ran.err,
    ), ran.err
    assert silent.connections >= 1
    assert server.count("CreateBatchSegmentJob") == 0


def test_status_refresh_and_wait_against_an_s3_that_never_answers_end_at_their_deadline(
    repo: Path, tmp_path: Path, server: PersonalizeServer, silent_server: SilentServer
) -> None:
    env = environment(server, tmp_path, s3=silent_server.endpoint_url)
    state = f"s3://acme-state/{KEY}"
    for command in (["status", "--refresh"], ["wait"]):
        ran = run(repo, env, *command, "--state", state, timeout=4)

        assert ran.status == 1, ran
        assert ran.took <= 4 + GUARD
        assert ran.out == ""
        assert ran.err.startswith(
            f"error: cannot read state {state}: the run's deadline (--timeout) passed during "
            "GetObject (after 1 attempt: Read timeout on endpoint URL: "
            f'"{silent_server.endpoint_url}/acme-state/{KEY}"'
        ), ran.err


@pytest.mark.parametrize("late", [False, True], ids=["never-written", "written-late"])
def test_a_record_write_cut_short_names_the_job_and_the_next_run_adopts_it(
    repo: Path,
    tmp_path: Path,
    server: PersonalizeServer,
    stalling: S3Server,
    s3_bucket: str,
    late: bool,
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = environment(server, tmp_path, s3=stalling.stalling_url)
    write_specs(repo / "specs", ["alpha"])
    first = run(repo, env, "reconcile", "--state", state, timeout=60)
    assert first.status == 0, first
    write_specs(repo / "specs", ["beta", "gamma"])
    # The record of the first job created is written as a delta: S3 does not answer it
    # (or carries it out long after the run gave up).
    stalling.stalling.stall("PUT", DELTA, seconds=12 if late else 3600, apply=late)
    calls = len(server.calls)

    ran = run(repo, env, "reconcile", "--state", state, timeout=8)

    assert ran.status == 1, ran
    assert ran.took <= 8 + GUARD
    assert stalling.stalling.stalled == 1
    # One create answered; the run stopped at its record, before the other's create.
    (created,) = [
        call.body["jobName"]
        for call in server.calls[calls:]
        if call.operation == "CreateBatchSegmentJob"
    ]
    assert re.search(
        rf"error: cannot write s3://{s3_bucket}/{KEY}\.deltas/[^/]+/000000000002\.json: the "
        r"run's deadline \(--timeout\) passed during PutObject \(after 1 attempt: Read timeout "
        r".*S3 did not answer before the run's deadline; run again \(with a longer --timeout "
        rf"if S3 is slow\).* The job {created} was created at the service "
        rf"\({re.escape(job_arn(created))}\) but is not recorded: the next reconcile adopts it\.",
        ran.err,
    ), ran.err
    # The state reads back: as it was, or with the record once the late write lands.
    assert arns(s3_state(stalling, s3_bucket)) in (
        {job_arn("alpha")},
        {job_arn("alpha"), job_arn(created)},
    )
    if late:
        _until(lambda: job_arn(created) in arns(s3_state(stalling, s3_bucket)))
    stalling.stalling.lift()

    # The lock was released: the next run goes ahead at once, adopts (or finds recorded)
    # the job the cut-short run created, and creates the other.
    again = run(repo, env, "reconcile", "--state", state, "--lock-timeout", "0", timeout=60)

    assert again.status == 0, again
    assert arns(s3_state(stalling, s3_bucket)) == {job_arn(n) for n in ("alpha", "beta", "gamma")}
    if not late:
        assert f"adopted  {created}" in again.out, again.out


def test_an_s3_that_stops_answering_midway_leaves_a_lease_that_lapses_by_itself(
    repo: Path, tmp_path: Path, server: PersonalizeServer, stalling: S3Server, s3_bucket: str
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = environment(server, tmp_path, s3=stalling.stalling_url)
    write_specs(repo / "specs", ["alpha"])
    assert run(repo, env, "reconcile", "--state", state, timeout=60).status == 0
    write_specs(repo / "specs", ["beta"])
    # From the record of beta on, S3 answers nothing: not the lock's release either.
    stalling.stalling.stall("PUT", DELTA, spread=True)

    ran = run(repo, env, "reconcile", "--state", state, timeout=8)

    assert ran.status == 1, ran
    assert ran.took <= 8 + GUARD
    lock = f"s3://{s3_bucket}/{KEY}.lock"
    # The release was tried, briefly, and the run says how the lock frees itself.
    assert re.search(
        rf"warning: could not release the state lock {re.escape(lock)}: cannot read the "
        rf"state lock {re.escape(lock)}: the run's deadline \(--timeout\) passed during "
        r"GetObject .* Its lease lapses by itself 3s after its last renewal, and the next run "
        r"takes it over then; to remove it at once: personalize-runner state unlock [0-9a-f-]+",
        ran.err,
    ), ran.err
    assert re.search(
        r"The job beta was created at the service \(.*\) but is not recorded: the next "
        r"reconcile adopts it\.",
        ran.err,
    ), ran.err
    assert arns(s3_state(stalling, s3_bucket)) == {job_arn("alpha")}
    stalling.stalling.lift()

    again = run(repo, env, "reconcile", "--state", state, timeout=60)

    assert again.status == 0, again
    assert f"took over the state lock {lock}" in again.err
    assert "adopted  beta" in again.out, again.out
    assert arns(s3_state(stalling, s3_bucket)) == {job_arn("alpha"), job_arn("beta")}


def _until(condition: Callable[[], bool], *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_status_refresh_whose_state_write_is_cut_short_shows_the_statuses_and_says_so(
    repo: Path,
    tmp_path: Path,
    server: PersonalizeServer,
    stalling: S3Server,
    s3_bucket: str,
    manual_clock: ManualClock,
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = environment(server, tmp_path, s3=stalling.stalling_url)
    write_specs(repo / "specs", ["alpha"])
    assert run(repo, env, "reconcile", "--state", state, timeout=60).status == 0
    before = s3_state(stalling, s3_bucket)
    manual_clock.advance(3600)
    stalling.stalling.stall("PUT", ".", apply=False)

    ran = run(repo, env, "status", "--refresh", "--state", state, timeout=5)

    assert ran.status == 1, ran
    assert ran.took <= 5 + GUARD
    assert "alpha" in ran.out
    assert "CREATE FAILED" in ran.out
    assert re.search(
        rf"error: the statuses shown were not written to state {state}: .*the run's deadline "
        r"\(--timeout\) passed during PutObject",
        ran.err,
    ), ran.err
    assert s3_state(stalling, s3_bucket) == before


@pytest.fixture
def accounts_repo(repo: Path) -> Path:
    """Specs in an account reached through a profile, and in one reached through a role."""
    other = "210987654321"
    write_specs(repo / "specs", ["promo-a"])
    spec_b = spec_yaml("promo-b", region="eu-west-1").replace(MOTO_ACCOUNT, other)
    (repo / "specs" / "promo-b.yaml").write_text(spec_b, encoding="utf-8")
    (repo / "personalize-runner.yaml").write_text(
        "backend: aws\naccounts:\n"
        f'  "{MOTO_ACCOUNT}":\n    profile: growth-a\n'
        f'  "{other}":\n    role_arn: arn:aws:iam::{other}:role/personalize-runner\n',
        encoding="utf-8",
    )
    return repo


def test_reconcile_whose_sts_never_answers_ends_at_its_deadline_naming_the_account(
    accounts_repo: Path, tmp_path: Path, server: PersonalizeServer, silent_server: SilentServer
) -> None:
    (tmp_path / "aws-config").write_text("[profile growth-a]\nregion = us-east-1\n")
    (tmp_path / "aws-credentials").write_text(
        "[growth-a]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n"
    )
    env = environment(server, tmp_path, sts=silent_server.endpoint_url)

    ran = run(accounts_repo, env, "reconcile", timeout=6)

    assert ran.status == 1, ran
    assert ran.took <= 6 + GUARD
    # Both accounts' checks are cut short: the role's AssumeRole, the profile's
    # GetCallerIdentity; the first one to end is the run's error.
    assert re.search(
        r"^error: DeadlineExceeded: account \d{12}: cannot (use the profile 'growth-a'|assume "
        r"the role arn:aws:iam::\d{12}:role/personalize-runner): the run's deadline "
        r"\(--timeout\) passed during (GetCallerIdentity|AssumeRole) \(after 1 attempt: Read "
        r"timeout on endpoint URL: .*: the run's deadline \(--timeout 6s\) passed while asking "
        r"the service what it knows of the specs' jobs; nothing was submitted\.",
        ran.err,
    ), ran.err
    assert server.count("CreateBatchSegmentJob") == 0
    assert silent_server.connections >= 1
