"""Recurring specs through the CLI, with `--now` (issue 12): one job per period, exactly
once, on the local backend and on the aws backend against the HTTP stand-in; `latestOf`
resolved to the newest ACTIVE solution version at submission."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.backends.local.service import PersonalizeService
from runner.backends.local.solutions import SolutionRegistry
from runner.kinds import BATCH_SEGMENT_JOB
from tests.support.cli import aws_env, cli_process, run_cli, stand_in_process
from tests.support.clock import EPOCH
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state

ACCOUNT = "123456789012"
SOLUTION = f"arn:aws:personalize:us-east-1:{ACCOUNT}:solution/item-affinity"
VERSION = f"{SOLUTION}/4fd8ee1c"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/PersonalizeBatchRole"


def recurring_spec(
    name: str = "genre-fans-{date}",
    *,
    cron: str = "0 6 * * MON",
    timezone: str = "Europe/Berlin",
    start: str = "2026-11-02",
    catch_up: str = "latest",
    solution_version: str | None = None,
    num_results: int | None = None,
) -> str:
    model = (
        f"solutionVersionArn: {solution_version}"
        if solution_version is not None
        else f"solutionVersionArn:\n  latestOf: {SOLUTION}"
    )
    return "\n".join(
        [
            "apiVersion: personalize-runner/v1",
            "kind: BatchSegmentJob",
            f"jobName: {name}",
            "schedule:",
            f'  cron: "{cron}"',
            f"  timezone: {timezone}",
            f"  start: {start}",
            f"  catchUp: {catch_up}",
            model,
            *([f"numResults: {num_results}"] if num_results is not None else []),
            "jobInput:",
            "  s3DataSource:",
            "    path: s3://acme-personalize/batch/in/holiday-items.jsonl",
            "jobOutput:",
            "  s3DataDestination:",
            f"    path: s3://acme-personalize/batch/out/{name.split('{', 1)[0]}{{date}}/",
            f"roleArn: {ROLE}",
            "",
        ]
    )


def one_off_spec(name: str) -> str:
    return "\n".join(
        [
            "apiVersion: personalize-runner/v1",
            "kind: BatchSegmentJob",
            f"jobName: {name}",
            f"solutionVersionArn: {VERSION}",
            "jobInput:",
            "  s3DataSource:",
            "    path: s3://acme-personalize/batch/in/holiday-items.jsonl",
            "jobOutput:",
            "  s3DataDestination:",
            f"    path: s3://acme-personalize/batch/out/{name}/",
            f"roleArn: {ROLE}",
            "",
        ]
    )


def write(repo: Path, name: str, text: str) -> None:
    (repo / "specs" / name).write_text(text, encoding="utf-8")


def reconcile(*args: str) -> tuple[int, dict[str, str]]:
    """`reconcile --format json ARGS`: the exit status and each job's result by name."""
    ran = run_cli("reconcile", "--format", "json", *args)
    report = json.loads(ran.out)
    return ran.status, {job["name"]: job["result"] for job in report["jobs"]}


def plan_json(*args: str) -> dict[str, Any]:
    ran = run_cli("plan", "--format", "json", *args)
    assert ran.status == 0, ran.err
    document: dict[str, Any] = json.loads(ran.out)
    return document


def service_jobs(service: PersonalizeService) -> dict[str, str]:
    """The stand-in's jobs: name → solution version."""
    with service.store.transaction() as state:
        return {
            record["job"]["jobName"]: record["job"]["solutionVersionArn"]
            for record in state["jobs"]
        }


@pytest.fixture
def stand_in(personalize_server: PersonalizeServer) -> PersonalizeService:
    """The stand-in's service, with an ACTIVE version of the solution."""
    service = personalize_server.service
    service.solutions.add_version(VERSION, created=EPOCH - 86_400)
    return service


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository after `local demo`: the local engine's solution versions and inputs."""
    root = tmp_path_factory.mktemp("demo") / "repo"
    (root / ".git").mkdir(parents=True)
    done = run_in(root, "local", "demo")
    assert done == 0
    return root


def run_in(folder: Path, *args: str) -> int:
    import os

    here = Path.cwd()
    os.chdir(folder)
    try:
        return run_cli(*args).status
    finally:
        os.chdir(here)


@pytest.fixture
def local_repo(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the demo repository, its specs going to the local backend."""
    root = tmp_path / "repo"
    shutil.copytree(demo_template, root)
    (root / "specs").mkdir()
    (root / "personalize-runner.yaml").write_text("backend: local\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def local_jobs(root: Path) -> dict[str, str]:
    path = root / ".personalize-local" / "service" / "jobs.json"
    if not path.exists():
        return {}
    state = json.loads(path.read_text(encoding="utf-8"))
    return {
        record["job"]["jobName"]: record["job"]["solutionVersionArn"] for record in state["jobs"]
    }


def demo_version(root: Path) -> str:
    """The item-affinity solution version that `local demo` trained."""
    versions = sorted((root / ".personalize-local/engine/solution-versions").rglob("*.json"))
    arns = [json.loads(path.read_text(encoding="utf-8"))["arn"] for path in versions]
    (arn,) = [arn for arn in arns if arn.startswith(SOLUTION + "/")]
    return str(arn)


# A weekly spec: its period's job once, nothing before the next tick, the next one after.


def test_a_weekly_spec_on_the_local_backend(local_repo: Path) -> None:
    write(local_repo, "weekly.yaml", recurring_spec())
    version = demo_version(local_repo)

    # Monday 2026-11-02 05:00 in Berlin: before the first tick.
    assert reconcile("--now", "2026-11-02T04:00:00Z") == (0, {})
    assert local_jobs(local_repo) == {}

    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {"genre-fans-2026-11-02": "created"})
    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {})
    assert reconcile("--now", "2026-11-09T04:59:59Z") == (0, {})
    assert local_jobs(local_repo) == {"genre-fans-2026-11-02": version}

    assert reconcile("--now", "2026-11-09T05:00:00Z") == (0, {"genre-fans-2026-11-09": "created"})
    assert local_jobs(local_repo) == {
        "genre-fans-2026-11-02": version,
        "genre-fans-2026-11-09": version,
    }
    records = read_state(local_repo).jobs
    assert {name: (r.period, r.solution_version_arn) for name, r in records.items()} == {
        "genre-fans-2026-11-02": ("2026-11-02T06:00:00+01:00", version),
        "genre-fans-2026-11-09": ("2026-11-09T06:00:00+01:00", version),
    }
    assert {record.spec_file for record in records.values()} == {"specs/weekly.yaml"}


def test_a_weekly_spec_against_the_stand_in(repo: Path, stand_in: PersonalizeService) -> None:
    write(repo, "weekly.yaml", recurring_spec())

    assert reconcile("--now", "2026-11-02T04:00:00Z") == (0, {})
    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {"genre-fans-2026-11-02": "created"})
    assert reconcile("--now", "2026-11-08T23:00:00Z") == (0, {})
    assert service_jobs(stand_in) == {"genre-fans-2026-11-02": VERSION}
    assert reconcile("--now", "2026-11-09T06:00:00+01:00") == (
        0,
        {"genre-fans-2026-11-09": "created"},
    )
    assert sorted(service_jobs(stand_in)) == ["genre-fans-2026-11-02", "genre-fans-2026-11-09"]


def test_the_plan_shows_due_recorded_and_next_tick(
    repo: Path, stand_in: PersonalizeService
) -> None:
    write(repo, "weekly.yaml", recurring_spec())
    assert reconcile("--now", "2026-11-02T05:30:00Z")[0] == 0

    document = plan_json("--now", "2026-11-10T12:00:00Z")

    assert document["recurring"] == [
        {
            "spec_file": "specs/weekly.yaml",
            "spec_index": 0,
            "job_name": "genre-fans-{date}",
            "cron": "0 6 * * MON",
            "timezone": "Europe/Berlin",
            "due": ["genre-fans-2026-11-09"],
            "recorded": [
                {
                    "name": "genre-fans-2026-11-02",
                    "period": "2026-11-02T06:00:00+01:00",
                    "arn": f"arn:aws:personalize:us-east-1:{ACCOUNT}:batch-segment-job/"
                    "genre-fans-2026-11-02",
                    "status": "CREATE PENDING",
                }
            ],
            "next_tick": "2026-11-16T06:00:00+01:00",
            "edit_applies_from": None,
        }
    ]
    jobs = {job["name"]: job for job in document["jobs"]}
    assert jobs["genre-fans-2026-11-09"]["change"] == "create"
    assert jobs["genre-fans-2026-11-09"]["latest_of"] == SOLUTION
    assert jobs["genre-fans-2026-11-02"]["change"] == "unchanged"
    text = run_cli("plan", "--now", "2026-11-10T12:00:00Z").out
    assert (
        f"    solution version: latest ACTIVE version of {SOLUTION}, resolved at submission\n"
        in text
    )
    assert "    next tick: 2026-11-16T06:00:00+01:00\n" in text
    markdown = run_cli("plan", "--format", "markdown", "--now", "2026-11-10T12:00:00Z").out
    assert "#### Recurring specs" in markdown
    assert "`2026-11-16T06:00:00+01:00`" in markdown


def test_catch_up_all_creates_each_missed_period_once(
    repo: Path, stand_in: PersonalizeService
) -> None:
    write(repo, "weekly.yaml", recurring_spec(catch_up="all"))

    status, results = reconcile("--now", "2026-11-24T12:00:00Z")

    assert status == 0
    assert results == {
        "genre-fans-2026-11-02": "created",
        "genre-fans-2026-11-09": "created",
        "genre-fans-2026-11-16": "created",
        "genre-fans-2026-11-23": "created",
    }
    assert reconcile("--now", "2026-11-24T12:00:00Z") == (0, {})
    assert sorted(service_jobs(stand_in)) == sorted(results)


def test_more_than_a_hundred_missed_periods_are_a_finding(
    repo: Path, stand_in: PersonalizeService
) -> None:
    write(repo, "daily.yaml", recurring_spec(cron="0 1 * * *", catch_up="all", start="2026-01-01"))

    ran = run_cli("reconcile", "--now", "2026-11-24T12:00:00Z")

    assert ran.status == 1
    assert (
        "specs/daily.yaml:8:12: error: schedule.catchUp: catchUp: all has more than 100 due "
        "periods, from 2026-01-01T01:00:00+01:00 to 2026-11-24T01:00:00+01:00: move `start` "
        "later or use `catchUp: latest` [catch-up]"
    ) in ran.err
    assert service_jobs(stand_in) == {}


def test_a_time_zone_moves_the_period_boundary(repo: Path, stand_in: PersonalizeService) -> None:
    write(
        repo, "tokyo.yaml", recurring_spec("fans-{date}", cron="0 1 * * *", timezone="Asia/Tokyo")
    )

    # 15:30 UTC is 00:30 the next day in Tokyo: the newest tick is 01:00 of 2026-11-02 there.
    at_1530 = plan_json("--now", "2026-11-02T15:30:00Z")["recurring"]
    assert at_1530[0]["due"] == ["fans-2026-11-02"]
    assert at_1530[0]["next_tick"] == "2026-11-03T01:00:00+09:00"
    assert reconcile("--now", "2026-11-02T15:30:00Z") == (0, {"fans-2026-11-02": "created"})
    assert reconcile("--now", "2026-11-02T15:59:59Z") == (0, {})
    # Without an offset, --now is UTC.
    assert reconcile("--now", "2026-11-02T16:00:00") == (0, {"fans-2026-11-03": "created"})


def test_an_edit_applies_from_the_next_period_and_never_conflicts(
    repo: Path, stand_in: PersonalizeService
) -> None:
    write(repo, "weekly.yaml", recurring_spec())
    assert reconcile("--now", "2026-11-02T05:30:00Z")[0] == 0
    write(repo, "weekly.yaml", recurring_spec(num_results=500))

    document = plan_json("--now", "2026-11-03T12:00:00Z")

    (item,) = document["recurring"]
    assert item["edit_applies_from"] == "2026-11-09T06:00:00+01:00"
    assert document["summary"]["conflict"] == 0
    assert reconcile("--now", "2026-11-03T12:00:00Z") == (0, {})
    # Once the next period is due, the edit applies from that one, not yet submitted.
    (later,) = plan_json("--now", "2026-11-23T12:00:00Z")["recurring"]
    assert later["edit_applies_from"] == "2026-11-23T06:00:00+01:00"
    assert reconcile("--now", "2026-11-09T12:00:00Z") == (0, {"genre-fans-2026-11-09": "created"})
    with stand_in.store.transaction() as state:
        results = {
            record["job"]["jobName"]: record["job"]["numResults"] for record in state["jobs"]
        }
    assert results == {"genre-fans-2026-11-02": 25, "genre-fans-2026-11-09": 500}


def test_a_bad_now_is_a_usage_error(repo: Path, stand_in: PersonalizeService) -> None:
    write(repo, "weekly.yaml", recurring_spec())

    ran = run_cli("plan", "--now", "next monday")

    assert ran.status == 1
    assert "--now next monday: not an ISO 8601 time" in ran.err


# latestOf: the newest ACTIVE version, at submission.


def test_latest_of_skips_a_newer_version_still_training(
    repo: Path, stand_in: PersonalizeService
) -> None:
    newest_active = f"{SOLUTION}/00000002"
    stand_in.solutions.add_version(newest_active, created=EPOCH - 3600)
    stand_in.solutions.add_version(
        f"{SOLUTION}/00000003", created=EPOCH - 60, training_seconds=7200
    )
    write(repo, "weekly.yaml", recurring_spec())

    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {"genre-fans-2026-11-02": "created"})

    assert service_jobs(stand_in) == {"genre-fans-2026-11-02": newest_active}
    record = read_state(repo).jobs["genre-fans-2026-11-02"]
    assert record.solution_version_arn == newest_active


def test_latest_of_with_local_train(local_repo: Path) -> None:
    oldest = demo_version(local_repo)
    demo = local_repo / ".personalize-local" / "demo"
    lines = (demo / "interactions.csv").read_text(encoding="utf-8").splitlines()
    half = local_repo / "half.csv"
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n", encoding="utf-8")
    third = local_repo / "third.csv"
    third.write_text("\n".join(lines[: len(lines) // 3]) + "\n", encoding="utf-8")
    items = str(demo / "items.csv")
    assert (
        run_cli("local", "import", "half", "--interactions", str(half), "--items", items).status
        == 0
    )
    assert (
        run_cli("local", "import", "third", "--interactions", str(third), "--items", items).status
        == 0
    )
    trained = run_cli(
        "local", "train", "--dataset", "half", "--recipe", "aws-item-affinity",
        "--solution", "item-affinity",
    )  # fmt: skip
    newer = trained.out.strip()
    training = run_cli(
        "local", "train", "--dataset", "third", "--recipe", "aws-item-affinity",
        "--solution", "item-affinity", "--training-time", "3600",
    )  # fmt: skip
    assert training.status == 0
    assert "CREATE IN_PROGRESS for 3600 s" in training.err
    assert len({oldest, newer, training.out.strip()}) == 3
    write(local_repo, "weekly.yaml", recurring_spec())

    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {"genre-fans-2026-11-02": "created"})

    assert local_jobs(local_repo) == {"genre-fans-2026-11-02": newer}
    assert read_state(local_repo).jobs["genre-fans-2026-11-02"].solution_version_arn == newer


def test_a_solution_without_an_active_version_is_reported_and_left(
    repo: Path, stand_in: PersonalizeService
) -> None:
    fresh = f"arn:aws:personalize:us-east-1:{ACCOUNT}:solution/fresh"
    stand_in.solutions.add_version(f"{fresh}/00000001", created=EPOCH - 60, training_seconds=7200)
    write(repo, "weekly.yaml", recurring_spec().replace(SOLUTION, fresh))
    write(repo, "one-off.yaml", one_off_spec("holiday-promo-2026-11"))

    ran = run_cli("reconcile", "--format", "json", "--now", "2026-11-02T05:30:00Z")

    assert ran.status == 3
    jobs = {job["name"]: job for job in json.loads(ran.out)["jobs"]}
    assert jobs["holiday-promo-2026-11"]["result"] == "created"
    assert jobs["genre-fans-2026-11-02"]["result"] == "deferred"
    assert jobs["genre-fans-2026-11-02"]["reason"] == (
        f"no ACTIVE version of {fresh} to submit the job with (its newest, {fresh}/00000001, "
        "is CREATE IN_PROGRESS); the job is left for a later reconcile, once a version is "
        "trained"
    )
    assert service_jobs(stand_in) == {"holiday-promo-2026-11": VERSION}


def test_a_one_off_spec_with_latest_of(repo: Path, stand_in: PersonalizeService) -> None:
    text = one_off_spec("holiday-promo-2026-11").replace(
        f"solutionVersionArn: {VERSION}", f"solutionVersionArn:\n  latestOf: {SOLUTION}"
    )
    write(repo, "one-off.yaml", text)

    assert reconcile() == (0, {"holiday-promo-2026-11": "created"})
    stand_in.solutions.add_version(f"{SOLUTION}/00000009", created=EPOCH)

    # A newer version is no change of the spec: the recorded job stays as it is.
    assert run_cli("plan", "--detailed-exitcode").status == 0
    assert service_jobs(stand_in) == {"holiday-promo-2026-11": VERSION}


# Exactly once: concurrent runs, a run killed after its create.


def test_a_job_created_by_a_killed_run_is_adopted(repo: Path, stand_in: PersonalizeService) -> None:
    write(repo, "weekly.yaml", recurring_spec())
    # What a run killed between its create and its state write leaves: the job, no record.
    stand_in.create_job(
        BATCH_SEGMENT_JOB,
        {
            "jobName": "genre-fans-2026-11-02",
            "solutionVersionArn": VERSION,
            "jobInput": {
                "s3DataSource": {"path": "s3://acme-personalize/batch/in/holiday-items.jsonl"}
            },
            "jobOutput": {
                "s3DataDestination": {
                    "path": "s3://acme-personalize/batch/out/genre-fans-2026-11-02/"
                }
            },
            "roleArn": ROLE,
        },
    )

    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {"genre-fans-2026-11-02": "adopted"})

    record = read_state(repo).jobs["genre-fans-2026-11-02"]
    assert (record.recorded_by, record.period) == ("adopted", "2026-11-02T06:00:00+01:00")
    assert record.solution_version_arn == VERSION
    assert len(service_jobs(stand_in)) == 1


def test_a_period_whose_create_answer_was_lost_is_adopted_not_submitted_again(
    repo: Path, stand_in: PersonalizeService, personalize_server: PersonalizeServer
) -> None:
    write(repo, "weekly.yaml", recurring_spec())
    personalize_server.lose_response(times=1)

    # The create took effect; botocore's retry gets ResourceAlreadyExists, and the job is
    # compared and recorded.
    assert reconcile("--now", "2026-11-02T05:30:00Z") == (0, {"genre-fans-2026-11-02": "adopted"})
    assert reconcile("--now", "2026-11-02T05:31:00Z") == (0, {})
    assert list(service_jobs(stand_in)) == ["genre-fans-2026-11-02"]
    assert personalize_server.count("CreateBatchSegmentJob") == 2


def test_two_concurrent_reconciles_of_one_period_create_one_job(tmp_path: Path) -> None:
    folder = tmp_path / "stand-in"
    SolutionRegistry(folder / "service").add_version(VERSION, created=EPOCH)
    repos = []
    for name in ("one", "two"):
        # Two clones, each with a state of its own: only the service can tell them apart.
        root = tmp_path / name
        (root / "specs").mkdir(parents=True)
        (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
        write(root, "weekly.yaml", recurring_spec())
        repos.append(root)
    with stand_in_process(folder) as url:
        env = aws_env(url, tmp_path)
        runs = [
            cli_process(
                "reconcile",
                "--format",
                "json",
                "--now",
                "2026-11-02T05:30:00Z",
                cwd=root,
                env=env,
                capture=True,
            )
            for root in repos
        ]
        outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    results = sorted(job["result"] for out, _ in outputs for job in json.loads(out)["jobs"])
    assert results == ["adopted", "created"]
    jobs = json.loads((folder / "service" / "jobs.json").read_text(encoding="utf-8"))["jobs"]
    assert [record["job"]["jobName"] for record in jobs] == ["genre-fans-2026-11-02"]
    for root in repos:
        assert read_state(root).jobs["genre-fans-2026-11-02"].period == "2026-11-02T06:00:00+01:00"
