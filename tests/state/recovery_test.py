"""Locks that recover by themselves (issue 10), through the command line: a reconcile that
holds the state lock is killed (SIGKILL), stopped (SIGTERM), frozen (SIGSTOP) or cut off
from S3, and the next run goes on by itself within the documented bound."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from runner.state import LockHolder, State
from runner.state.s3lock import _CLOCK_SLACK, _POLL_MAX
from runner.times import format_time
from tests.state.s3_server import S3Server
from tests.support.cli import aws_env, cli_process, run_cli
from tests.support.clock import ManualClock
from tests.support.job_requests import job_arn
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer

KEY = "personalize/state.json"
# Short enough for a test, and set the documented way.
LEASE = "3"


@pytest.fixture
def repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared repository (tests/support/fixtures.py) with the spec alpha, and a short
    lease."""
    write_specs(repo / "specs", ["alpha"])
    monkeypatch.setenv("PERSONALIZE_RUNNER_S3_LOCK_LEASE", LEASE)
    return repo


def state_file(repo: Path) -> Path:
    return repo / ".personalize-runner" / "state.json"


def _until(condition: Callable[[], bool], *, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _recorded_in_file(repo: Path, name: str) -> bool:
    path = state_file(repo)
    return path.exists() and name in State.from_json(path.read_bytes(), source="test").jobs


def _s3_state(bucket: str) -> State | None:
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key=KEY)["Body"].read()
    except boto3.client("s3").exceptions.NoSuchKey:
        return None
    return State.from_json(body, source="test")


@contextmanager
def holding_reconcile(
    repo: Path, env: dict[str, str], *args: str, recorded: Callable[[], bool]
) -> Iterator[subprocess.Popen[str]]:
    """`reconcile --wait` in a process of its own (its job never ends on the stand-in's
    manual clock), once it has recorded its job and so holds the lock."""
    process = cli_process("reconcile", "--wait", *args, cwd=repo, env=env, capture=True)
    try:
        _until(lambda: recorded() or process.poll() is not None, what="the job's record")
        assert process.poll() is None, process.communicate()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _env(personalize_server: PersonalizeServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = aws_env(personalize_server.endpoint_url, tmp_path)
    env["PERSONALIZE_RUNNER_S3_LOCK_LEASE"] = LEASE
    env.update(extra)
    return env


# The file lock


def test_a_reconcile_killed_holding_the_file_lock_is_taken_over_at_once(
    repo: Path, personalize_server: PersonalizeServer, tmp_path: Path
) -> None:
    lock_file = Path(f"{state_file(repo)}.lock")
    env = _env(personalize_server, tmp_path)
    with holding_reconcile(repo, env, recorded=lambda: _recorded_in_file(repo, "alpha")) as held:
        noted = LockHolder.from_json(lock_file.read_bytes())
        assert noted is not None
        holder, since = noted
        assert (holder.pid, holder.host, holder.alive()) == (held.pid, socket.gethostname(), True)
        held.send_signal(signal.SIGKILL)
        held.wait()
    assert holder.alive() is False
    write_specs(repo / "specs", ["beta"])

    began = time.monotonic()
    ran = run_cli("reconcile")

    assert time.monotonic() - began < 5
    assert ran.status == 0, ran.err
    assert ran.err == (
        f"warning: took over the state lock {lock_file}: its last holder, {holder.describe()} "
        f"since {format_time(since)}, ended without releasing it (no longer running; killed "
        "or crashed). The kernel had released it.\n"
    )
    assert ran.out.endswith("Reconcile: 1 created, 1 unchanged (state serial 2).\n")


def test_a_reconcile_stopped_by_sigterm_releases_the_file_lock(
    repo: Path, personalize_server: PersonalizeServer, tmp_path: Path
) -> None:
    lock_file = Path(f"{state_file(repo)}.lock")
    env = _env(personalize_server, tmp_path)
    with holding_reconcile(repo, env, recorded=lambda: _recorded_in_file(repo, "alpha")) as held:
        held.send_signal(signal.SIGTERM)
        _, err = held.communicate(timeout=30)

    assert held.returncode == 143, err
    assert err.endswith(
        "interrupted (SIGTERM): every job submitted before is recorded in the state, and the "
        "state lock is released. Run reconcile again to submit the rest.\n"
    )
    assert lock_file.read_bytes() == b""
    write_specs(repo / "specs", ["beta"])
    ran = run_cli("reconcile")
    assert (ran.status, ran.err) == (0, "")


def test_a_sigterm_just_after_the_state_write_does_not_call_the_recorded_job_unknown(
    repo: Path, personalize_server: PersonalizeServer, tmp_path: Path
) -> None:
    # The signal lands once the state holding alpha is in place, before the run has noted
    # that its write is done: alpha is recorded, and the run says so.
    env = _env(
        personalize_server,
        tmp_path,
        PERSONALIZE_RUNNER_CRASH_AT="snapshot-written",
        PERSONALIZE_RUNNER_CRASH_SIGNAL="SIGTERM",
    )
    process = cli_process("reconcile", cwd=repo, env=env, capture=True)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 143, err
    assert err.endswith(
        "interrupted (SIGTERM): every job submitted before is recorded in the state, and the "
        "state lock is released. Run reconcile again to submit the rest.\n"
    )
    assert _recorded_in_file(repo, "alpha")
    ran = run_cli("reconcile")
    assert (ran.status, ran.err) == (0, "")
    assert personalize_server.count("CreateBatchSegmentJob") == 1


def test_a_run_waiting_for_a_live_file_lock_says_who_holds_it_and_how_long_it_waits(
    repo: Path, personalize_server: PersonalizeServer, tmp_path: Path
) -> None:
    lock_file = Path(f"{state_file(repo)}.lock")
    env = _env(personalize_server, tmp_path)
    with holding_reconcile(repo, env, recorded=lambda: _recorded_in_file(repo, "alpha")):
        noted = LockHolder.from_json(lock_file.read_bytes())
        assert noted is not None
        holder, since = noted
        ran = run_cli("reconcile", "--lock-timeout", "1")

    who = f"{holder.describe()} since {format_time(since)}"
    assert ran.status == 1
    # What is left of the 1 s lock timeout once the first try failed (to a tenth of a second:
    # on a loaded machine the try itself may take one).
    waiting, _, rest = ran.err.partition("\n")
    found = re.fullmatch(
        rf"waiting for the state lock {re.escape(str(lock_file))}: it is held by "
        rf"{re.escape(who)} \(running\); waiting up to (\d(?:\.\d)?)s for it \(the lock "
        r"timeout\)\.",
        waiting,
    )
    assert found is not None, waiting
    assert 0 < float(found[1]) <= 1
    assert rest == (
        f"error: the state lock {lock_file} is held by {who}; gave up after 1s. Another run "
        "is using the state: wait for it to finish and run the command again, or allow a "
        "longer lock timeout. (The lock is released as soon as its holder exits, even if it "
        "is killed: there is nothing to delete.)\n"
    )


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_sighup_and_sigint_are_handled_as_sigterm(
    repo: Path,
    personalize_server: PersonalizeServer,
    tmp_path: Path,
    signum: signal.Signals,
    status: int,
) -> None:
    env = _env(personalize_server, tmp_path)
    with holding_reconcile(repo, env, recorded=lambda: _recorded_in_file(repo, "alpha")) as held:
        held.send_signal(signum)
        _, err = held.communicate(timeout=30)
    assert held.returncode == status
    assert f"interrupted ({signum.name}): every job submitted before is recorded" in err
    assert Path(f"{state_file(repo)}.lock").read_bytes() == b""


def test_sigterm_during_a_create_names_the_job_whose_outcome_is_unknown(
    repo: Path, personalize_server: PersonalizeServer, tmp_path: Path
) -> None:
    # The create is carried out 2 s after it arrives; the run is stopped meanwhile.
    personalize_server.delay(2, operation="CreateBatchSegmentJob")
    process = cli_process(
        "reconcile", cwd=repo, env=_env(personalize_server, tmp_path), capture=True
    )
    try:
        _until(
            lambda: personalize_server.count("CreateBatchSegmentJob") > 0,
            what="the create call",
        )
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 143
    assert err.endswith(
        "interrupted (SIGTERM): every job submitted before is recorded in the state, and the "
        "state lock is released. The outcome of alpha is unknown: its create was sent and no "
        "answer was recorded. The next reconcile adopts it if it was created, or submits it.\n"
    )
    assert Path(f"{state_file(repo)}.lock").read_bytes() == b""
    # The create was carried out at the service after all: the next run adopts it.
    time.sleep(max(0.0, sent + 2.5 - time.monotonic()))
    ran = run_cli("reconcile")
    assert ran.status == 0, ran.err
    assert f"adopted  alpha  {job_arn('alpha')}" in ran.out


# The S3 lock


def test_a_reconcile_killed_holding_the_s3_lock_is_taken_over(
    repo: Path,
    personalize_server: PersonalizeServer,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = _env(personalize_server, tmp_path, AWS_ENDPOINT_URL_S3=s3_server.endpoint_url)

    def recorded() -> bool:
        current = _s3_state(s3_bucket)
        return current is not None and "alpha" in current.jobs

    with holding_reconcile(repo, env, "--state", state, recorded=recorded) as held:
        body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=f"{KEY}.lock")["Body"].read()
        lock = json.loads(body)
        assert (lock["pid"], lock["lease_seconds"]) == (held.pid, 3.0)
        held.send_signal(signal.SIGKILL)
        held.wait()
    write_specs(repo / "specs", ["beta"])

    began = time.monotonic()
    ran = run_cli("reconcile", "--state", state)

    # Same host: its process is gone, so there is no need to wait for the lease.
    assert time.monotonic() - began < 5
    assert ran.status == 0, ran.err
    assert (
        f"warning: took over the state lock {state}.lock (lock id {lock['lock_id']}) from pid "
        f"{held.pid} on {socket.gethostname()} ("
    ) in ran.err
    assert (
        "its holder no longer runs (same host: its process is gone). That is safe: every "
        "write of the state is a compare-and-swap, so that run cannot overwrite what this one "
        "writes.\n"
    ) in ran.err
    current = _s3_state(s3_bucket)
    assert current is not None
    assert sorted(current.jobs) == ["alpha", "beta"]


def test_a_frozen_holder_loses_its_lapsed_s3_lease_and_cannot_overwrite_the_state(
    repo: Path,
    personalize_server: PersonalizeServer,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    manual_clock: ManualClock,
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = _env(personalize_server, tmp_path, AWS_ENDPOINT_URL_S3=s3_server.endpoint_url)

    def recorded() -> bool:
        current = _s3_state(s3_bucket)
        return current is not None and "alpha" in current.jobs

    started = time.monotonic()
    with holding_reconcile(repo, env, "--state", state, recorded=recorded) as held:
        # What a run takes here, as loaded as the machine is now: start, lock, plan, create,
        # write (the run below does as much after it takes the lock over).
        a_run = time.monotonic() - started
        # Frozen: alive, but it renews its lease no more.
        frozen = time.monotonic()
        held.send_signal(signal.SIGSTOP)
        lock_object = boto3.client("s3").head_object(Bucket=s3_bucket, Key=f"{KEY}.lock")
        write_specs(repo / "specs", ["beta"])
        ran = run_cli("reconcile", "--state", state)
        waited = time.monotonic() - frozen
        assert ran.status == 0, ran.err
        # Taken over only once the lease lapsed: more than a lease after its last renewal
        # (S3's Last-Modified, to the second, at or before it)...
        lease = float(LEASE)
        assert time.time() - lock_object["LastModified"].timestamp() > lease
        # ...and soon after: a lease after the last renewal (at or before the freeze), by
        # S3's clock (to the second: `_CLOCK_SLACK`, twice), seen within a poll
        # (`_POLL_MAX`); then the run goes on as the first one did.
        assert waited < lease + 2 * _CLOCK_SLACK + _POLL_MAX + a_run, (waited, a_run)
        waiting, took_over = [line for line in ran.err.splitlines() if "state lock" in line]
        assert waiting.startswith(f"waiting for the state lock {state}.lock: it is held by pid ")
        assert "(running), lock id " in waiting
        assert "its 3s lease runs until " in waiting
        # The lock timeout (60 s) less the time its first try took.
        found = re.search(
            r"; waiting up to (\d+(?:\.\d)?)s for it \(the lock timeout\)\.$", waiting
        )
        assert found is not None, waiting
        assert 60 - a_run <= float(found[1]) <= 60, waiting
        assert "its 3s lease lapsed (last renewed " in took_over
        after_takeover = _s3_state(s3_bucket)
        assert after_takeover is not None
        assert sorted(after_takeover.jobs) == ["alpha", "beta"]

        # Thawed, it finds its lease gone; the change of status it then writes is refused
        # (compare-and-swap), so the record of beta stays.
        held.send_signal(signal.SIGCONT)
        manual_clock.advance(100)
        _, err = held.communicate(timeout=60)

    assert held.returncode == 1, err
    assert "no longer holds the state lock" in err
    assert "changed since this run read it" in err
    final = _s3_state(s3_bucket)
    assert final is not None
    assert final.serial == after_takeover.serial
    assert sorted(final.jobs) == ["alpha", "beta"]


def test_a_reconcile_stopped_by_sigterm_releases_the_s3_lock(
    repo: Path,
    personalize_server: PersonalizeServer,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = _env(personalize_server, tmp_path, AWS_ENDPOINT_URL_S3=s3_server.endpoint_url)

    def recorded() -> bool:
        current = _s3_state(s3_bucket)
        return current is not None and "alpha" in current.jobs

    with holding_reconcile(repo, env, "--state", state, recorded=recorded) as held:
        held.send_signal(signal.SIGTERM)
        _, err = held.communicate(timeout=30)

    assert held.returncode == 143, err
    assert err.endswith(
        "interrupted (SIGTERM): every job submitted before is recorded in the state, and the "
        "state lock is released. Run reconcile again to submit the rest.\n"
    )
    client = boto3.client("s3")
    assert client.list_objects_v2(Bucket=s3_bucket, Prefix=f"{KEY}.lock")["KeyCount"] == 0
    write_specs(repo / "specs", ["beta"])
    ran = run_cli("reconcile", "--state", state)
    assert ran.status == 0, ran.err
    assert "state lock" not in ran.err


def test_an_s3_outage_mid_run_leaves_a_lock_that_the_next_run_takes_over(
    repo: Path,
    personalize_server: PersonalizeServer,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    state = f"s3://{s3_bucket}/{KEY}"
    env = _env(
        personalize_server,
        tmp_path,
        AWS_ENDPOINT_URL_S3=s3_server.outage_url,
        AWS_MAX_ATTEMPTS="2",
    )
    # S3 goes down while the create is on its way: its answer cannot be recorded.
    personalize_server.delay(1.5, operation="CreateBatchSegmentJob")
    process = cli_process("reconcile", "--state", state, cwd=repo, env=env, capture=True)
    try:
        _until(lambda: personalize_server.count("CreateBatchSegmentJob") > 0, what="the create")
        s3_server.go_down()
        _, err = process.communicate(timeout=60)
    finally:
        s3_server.come_back()
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 1, err
    assert f"error: cannot write state {state}: ServiceUnavailable" in err
    assert (
        f"The job alpha was created at the service ({job_arn('alpha')}) but is not recorded: "
        "the next reconcile adopts it."
    ) in err
    assert f"warning: could not release the state lock {state}.lock" in err
    assert "Its lease lapses by itself 3s after its last renewal" in err

    personalize_server.clear_faults()
    ran = run_cli("reconcile", "--state", state)

    assert ran.status == 0, ran.err
    assert "warning: took over the state lock" in ran.err
    assert f"adopted  alpha  {job_arn('alpha')}" in ran.out
    assert personalize_server.count("CreateBatchSegmentJob") == 1
    current = _s3_state(s3_bucket)
    assert current is not None
    assert current.jobs["alpha"].recorded_by == "adopted"
