# The fixtures are imported from tests.state.s3_server: arguments redefine them.
# ruff: noqa: F811
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from runner.__main__ import main
from runner.backends.local import FOLDER_NAME, LocalBackend
from runner.backends.local.service import PersonalizeService
from runner.kinds import BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB
from runner.state import LockHolder, open_store
from runner.state.file import FileStateStore
from runner.state.s3 import S3StateStore
from tests.state.s3_server import (  # noqa: F401
    S3Server,
    aws_environment,
    s3_bucket,
    s3_server,
    s3_server_session,
)
from tests.state.support import make_state
from tests.support.job_requests import job_arn, job_request

JOB = "holiday-promo"
SPEC = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
jobName: holiday-promo
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/items.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""
KEY = "personalize/state.json"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / f"{JOB}.yaml").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PERSONALIZE_RUNNER_BACKEND", raising=False)
    return tmp_path


@pytest.fixture
def service(repo: Path) -> PersonalizeService:
    """The local service the CLI opens too (`.personalize-local` at the repository root)."""
    return PersonalizeService.in_folder(repo / FOLDER_NAME, pending_seconds=3600)


def run(*args: str, answer: str | None = None, monkeypatch: pytest.MonkeyPatch) -> int:
    if answer is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    return main(list(args))


def state_file(repo: Path) -> Path:
    return repo / ".personalize-runner" / "state.json"


def test_import_list_show_forget(
    repo: Path,
    service: PersonalizeService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    LocalBackend(service).create_job(BATCH_SEGMENT_JOB, job_request(JOB))
    path = state_file(repo)

    assert run("state", "list", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out == f"No state yet: state file {path} does not exist.\n"

    assert run("state", "import", JOB, "--backend", "local", monkeypatch=monkeypatch) == 0
    arn = job_arn(JOB)
    assert capsys.readouterr().out == (
        f"Imported {JOB} ({arn}, CREATE PENDING) into state file {path}.\n"
    )
    snapshot = FileStateStore(path).read()
    assert snapshot is not None
    record = snapshot.state.jobs[JOB]
    assert (record.arn, record.recorded_by, record.spec_file) == (
        arn,
        "imported",
        f"specs/{JOB}.yaml",
    )
    submitted = record.submitted_at.isoformat().replace("+00:00", "Z")

    assert run("state", "list", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out == (
        f"state file {path}: serial 1, 1 job, lineage {snapshot.state.lineage}\n"
        f"JOB{' ' * 12}STATUS          RECORDED  SUBMITTED{' ' * (len(submitted) - 7)}SPEC\n"
        f"{JOB}  CREATE PENDING  imported  {submitted}  specs/{JOB}.yaml\n"
    )

    assert run("state", "show", JOB, "--format", "json", monkeypatch=monkeypatch) == 0
    shown: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert list(shown) == ["format", "version", "job"]
    assert shown["job"]["arn"] == arn
    assert shown["job"]["recorded_by"] == "imported"
    assert shown["job"]["submitted_at"] == submitted
    assert run("state", "show", JOB, monkeypatch=monkeypatch) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[:4] == [
        f"name               {JOB}",
        "kind               BatchSegmentJob",
        f"arn                {arn}",
        "status             CREATE PENDING",
    ]
    assert "git_commit         -" in text

    assert run("state", "import", JOB, monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err == (
        f"error: {JOB} is recorded already in state file {path} ({arn}, imported): there is "
        "nothing to import.\n"
    )

    assert run("state", "forget", JOB, answer="n\n", monkeypatch=monkeypatch) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"Forget {JOB} ({arn}, CREATE PENDING)? The job itself stays at the service; while its "
        "spec exists, reconcile will find it by name and adopt it again. [y/N] "
        "Nothing forgotten.\n"
    )
    assert run("state", "forget", JOB, answer="y\n", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out == f"Forgot {JOB} ({arn}) in state file {path}.\n"
    snapshot = FileStateStore(path).read()
    assert snapshot is not None
    assert (snapshot.state.serial, dict(snapshot.state.jobs)) == (2, {})

    assert run("state", "show", "holiday-promos", monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err == (
        f"error: state file {path} has no job holiday-promos. `state list` shows the recorded "
        "jobs.\n"
    )


def test_import_refuses_a_job_that_differs_from_its_spec(
    repo: Path,
    service: PersonalizeService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    LocalBackend(service).create_job(
        BATCH_SEGMENT_JOB,
        job_request(JOB, numResults=100, output_path="s3://acme-personalize/elsewhere/"),
    )

    assert run("state", "import", JOB, monkeypatch=monkeypatch) == 1

    assert capsys.readouterr().err == (
        f"error: cannot import {JOB}: the job {job_arn(JOB)} differs from its spec "
        f"specs/{JOB}.yaml:3:\n"
        "  numResults: the spec has 25, the service 100\n"
        '  jobOutput: the spec has {"s3DataDestination":{"path":'
        '"s3://acme-personalize/batch/out/"}}, the service {"s3DataDestination":{"path":'
        '"s3://acme-personalize/elsewhere/"}}\n'
        "Jobs cannot be changed: restore the spec to what the job was created with, or give "
        "the spec a new jobName (reconcile then submits it).\n"
    )
    assert not state_file(repo).exists()


def test_import_takes_a_missing_num_results_for_25(
    repo: Path,
    service: PersonalizeService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = repo / "specs" / f"{JOB}.yaml"
    spec.write_text(SPEC + "numResults: 25\ntags:\n  - tagKey: team\n    tagValue: growth\n")
    LocalBackend(service).create_job(
        BATCH_SEGMENT_JOB, job_request(JOB, tags=[{"tagKey": "team", "tagValue": "growth"}])
    )

    assert run("state", "import", JOB, monkeypatch=monkeypatch) == 0

    assert capsys.readouterr().out.startswith(f"Imported {JOB} (")


def test_import_compares_tags(
    repo: Path,
    service: PersonalizeService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = repo / "specs" / f"{JOB}.yaml"
    spec.write_text(SPEC + "tags:\n  - tagKey: team\n    tagValue: growth\n")
    LocalBackend(service).create_job(BATCH_SEGMENT_JOB, job_request(JOB))

    assert run("state", "import", JOB, monkeypatch=monkeypatch) == 1

    assert "  tags: the job lacks team=growth\n" in capsys.readouterr().err


def test_import_needs_the_job_and_its_spec(
    repo: Path,
    service: PersonalizeService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run("state", "import", JOB, monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err == (
        f"error: cannot import {JOB}: there is no job {job_arn(JOB)} at the local backend "
        "(account 123456789012, region us-east-1). Nothing to import: `reconcile` submits it.\n"
    )

    assert run("state", "import", "summer-sale", monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err == (
        f"error: cannot import summer-sale: no valid spec under {repo / 'specs'} has jobName "
        "summer-sale. A job is imported against its spec: write the spec first, with the "
        "parameters the job was created with.\n"
    )


def test_forget_with_yes_does_not_ask(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    FileStateStore(state_file(repo)).write(make_state(2), expected=None)

    assert run("state", "forget", "job-00001", "--yes", monkeypatch=monkeypatch) == 0

    captured = capsys.readouterr()
    assert captured.err == ""
    snapshot = FileStateStore(state_file(repo)).read()
    assert snapshot is not None
    assert list(snapshot.state.jobs) == ["job-00000"]


def test_migrate_copies_a_local_state_into_s3_once(
    repo: Path,
    s3_bucket: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    boto3.client("s3").put_bucket_versioning(
        Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    path = state_file(repo)
    FileStateStore(path).write(make_state(3), expected=None)
    target = f"s3://{s3_bucket}/{KEY}"

    assert run("state", "migrate", "--to", target, monkeypatch=monkeypatch) == 0

    assert capsys.readouterr().out == (
        f"Copied state file {path} (serial 1, 3 jobs) to state {target}.\n"
        f"Use it from now on: set `state: {target}` in personalize-runner.yaml (or pass "
        f"--state {target}), then remove {path}, which is no longer updated.\n"
    )
    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=KEY)["Body"].read()
    assert body == path.read_bytes()

    assert run("state", "migrate", "--to", target, monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err == (
        f"error: state migrate: state {target} exists already (serial 1, lineage "
        f"{make_state().lineage}): refusing to overwrite it. It was migrated already, or "
        "another state lives there; use it with --state, or pick another key.\n"
    )

    assert run("state", "list", "--state", target, monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.startswith(f"state {target}: serial 1, 3 jobs, lineage ")
    assert (
        run("state", "forget", "job-00002", "--yes", "--state", target, monkeypatch=monkeypatch)
        == 0
    )
    snapshot = open_store(target).read()
    assert snapshot is not None
    assert (snapshot.state.serial, sorted(snapshot.state.jobs)) == (2, ["job-00000", "job-00001"])


def test_unlock_removes_a_stale_lock_after_asking(
    repo: Path,
    s3_bucket: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = f"s3://{s3_bucket}/{KEY}"
    dead = S3StateStore(s3_bucket, KEY, warn=lambda message: None)
    holder = LockHolder(pid=4242, host="ci-runner-7", command="personalize-runner reconcile")
    # A run killed while it held the lock: its `with` block never ends.
    held = dead.lock(holder=holder, timeout=1)
    held.__enter__()
    info = dead.lock_info()
    assert info is not None
    assert info.lock_id is not None
    lock_id = info.lock_id

    assert (
        run("state", "unlock", lock_id, "--state", target, answer="\n", monkeypatch=monkeypatch)
        == 1
    )
    assert capsys.readouterr().err == (
        f"Remove the lock {lock_id} of state {target}, held by {info.describe()}? Do this only "
        "if that run is no longer running: two runs at once could submit a job twice. [y/N] "
        "The lock stays.\n"
    )
    assert dead.lock_info() == info

    assert run("state", "unlock", "0000", "--state", target, "--yes", monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err.startswith(
        f"error: the state lock {target}.lock has lock id {lock_id}, not 0000:"
    )

    assert (
        run("state", "unlock", lock_id, "--state", target, answer="y\n", monkeypatch=monkeypatch)
        == 0
    )
    assert capsys.readouterr().out == (
        f"Removed the lock {lock_id} of state {target} (held by {info.describe()}).\n"
    )
    assert dead.lock_info() is None


def test_a_local_state_has_no_lock_to_remove(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("state", "unlock", "0000", "--yes", monkeypatch=monkeypatch) == 1

    assert capsys.readouterr().err == (
        f"error: state file {state_file(repo)} is locked with flock, which the system releases "
        "as soon as the run holding it exits, however it exits: there is no lock to remove.\n"
    )


def test_an_inference_job_is_imported_shown_and_forgotten_by_its_key(
    repo: Path,
    service: PersonalizeService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A segment spec and an inference spec of one name; both jobs exist at the service.
    inference = SPEC.replace("kind: BatchSegmentJob", "kind: BatchInferenceJob")
    (repo / "specs" / f"{JOB}-recs.yaml").write_text(inference, encoding="utf-8")
    LocalBackend(service).create_job(BATCH_SEGMENT_JOB, job_request(JOB))
    LocalBackend(service).create_job(BATCH_INFERENCE_JOB, job_request(JOB))
    key = BATCH_INFERENCE_JOB.key(JOB)
    arn = job_arn(JOB, kind=BATCH_INFERENCE_JOB)

    assert run("state", "import", key, "--backend", "local", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out == (
        f"Imported {key} ({arn}, CREATE PENDING) into state file {state_file(repo)}.\n"
    )
    assert run("state", "import", JOB, "--backend", "local", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert run("state", "show", key, "--format", "json", monkeypatch=monkeypatch) == 0
    shown = json.loads(capsys.readouterr().out)["job"]
    assert (shown["name"], shown["kind"], shown["arn"]) == (JOB, "BatchInferenceJob", arn)
    assert (
        run("state", "forget", key, "--yes", monkeypatch=monkeypatch),
        capsys.readouterr().err,
    )[0] == 0
    snapshot = FileStateStore(state_file(repo)).read()
    assert snapshot is not None
    assert list(snapshot.state.jobs) == [JOB]
