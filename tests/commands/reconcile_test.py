from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from runner.kinds import BATCH_INFERENCE_JOB, JobKind
from tests.support.cli import aws_env, cli_process, run_cli, stand_in_process
from tests.support.clock import ManualClock
from tests.support.job_requests import job_arn, job_request, write_items
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import read_state, state_path

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


def test_reconcile_submits_once_and_then_has_nothing_to_do(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    assert run_cli("plan", "--detailed-exitcode").status == 2

    first = run_cli("reconcile")

    assert (first.status, first.err) == (0, "")
    assert first.out == (
        "Plan: 2 to create (the service consulted, no state yet)\n"
        "\n"
        "+ alpha  create     us-east-1 123456789012  specs/alpha.yaml\n"
        "+ beta   create     us-east-1 123456789012  specs/beta.yaml\n"
        "\n"
        f"created  alpha  {job_arn('alpha')}\n"
        f"created  beta   {job_arn('beta')}\n"
        "Reconcile: 2 created (state serial 2).\n"
    )
    personalize_server.clear_calls()

    second = run_cli("reconcile")

    assert second.status == 0
    assert second.out == (
        "Plan: 2 unchanged (the service consulted, state serial 2)\n"
        "\n"
        "= alpha  unchanged  us-east-1 123456789012  specs/alpha.yaml  CREATE PENDING\n"
        "= beta   unchanged  us-east-1 123456789012  specs/beta.yaml  CREATE PENDING\n"
        "\n"
        "Nothing to do (state serial 2).\n"
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert run_cli("plan", "--detailed-exitcode").status == 0
    assert personalize_server.calls == []


def test_the_json_report(repo: Path, personalize_server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"])

    ran = run_cli("reconcile", "--format", "json", "--report", "report.json")

    assert ran.status == 0
    report = json.loads(ran.out)
    assert report == json.loads((repo / "report.json").read_text(encoding="utf-8"))
    assert report == {
        "format": "personalize-runner/report",
        "version": 1,
        "exit_status": 0,
        "dry_run": False,
        "waited": False,
        "state_serial": 1,
        "planned": {"create": 1, "adopt": 0, "unchanged": 0, "conflict": 0, "orphan": 0},
        "summary": {
            "created": 1,
            "adopted": 0,
            "failed": 0,
            "conflict": 0,
            "unknown": 0,
            "deferred": 0,
        },
        "jobs": [
            {
                "name": "alpha",
                "kind": "BatchSegmentJob",
                "result": "created",
                "reason": "submitted",
                "partition": "aws",
                "region": "us-east-1",
                "account": "123456789012",
                "spec_file": "specs/alpha.yaml",
                "arn": job_arn("alpha"),
                "status": "CREATE PENDING",
                "failure_reason": None,
            }
        ],
        "failures": [],
        "conflicts": [],
        "unfinished": [],
        "findings": [],
    }
    # People still see the plan and the submissions, on stderr.
    assert f"created  alpha  {job_arn('alpha')}\n" in ran.err


def submitted_before(repo: Path) -> bytes:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    return state_path(repo).read_bytes()


def test_an_invalid_spec_stops_everything(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    before = submitted_before(repo)
    write_specs(repo / "specs", ["beta"])
    (repo / "specs" / "gamma.yaml").write_text(
        spec_yaml("gamma", extra="numResult: 10\n"), encoding="utf-8"
    )
    personalize_server.clear_calls()

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert ran.err.startswith("specs/gamma.yaml:12:1: error: ")
    assert ran.err.endswith("Nothing submitted: 1 problem in the specs must be fixed first.\n")
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert state_path(repo).read_bytes() == before


def test_a_spec_changed_after_submission_stops_everything(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    before = submitted_before(repo)
    write_specs(repo / "specs", ["alpha"], extra="numResults: 10\n")
    write_specs(repo / "specs", ["beta"])
    personalize_server.clear_calls()

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert ran.err.startswith(
        "specs/alpha.yaml:3:10: error: jobName: job 'alpha' was submitted on "
    )
    assert "[spec-changed]\nNothing submitted: 1 problem in the specs" in ran.err
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert state_path(repo).read_bytes() == before


def test_a_job_of_the_same_name_with_other_parameters_stops_everything(
    repo: Path, personalize_server: PersonalizeServer, kind: JobKind
) -> None:
    personalize_server.service.create_job(
        kind,
        job_request("alpha", numResults=7, output_path="s3://acme-personalize/batch/out/alpha/"),
    )
    (alpha, _) = write_specs(repo / "specs", ["alpha", "beta"], kind=kind.name)
    name = kind.display("alpha")

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert (
        f"! {name}  conflict   us-east-1 123456789012  specs/{alpha.name}\n"
        "    a job of this name exists at the service with other parameters (numResults: the "
        "spec has 25, the service 7); give this spec another jobName\n"
    ) in ran.out
    assert ran.out.endswith("Nothing submitted: the plan has conflicts (see above).\n")
    assert personalize_server.count(kind.create_operation) == 0
    assert not state_path(repo).exists()


def test_a_corrupt_state_stops_everything(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    state_path(repo).parent.mkdir()
    state_path(repo).write_bytes(b'{"format_version": 1, "jobs": {')

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert ran.err.startswith(
        f"error: cannot read the state in {state_path(repo)}: it is not valid JSON"
    )
    assert personalize_server.calls == []
    assert state_path(repo).read_bytes() == b'{"format_version": 1, "jobs": {'


def test_a_full_quota_defers_to_the_next_run(
    repo: Path, personalize_server: PersonalizeServer, fast_retries: None, kind: JobKind
) -> None:
    for i in range(5):
        personalize_server.service.create_job(kind, job_request(f"other-{i}"))
    write_specs(repo / "specs", ["alpha"], kind=kind.name)

    ran = run_cli("reconcile", "--timeout", "0")

    assert ran.status == 3
    assert ran.out.endswith(
        f"deferred {kind.display('alpha')}: not submitted: no quota slot in us-east-1 before "
        "the deadline (--timeout 0s); the next reconcile submits it\n"
        "Reconcile: 1 deferred.\n"
        "1 job deferred by the quota: run `personalize-runner reconcile` again to submit it "
        "(exit status 3).\n"
    )
    assert not state_path(repo).exists()


def test_a_saved_plan_is_applied_only_if_nothing_moved(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("plan", "--out", "plan.json").status == 0
    assert json.loads((repo / "plan.json").read_text(encoding="utf-8"))["version"] == 1

    assert run_cli("reconcile", "--plan", "plan.json").status == 0

    stale = run_cli("reconcile", "--plan", "plan.json")
    assert stale.status == 1
    assert stale.err == (
        "error: the saved plan no longer applies: the plan was made when there was no state; "
        "it is now at serial 1. Make and review a new plan (personalize-runner plan --out "
        "FILE), then apply that one.\n"
    )
    (repo / "bad.json").write_text("[]", encoding="utf-8")
    bad = run_cli("reconcile", "--plan", "bad.json")
    assert bad.err == (
        "error: --plan bad.json: it is not a personalize-runner plan (the plan must be an "
        "object); save one with `personalize-runner plan --out FILE`\n"
    )


def test_dry_run_submits_nothing(repo: Path, personalize_server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"])

    ran = run_cli("reconcile", "--dry-run")

    assert ran.status == 0
    assert ran.out.endswith("Dry run: nothing submitted.\n")
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert not state_path(repo).exists()


def service_jobs(folder: Path) -> list[str]:
    """The names of the jobs the stand-in in `folder` has (its file is replaced atomically)."""
    path = folder / "service" / "jobs.json"
    if not path.exists():
        return []
    state = json.loads(path.read_text(encoding="utf-8"))
    return sorted(record["job"]["jobName"] for record in state["jobs"])


def test_killed_reconciles_neither_duplicate_nor_lose_nor_tear(
    tmp_path: Path, kind: JobKind
) -> None:
    seed = int(os.environ.get("KILL_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    repo = tmp_path / "repo"
    names = [f"{region}-job-{i}" for region in REGIONS for i in range(5)]
    for region in REGIONS:
        write_specs(
            repo / "specs",
            [name for name in names if name.startswith(region)],
            region=region,
            kind=kind.name,
        )
    (repo / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    folder = tmp_path / "stand-in"
    with stand_in_process(folder) as url:
        env = aws_env(url, tmp_path)
        for _ in range(4):
            process = cli_process("reconcile", cwd=repo, env=env)
            # Kill it while it submits: once the service has a few more jobs, after a
            # moment that may fall between a create and its state write.
            target = min(len(service_jobs(folder)) + rng.randint(1, 4), len(names))
            deadline = time.monotonic() + 30
            while len(service_jobs(folder)) < target and process.poll() is None:
                assert time.monotonic() < deadline, f"seed {seed}: no progress"
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.01))
            process.send_signal(signal.SIGKILL)
            process.wait()
            if state_path(repo).exists():
                # Never torn: every state ever left behind reads.
                read_state(repo)
        final = cli_process("reconcile", cwd=repo, env=env, capture=True)
        out, err = final.communicate(timeout=60)
        assert final.returncode == 0, f"seed {seed}: {out}{err}"
        again = cli_process("reconcile", cwd=repo, env=env, capture=True)
        out, err = again.communicate(timeout=60)
        assert again.returncode == 0, f"seed {seed}: {out}{err}"
        assert out.endswith("Nothing to do (state serial 15).\n"), f"seed {seed}: {out}"
    assert service_jobs(folder) == sorted(names), f"seed {seed}"
    state = read_state(repo)
    assert sorted(state.jobs) == sorted(kind.key(name) for name in names), f"seed {seed}"
    for record in state.jobs.values():
        assert record.arn == job_arn(record.name, region=record.region, kind=kind), f"seed {seed}"
    adopted = sorted(name for name, record in state.jobs.items() if record.recorded_by == "adopted")
    print(f"seed {seed}: adopted after a kill: {adopted}")


def test_two_reconciles_at_once_lose_no_update(tmp_path: Path, kind: JobKind) -> None:
    repo = tmp_path / "repo"
    write_specs(repo / "specs-a", [f"a-{i}" for i in range(4)], kind=kind.name)
    write_specs(repo / "specs-b", [f"b-{i}" for i in range(4)], region="us-west-2", kind=kind.name)
    (repo / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    with stand_in_process(tmp_path / "stand-in") as url:
        env = aws_env(url, tmp_path)
        processes = [
            cli_process("reconcile", "--specs", folder, cwd=repo, env=env, capture=True)
            for folder in ("specs-a", "specs-b")
        ]
        outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    state = read_state(repo)
    assert sorted(state.jobs) == [kind.key(f"{x}-{i}") for x in "ab" for i in range(4)]
    assert state.serial == 8


def test_wait_follows_the_submitted_jobs_with_plain_lines_off_a_terminal(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    with stand_in_process(tmp_path / "stand-in") as url:
        for name, value in aws_env(url, tmp_path).items():
            monkeypatch.setenv(name, value)

        ran = run_cli("reconcile", "--wait", "--timeout", "30")

    assert ran.status == 0
    assert ran.out.endswith(
        f"created  alpha  {job_arn('alpha')}\n"
        f"created  beta   {job_arn('beta')}\n"
        "alpha: ACTIVE\n"
        "beta:  ACTIVE\n"
        "Reconcile: 2 created, then 2 ACTIVE and 0 CREATE FAILED (state serial 3).\n"
    )
    assert {record.status for record in read_state(repo).jobs.values()} == {"ACTIVE"}


def test_a_segment_and_an_inference_spec_of_one_name_create_both(
    repo: Path, personalize_server: PersonalizeServer, manual_clock: ManualClock, s3_root: Path
) -> None:
    write_items(s3_root)
    write_specs(repo / "specs", ["promo"])
    write_specs(repo / "specs", ["promo"], kind="BatchInferenceJob")

    ran = run_cli("reconcile")

    assert (ran.status, ran.err) == (0, "")
    segment = job_arn("promo")
    inference = job_arn("promo", kind=BATCH_INFERENCE_JOB)
    # Each kind's jobs are submitted by their own thread: in either order.
    assert f"created  promo              {segment}\n" in ran.out
    assert f"created  promo [inference]  {inference}\n" in ran.out
    assert ran.out.endswith("Reconcile: 2 created (state serial 2).\n")
    assert personalize_server.count("CreateBatchSegmentJob") == 1
    assert personalize_server.count("CreateBatchInferenceJob") == 1
    state = read_state(repo)
    assert {key: (record.kind, record.arn) for key, record in state.jobs.items()} == {
        "promo": ("BatchSegmentJob", segment),
        "batch-inference-job/promo": ("BatchInferenceJob", inference),
    }
    # Side by side in every command's output.
    plan = run_cli("plan")
    assert plan.out.splitlines()[2:4] == [
        "= promo              unchanged  us-east-1 123456789012  specs/promo.yaml  CREATE PENDING",
        "= promo [inference]  unchanged  us-east-1 123456789012  "
        "specs/promo.BatchInferenceJob.yaml  CREATE PENDING",
    ]
    planned = json.loads(run_cli("plan", "--format", "json").out)["jobs"]
    assert [(job["name"], job["kind"]) for job in planned] == [
        ("promo", "BatchSegmentJob"),
        ("promo", "BatchInferenceJob"),
    ]
    status = run_cli("status").out.splitlines()
    assert [line.split("  ")[0] for line in status[1:]] == ["promo", "promo [inference]"]
    shown = json.loads(run_cli("status", "--format", "json").out)["jobs"]
    assert [(job["name"], job["kind"], job["arn"]) for job in shown] == [
        ("promo", "BatchSegmentJob", segment),
        ("promo", "BatchInferenceJob", inference),
    ]
    again = run_cli("reconcile")
    assert again.out.endswith("Nothing to do (state serial 2).\n")
    assert personalize_server.count("CreateBatchInferenceJob") == 1
    # One list page per kind tells both statuses.
    manual_clock.advance(100)
    personalize_server.clear_calls()
    refreshed = run_cli("status", "--refresh", "--format", "json")
    assert [(job["kind"], job["status"]) for job in json.loads(refreshed.out)["jobs"]] == [
        ("BatchSegmentJob", "ACTIVE"),
        ("BatchInferenceJob", "ACTIVE"),
    ]
    assert sorted(call.operation for call in personalize_server.calls) == [
        "ListBatchInferenceJobs",
        "ListBatchSegmentJobs",
    ]


RECURRING_INFERENCE = """\
apiVersion: personalize-runner/v1
kind: BatchInferenceJob
jobName: nightly-{date}
schedule:
  cron: "0 2 * * *"
  timezone: Europe/Berlin
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/{date}/users.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/nightly/{date}/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""


def test_a_recurring_inference_spec_submits_each_period_once(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    (repo / "specs" / "nightly.yaml").write_text(RECURRING_INFERENCE, encoding="utf-8")

    first = run_cli("reconcile", "--now", "2026-12-01T03:00:00Z")
    again = run_cli("reconcile", "--now", "2026-12-01T23:00:00Z")
    next_day = run_cli("reconcile", "--now", "2026-12-02T03:00:00Z")

    assert first.status == again.status == next_day.status == 0
    assert again.out.endswith("Nothing to do (state serial 1).\n")
    created = [
        call.body["jobName"]
        for call in personalize_server.calls
        if call.operation == "CreateBatchInferenceJob"
    ]
    assert created == ["nightly-2026-12-01", "nightly-2026-12-02"]
    state = read_state(repo)
    assert {key: record.period for key, record in state.jobs.items()} == {
        "batch-inference-job/nightly-2026-12-01": "2026-12-01T02:00:00+01:00",
        "batch-inference-job/nightly-2026-12-02": "2026-12-02T02:00:00+01:00",
    }


@pytest.mark.parametrize(
    ("setting", "created"), [("", 5), ("quotas: {batch_inference_jobs: 8}\n", 8)]
)
def test_the_inference_quota_of_personalize_runner_yaml_is_the_one_kept(
    repo: Path, personalize_server: PersonalizeServer, setting: str, created: int
) -> None:
    # An account whose quota was raised to 8; the runner keeps to what the file says.
    personalize_server.service.quotas = {"BatchInferenceJob": 8}
    (repo / "personalize-runner.yaml").write_text(f"backend: aws\n{setting}", encoding="utf-8")
    write_specs(repo / "specs", [f"recs-{i}" for i in range(8)], kind="BatchInferenceJob")

    # The jobs never finish (the service's clock stands still): what finds no slot within
    # the timeout is deferred.
    ran = run_cli("reconcile", "--timeout", "5")

    report = json.loads(run_cli("status", "--format", "json").out)["jobs"]
    assert len(report) == created
    assert personalize_server.count("CreateBatchInferenceJob") == created
    assert ran.status == (0 if created == 8 else 3)
