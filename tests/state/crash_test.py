"""A reconcile killed (SIGKILL) at each step of the state's write path (issue 11), through
the command line: a journal line half written, written but not flushed, flushed; a
compaction with the backup written, with the new snapshot written and the journal not yet
removed; in S3, a delta written, a compaction's snapshot written and its deltas not yet
removed. Every time, the state reads as the records written before the kill (the state
commands read the same), and the next run goes on: it adopts a job whose record was lost,
and folds what the killed run left."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import boto3
import pytest

from runner.faults import SETTING
from runner.state.file import FileStateStore
from runner.state.s3 import S3StateStore
from tests.state.s3_server import S3Server
from tests.support.cli import aws_env, cli_process
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import make_repo

KEY = "personalize/state.json"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    write_specs(root / "specs", ["alpha"])
    return root


def _run(repo: Path, env: dict[str, str], *args: str, crash: str | None = None) -> tuple[int, str]:
    run_env = dict(env)
    if crash is not None:
        run_env[SETTING] = crash
    process = cli_process(*args, cwd=repo, env=run_env, capture=True)
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def _listed(repo: Path, env: dict[str, str], *state: str) -> list[str]:
    status, out = _run(repo, env, "state", "list", "--format", "json", *state)
    assert status == 0, out
    return sorted(job["name"] for job in json.loads(out)["jobs"])


# (crash point, whether the killed run's record of beta is in the state)
FILE_POINTS = [
    ("journal-torn", False),
    ("journal-written", True),
    ("journal-synced", True),
    ("backup-written", True),
    ("snapshot-written", True),
]


@pytest.mark.parametrize(("point", "recorded"), FILE_POINTS, ids=[p for p, _ in FILE_POINTS])
def test_a_reconcile_killed_at_each_step_of_a_file_write(
    repo: Path,
    personalize_server: PersonalizeServer,
    tmp_path: Path,
    point: str,
    recorded: bool,
) -> None:
    env = aws_env(personalize_server.endpoint_url, tmp_path)
    path = repo / ".personalize-runner" / "state.json"
    store = FileStateStore(path)
    assert _run(repo, env, "reconcile")[0] == 0
    write_specs(repo / "specs", ["beta", "gamma"])

    status, out = _run(repo, env, "reconcile", crash=point)

    assert status == -signal.SIGKILL, out
    snapshot = store.read()
    assert snapshot is not None
    read = sorted(snapshot.state.jobs)
    # Killed at its first journal line (beta's, or gamma's when beta sorts first).
    assert read[0] == "alpha"
    assert len(read) in (1, 2, 3)
    if point == "journal-torn":
        assert Path(f"{path}.journal").read_bytes()[-1:] != b"\n"
        assert read == ["alpha"]
    elif point in ("journal-written", "journal-synced"):
        assert len(read) == 2
    else:
        # The end of the run: both recorded, not yet (or half) folded.
        assert read == ["alpha", "beta", "gamma"]
    assert Path(f"{path}.journal").exists()
    assert _listed(repo, env) == read

    status, out = _run(repo, env, "reconcile")

    assert status == 0, out
    if not recorded:
        # The job whose line was torn exists at the service: adopted, not created again.
        assert "1 adopted" in out, out
    assert not Path(f"{path}.journal").exists()
    after = store.read()
    assert after is not None
    assert sorted(after.state.jobs) == ["alpha", "beta", "gamma"]
    assert _listed(repo, env) == ["alpha", "beta", "gamma"]
    # Two creates at the service in all, whatever step the kill stopped.
    assert personalize_server.count("CreateBatchSegmentJob") == 3


S3_POINTS = ["delta-written", "compaction-written"]


@pytest.mark.parametrize("point", S3_POINTS)
def test_a_reconcile_killed_at_each_step_of_an_s3_write(
    repo: Path,
    personalize_server: PersonalizeServer,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    point: str,
) -> None:
    env = aws_env(personalize_server.endpoint_url, tmp_path)
    env["AWS_ENDPOINT_URL_S3"] = s3_server.endpoint_url
    state = f"s3://{s3_bucket}/{KEY}"
    store = S3StateStore(s3_bucket, KEY, client=boto3.client("s3"))
    assert _run(repo, env, "reconcile", "--state", state)[0] == 0
    write_specs(repo / "specs", ["beta"])

    status, out = _run(repo, env, "reconcile", "--state", state, crash=point)

    assert status == -signal.SIGKILL, out
    snapshot = store.read()
    assert snapshot is not None
    assert sorted(snapshot.state.jobs) == ["alpha", "beta"]
    deltas = boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix=f"{KEY}.deltas/")
    assert deltas.get("KeyCount", 0) == 1
    assert _listed(repo, env, "--state", state) == ["alpha", "beta"]

    # The next run waits out the killed run's lease (on this host: at once) and folds.
    status, out = _run(repo, env, "reconcile", "--state", state)

    assert status == 0, out
    deltas = boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix=f"{KEY}.deltas/")
    assert deltas.get("KeyCount", 0) == 0
    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=KEY)["Body"].read()
    assert sorted(json.loads(body)["jobs"]) == ["alpha", "beta"]
    assert personalize_server.count("CreateBatchSegmentJob") == 2
