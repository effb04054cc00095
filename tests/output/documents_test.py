"""The JSON family (docs/json.md): every `--format json` document, made by the real command
line against the local backend or the HTTP stand-in, is valid against its schema in
`schemas/`, starts with `format` and `version`, and uses snake_case keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from runner.backends.local import FOLDER_NAME, LocalBackend
from runner.backends.local.service import PersonalizeService
from runner.kinds import BATCH_SEGMENT_JOB, KINDS
from tests.support.cli import PROJECT_ROOT, run_cli, succeed
from tests.support.clock import ManualClock
from tests.support.job_requests import job_request, solution_version_arn
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.json_schema import check_schema, errors
from tests.support.personalize_server import PersonalizeServer

SCHEMAS = PROJECT_ROOT / "schemas"
# The documents of the family, and the schema of each (`schemas/<name>.v<N>.json`).
DOCUMENTS = ("lint", "rules", "plan", "report", "status", "state-list", "state-show")
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
MISSING_VERSION = solution_version_arn().replace("4fd8ee1c", "deadbeef")
FAILING_INPUT = "s3://acme-personalize/batch/in/missing.jsonl"


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.v1.json").read_text("utf-8"))
    return loaded


def keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def valid(name: str, text: str) -> dict[str, Any]:
    """The document in `text`, checked as one of the family's `name` documents."""
    document: dict[str, Any] = json.loads(text)
    assert list(document)[:2] == ["format", "version"]
    assert document["format"] == f"personalize-runner/{name}"
    assert document["version"] == 1
    assert errors(schema(name), document) == []
    assert [key for key in keys(document) if not SNAKE_CASE.fullmatch(key)] == []
    return document


def fail_some(request: object, *, s3_root: Path) -> str | None:
    assert isinstance(request, dict)
    if request["jobInput"]["s3DataSource"]["path"] == FAILING_INPUT:
        return "Input data not found"
    return succeed(request, s3_root=s3_root)


@pytest.fixture
def server(
    s3_root: Path,
    manual_clock: ManualClock,
    aws_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PersonalizeServer]:
    """The HTTP stand-in: jobs pend 10 s and run 60 s on the manual clock; a job reading
    `FAILING_INPUT` fails, and the solution version `MISSING_VERSION` does not exist."""
    service = PersonalizeService.in_memory(
        s3_root=s3_root,
        clock=manual_clock,
        pending_seconds=10,
        running_seconds=60,
        run_job=fail_some,
        solution_versions=lambda arn: arn != MISSING_VERSION,
    )
    with PersonalizeServer(service) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", server.endpoint_url)
        yield server
    assert server.errors == []


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose specs go to the aws backend, i.e. to the HTTP stand-in."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_schema_is_a_strict_draft_2020_12_schema(name: str) -> None:
    document = schema(name)
    check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"urn:personalize-runner:schema:{name}.v1"
    assert list(document["properties"])[:2] == ["format", "version"]
    assert document["properties"]["format"] == {
        "const": f"personalize-runner/{name}",
        "description": "What the document is.",
    }
    objects = [document, *document.get("$defs", {}).values()]
    for item in objects:
        assert item["additionalProperties"] is False
        assert item["required"] == list(item["properties"])


def test_the_schemas_share_their_definitions() -> None:
    """A finding and a job record have one shape wherever they appear."""
    seen: dict[str, dict[str, Any]] = {}
    for name in DOCUMENTS:
        for key, definition in schema(name).get("$defs", {}).items():
            assert seen.setdefault(key, definition) == definition, (name, key)
    assert {"finding", "related", "job_record", "change_counts"} <= seen.keys()


def test_every_schema_has_a_document_and_docs_json_lists_it() -> None:
    """Every schema in schemas/ but those of spec files (which have `apiVersion`)."""
    family = {
        path.name.removesuffix(".v1.json")
        for path in SCHEMAS.glob("*.json")
        if "apiVersion" not in json.loads(path.read_text("utf-8"))["properties"]
    }
    assert family == set(DOCUMENTS)
    page = (PROJECT_ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    for name in DOCUMENTS:
        assert f"`personalize-runner/{name}`" in page
        assert f"schemas/{name}.v1.json" in page


# lint


def test_lint_clean(repo: Path) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    (repo / "specs" / "two.yaml").write_text(
        spec_yaml("gamma") + "---\n" + spec_yaml("delta"), encoding="utf-8"
    )

    ran = run_cli("lint", "--format", "json")

    assert ran.status == 0
    document = valid("lint", ran.out)
    assert (document["files"], document["specs"], document["findings"]) == (3, 4, [])


def test_lint_counts_the_specs_that_have_findings(repo: Path) -> None:
    """`specs` is the spec documents found, valid or not (it was 0 for these)."""
    (repo / "specs" / "two.yaml").write_text(
        spec_yaml("alpha") + "---\n" + spec_yaml("beta", extra="numResults: 0\n"),
        encoding="utf-8",
    )
    (repo / "specs" / "other.yaml").write_text(spec_yaml("alpha"), encoding="utf-8")
    (repo / "specs" / "bad.yaml").write_text("jobName: [\n", encoding="utf-8")
    (repo / "specs" / "bucket.yaml").write_text(
        spec_yaml("gamma").replace("acme-personalize/batch/out", "Acme_Out"), encoding="utf-8"
    )

    ran = run_cli("lint", "--format", "json")

    assert ran.status == 1
    document = valid("lint", ran.out)
    # bad.yaml holds no document that could be read; the others 2, 1 and 1.
    assert (document["files"], document["specs"]) == (4, 4)
    findings = {finding["rule"]: finding for finding in document["findings"]}
    assert {"yaml-syntax", "range", "duplicate-job-name", "bucket-name"} <= findings.keys()
    assert findings["bucket-name"]["severity"] == "warning"
    assert findings["range"] == {
        "path": "specs/two.yaml",
        "line": 24,
        "column": 13,
        "end_line": 24,
        "end_column": 14,
        "rule": "range",
        "severity": "error",
        "message": findings["range"]["message"],
        "related": [],
    }
    (related,) = findings["duplicate-job-name"]["related"]
    assert list(related) == ["path", "line", "column", "end_line", "end_column", "message"]


def test_the_rules(repo: Path) -> None:
    ran = run_cli("lint", "--list-rules", "--format", "json")

    assert ran.status == 0
    rules = valid("rules", ran.out)["rules"]
    assert {"yaml-syntax", "duplicate-job-name", "bucket-name"} <= {rule["id"] for rule in rules}


# plan


def test_plan_of_every_change_and_the_saved_plan(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha", "beta", "orphaned"])
    assert run_cli("reconcile").status == 0
    (repo / "specs" / "orphaned.yaml").unlink()
    write_specs(repo / "specs", ["gamma", "known", "taken"])
    server.service.create_batch_segment_job(
        job_request("known", output_path="s3://acme-personalize/batch/out/known/")
    )
    server.service.create_batch_segment_job(job_request("taken", numResults=7))

    ran = run_cli("plan", "--refresh", "--format", "json", "--out", "plan.json")

    # A conflict is an error.
    assert ran.status == 1
    document = valid("plan", ran.out)
    assert valid("plan", (repo / "plan.json").read_text(encoding="utf-8")) == document
    changes = {job["name"]: job["change"] for job in document["jobs"]}
    assert changes == {
        "alpha": "unchanged",
        "beta": "unchanged",
        "gamma": "create",
        "known": "adopt",
        "taken": "conflict",
        "orphaned": "orphan",
    }
    assert document["summary"] == {
        "create": 1,
        "adopt": 1,
        "unchanged": 2,
        "conflict": 1,
        "orphan": 1,
    }
    assert document["refreshed"] is True
    listed = valid("state-list", run_cli("state", "list", "--format", "json").out)
    assert document["state"]["serial"] == listed["serial"]


def test_plan_without_a_state_and_the_saved_plan_read_back(
    repo: Path, server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])

    assert run_cli("plan", "--out", "plan.json").status == 0

    document = valid("plan", (repo / "plan.json").read_text(encoding="utf-8"))
    assert (document["state"], document["refreshed"]) == (None, False)
    applied = run_cli("reconcile", "--plan", "plan.json", "--format", "json")
    assert applied.status == 0
    assert valid("report", applied.out)["summary"]["created"] == 1


RECURRING = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
jobName: weekly-{week}
schedule:
  cron: "0 6 * * MON"
  timezone: Europe/Berlin
  start: 2026-11-02
solutionVersionArn:
  latestOf: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/items.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/weekly/{week}/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""


def test_plan_of_a_recurring_spec(repo: Path) -> None:
    (repo / "specs" / "weekly.yaml").write_text(RECURRING, encoding="utf-8")

    ran = run_cli("plan", "--now", "2026-11-10T12:00:00Z", "--format", "json")

    assert ran.status == 0, ran.err
    document = valid("plan", ran.out)
    (recurring,) = document["recurring"]
    assert (recurring["job_name"], recurring["recorded"]) == ("weekly-{week}", [])
    assert recurring["due"] == [job["name"] for job in document["jobs"]] != []
    solution = "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity"
    assert {job["latest_of"] for job in document["jobs"]} == {solution}
    assert None not in {job["period"] for job in document["jobs"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"format": "personalize-runner/report"},
            "its format is 'personalize-runner/report', not 'personalize-runner/plan'",
        ),
        ({"version": 2}, "version 2; this personalize-runner reads version 1"),
        ({"plan_format": 1, "format": None}, "format must be a string"),
    ],
)
def test_a_saved_plan_of_another_format_or_version_is_refused(
    repo: Path, server: PersonalizeServer, change: dict[str, Any], message: str
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("plan", "--out", "plan.json").status == 0
    document = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    (repo / "plan.json").write_text(json.dumps({**document, **change}), encoding="utf-8")

    ran = run_cli("reconcile", "--plan", "plan.json")

    assert ran.status == 1
    assert ran.err == (
        f"error: --plan plan.json: it is not a personalize-runner plan ({message}); save one "
        "with `personalize-runner plan --out FILE`\n"
    )
    assert server.count("CreateBatchSegmentJob") == 0


# report


def report_of(*args: str) -> dict[str, Any]:
    ran = run_cli("reconcile", "--format", "json", "--report", "report.json", *args)
    document = valid("report", ran.out)
    assert json.loads(Path("report.json").read_text(encoding="utf-8")) == document
    assert document["exit_status"] == ran.status
    return document


def test_report_of_created_and_failed_jobs(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"])
    (repo / "specs" / "beta.yaml").write_text(
        spec_yaml("beta").replace(solution_version_arn(), MISSING_VERSION), encoding="utf-8"
    )

    document = report_of()

    assert document["exit_status"] == 1
    assert {job["name"]: job["result"] for job in document["jobs"]} == {
        "alpha": "created",
        "beta": "failed",
    }
    assert [failure["name"] for failure in document["failures"]] == ["beta"]
    assert document["planned"]["create"] == 2


def test_report_of_findings(repo: Path, server: PersonalizeServer) -> None:
    write_specs(repo / "specs", ["alpha"], extra="numResults: 0\n")

    document = report_of()

    assert (document["exit_status"], document["planned"], document["jobs"]) == (1, None, [])
    (finding,) = document["findings"]
    assert (finding["path"], finding["rule"], finding["related"]) == (
        "specs/alpha.yaml",
        "range",
        [],
    )


def test_report_of_conflicts(repo: Path, server: PersonalizeServer) -> None:
    server.service.create_batch_segment_job(job_request("alpha", numResults=7))
    write_specs(repo / "specs", ["alpha", "beta"])

    document = report_of()

    assert document["exit_status"] == 1
    (conflict,) = document["conflicts"]
    assert (conflict["name"], conflict["spec_file"]) == ("alpha", "specs/alpha.yaml")
    assert document["planned"]["conflict"] == 1


def test_report_of_an_unknown_outcome_then_an_adopted_job(
    repo: Path, server: PersonalizeServer, fast_retries: None
) -> None:
    server.fail(10, operation="CreateBatchSegmentJob")
    write_specs(repo / "specs", ["alpha"])

    document = report_of()

    assert [job["result"] for job in document["jobs"]] == ["unknown"]
    assert document["summary"]["unknown"] == 1
    assert [failure["name"] for failure in document["failures"]] == ["alpha"]
    # Had the create made the job, the next run would find it and record it.
    server.service.create_batch_segment_job(
        job_request("alpha", output_path="s3://acme-personalize/batch/out/alpha/")
    )
    again = report_of()
    assert [job["result"] for job in again["jobs"]] == ["adopted"]


def test_report_of_a_deferred_job(
    repo: Path, server: PersonalizeServer, fast_retries: None
) -> None:
    for i in range(5):
        server.service.create_batch_segment_job(job_request(f"other-{i}"))
    write_specs(repo / "specs", ["alpha"])

    document = report_of("--timeout", "0")

    assert (document["exit_status"], document["summary"]["deferred"]) == (3, 1)


def test_report_of_a_wait_past_its_deadline_and_of_a_dry_run(
    repo: Path, server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])

    dry = report_of("--dry-run")
    # The job pends on the manual clock, which stands still; the deadline leaves time for
    # the submission (boto3's first client takes a good part of a second).
    waited = report_of("--wait", "--timeout", "2")

    assert (dry["dry_run"], dry["jobs"], dry["state_serial"]) == (True, [], None)
    assert (waited["waited"], waited["unfinished"], waited["exit_status"]) == (True, ["alpha"], 1)


# status, state list, state show


def test_status_and_state_of_no_state(repo: Path) -> None:
    assert valid("status", run_cli("status", "--format", "json").out)["jobs"] == []
    listed = valid("state-list", run_cli("state", "list", "--format", "json").out)
    assert (listed["serial"], listed["lineage"], listed["jobs"]) == (None, None, [])


def test_status_and_state_of_recorded_jobs(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    write_specs(repo / "specs", ["alpha"])
    (repo / "specs" / "beta.yaml").write_text(
        spec_yaml("beta").replace("s3://acme-personalize/batch/in/items.jsonl", FAILING_INPUT),
        encoding="utf-8",
    )
    assert run_cli("reconcile").status == 0
    manual_clock.advance(100)

    status = valid("status", run_cli("status", "--refresh", "--format", "json").out)
    listed = valid("state-list", run_cli("state", "list", "--format", "json").out)
    shown = valid("state-show", run_cli("state", "show", "beta", "--format", "json").out)

    assert [(job["name"], job["status"]) for job in status["jobs"]] == [
        ("alpha", "ACTIVE"),
        ("beta", "CREATE FAILED"),
    ]
    assert status["jobs"][1]["failure_reason"] == "Input data not found"
    assert listed["jobs"] == status["jobs"]
    assert shown["job"] == status["jobs"][1]


def test_state_of_the_local_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An imported job, then a reconcile that the service refuses, on the local backend."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PERSONALIZE_RUNNER_BACKEND", raising=False)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "alpha.yaml").write_text(spec_yaml("alpha"), encoding="utf-8")
    service = PersonalizeService.in_folder(tmp_path / FOLDER_NAME, pending_seconds=3600)
    request = job_request("alpha", output_path="s3://acme-personalize/batch/out/alpha/")
    LocalBackend(service).create_job(BATCH_SEGMENT_JOB, request)
    assert run_cli("state", "import", "alpha", "--backend", "local").status == 0

    shown = valid("state-show", run_cli("state", "show", "alpha", "--format", "json").out)
    status = valid("status", run_cli("status", "--format", "json").out)

    assert shown["job"]["recorded_by"] == "imported"
    assert status["jobs"] == [shown["job"]]
    (tmp_path / "specs" / "beta.yaml").write_text(spec_yaml("beta"), encoding="utf-8")
    ran = run_cli("reconcile", "--backend", "local", "--format", "json")
    report = valid("report", ran.out)
    # The local service has trained no model: it refuses the job, as the service would.
    assert (ran.status, report["planned"]["unchanged"], report["summary"]["failed"]) == (1, 1, 1)
    (failure,) = report["failures"]
    assert failure["message"].startswith(
        "the service refused the job: ResourceNotFoundException: Could not find solution version"
    )


# Both kinds of job


def test_every_document_of_both_kinds_of_job(
    repo: Path, server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    """A segment job and an inference job of one name, through every document: a created
    pair, then an inference job to adopt, one in conflict and one orphaned (the conflict
    stops the run: nothing is adopted)."""
    inference = "BatchInferenceJob"
    write_specs(repo / "specs", ["alpha", "gone"])
    write_specs(repo / "specs", ["alpha", "gone"], kind=inference)
    first = report_of()
    assert first["exit_status"] == 0
    assert sorted((job["name"], job["kind"], job["result"]) for job in first["jobs"]) == [
        ("alpha", "BatchInferenceJob", "created"),
        ("alpha", "BatchSegmentJob", "created"),
        ("gone", "BatchInferenceJob", "created"),
        ("gone", "BatchSegmentJob", "created"),
    ]
    manual_clock.advance(100)
    (repo / "specs" / f"gone.{inference}.yaml").unlink()
    write_specs(repo / "specs", ["known", "taken"], kind=inference)
    kind = KINDS[inference]
    server.service.create_job(
        kind, job_request("known", output_path="s3://acme-personalize/batch/out/known/")
    )
    server.service.create_job(kind, job_request("taken", numResults=7))

    ran = run_cli("plan", "--refresh", "--format", "json", "--out", "plan.json")

    assert ran.status == 1  # the conflict
    document = valid("plan", ran.out)
    assert valid("plan", (repo / "plan.json").read_text(encoding="utf-8")) == document
    assert {(job["name"], job["kind"]): job["change"] for job in document["jobs"]} == {
        ("alpha", "BatchSegmentJob"): "unchanged",
        ("alpha", "BatchInferenceJob"): "unchanged",
        ("gone", "BatchSegmentJob"): "unchanged",
        ("gone", "BatchInferenceJob"): "orphan",
        ("known", "BatchInferenceJob"): "adopt",
        ("taken", "BatchInferenceJob"): "conflict",
    }
    second = report_of()
    assert second["exit_status"] == 1
    assert [(c["name"], c["kind"]) for c in second["conflicts"]] == [("taken", inference)]
    status = valid("status", run_cli("status", "--refresh", "--format", "json").out)
    listed = valid("state-list", run_cli("state", "list", "--format", "json").out)
    shown = valid(
        "state-show",
        run_cli("state", "show", "batch-inference-job/alpha", "--format", "json").out,
    )
    assert sorted((job["name"], job["kind"], job["status"]) for job in status["jobs"]) == [
        ("alpha", "BatchInferenceJob", "ACTIVE"),
        ("alpha", "BatchSegmentJob", "ACTIVE"),
        ("gone", "BatchInferenceJob", "ACTIVE"),
        ("gone", "BatchSegmentJob", "ACTIVE"),
    ]
    assert listed["jobs"] == status["jobs"]
    assert (shown["job"]["kind"], shown["job"]["recorded_by"]) == (inference, "created")
    assert shown["job"]["arn"].endswith(":batch-inference-job/alpha")
