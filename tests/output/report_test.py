"""The reconcile report's exact output: markdown for a CI job's summary, and what the JSON
says failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.findings import Finding
from runner.output.report import render_report_json, render_report_markdown
from runner.output.writers import WRITERS, formats, writer
from runner.planner import make_plan
from runner.reconcile.report import Outcome, Result, RunReport
from runner.yaml.span import Span
from tests.support.cli import run_cli
from tests.support.job_requests import job_arn
from tests.support.job_specs import make_spec, write_specs
from tests.support.personalize_server import PersonalizeServer


def outcome(name: str, result: Result, reason: str, **fields: Any) -> Outcome:
    return Outcome(
        name=name,
        result=result,
        reason=reason,
        partition="aws",
        region="us-east-1",
        account="123456789012",
        spec_file=f"specs/{name}.yaml",
        **fields,
    )


def test_every_writer_of_every_command_can_be_imported() -> None:
    assert formats("reconcile") == ("text", "json", "markdown")
    for command, table in WRITERS.items():
        for name in table:
            assert callable(writer(command, name)), (command, name)


def test_markdown_lists_the_jobs_that_failed_and_why_then_every_job_and_the_plan() -> None:
    plan = make_plan([make_spec("winback-2026-11"), make_spec("later-2026-11")], None)
    report = RunReport(
        plan=plan,
        outcomes=(
            outcome(
                "winback-2026-11",
                Result.CREATED,
                "submitted",
                arn=job_arn("winback-2026-11"),
                status="CREATE FAILED",
                failure_reason="Input file s3://acme/in/items.jsonl | has no rows",
            ),
            outcome("later-2026-11", Result.DEFERRED, "not submitted: no quota slot"),
        ),
        waited=True,
        unfinished=("holiday-promo-2026-11",),
        state_serial=9,
    )

    assert render_report_markdown(report) == (
        "### personalize-runner reconcile\n"
        "\n"
        "**Failed (exit status 1)**: 1 created, 1 deferred (state serial 9).\n"
        "\n"
        "#### Jobs that failed (1)\n"
        "\n"
        "| Job | Spec | Region | Why |\n"
        "| --- | --- | --- | --- |\n"
        "| `winback-2026-11` | specs/winback-2026-11.yaml | us-east-1 123456789012 "
        "| CREATE FAILED: Input file s3://acme/in/items.jsonl \\| has no rows |\n"
        "\n"
        "Still running at the deadline: `holiday-promo-2026-11` "
        "(follow them with `personalize-runner wait`).\n"
        "\n"
        "#### Jobs\n"
        "\n"
        "| Job | Result | Status | ARN |\n"
        "| --- | --- | --- | --- |\n"
        f"| `winback-2026-11` | created | CREATE FAILED | {job_arn('winback-2026-11')} |\n"
        "| `later-2026-11` | deferred |  |  |\n"
        "\n"
        "### personalize-runner plan\n"
        "\n"
        "**2 to create** (offline, no state yet)\n"
        "\n"
        "#### Account `123456789012`, us-east-1\n"
        "\n"
        "|  | Job | Change | Spec | Note |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `+` | `later-2026-11` | create | `specs/later-2026-11.yaml` |  |\n"
        "| `+` | `winback-2026-11` | create | `specs/winback-2026-11.yaml` |  |\n"
    )
    failures = json.loads(render_report_json(report))["failures"]
    assert failures == [
        {
            "name": "winback-2026-11",
            "kind": "BatchSegmentJob",
            "message": "CREATE FAILED: Input file s3://acme/in/items.jsonl | has no rows",
        }
    ]


def test_markdown_of_a_run_that_did_its_work() -> None:
    plan = make_plan([make_spec("alpha")], None)
    report = RunReport(
        plan=plan,
        outcomes=(
            outcome("alpha", Result.CREATED, "submitted", arn=job_arn("alpha"), status="ACTIVE"),
        ),
        state_serial=2,
    )

    markdown = render_report_markdown(report)

    assert markdown.startswith(
        "### personalize-runner reconcile\n"
        "\n"
        "**Done**: 1 created (state serial 2).\n"
        "\n"
        "#### Jobs\n"
        "\n"
        "| Job | Result | Status | ARN |\n"
        "| --- | --- | --- | --- |\n"
        f"| `alpha` | created | ACTIVE | {job_arn('alpha')} |\n"
        "\n"
        "### personalize-runner plan\n"
    )
    assert "Jobs that failed" not in markdown
    assert json.loads(render_report_json(report))["failures"] == []


def test_markdown_of_a_run_deferred_by_the_quota() -> None:
    plan = make_plan([make_spec("alpha")], None)
    report = RunReport(
        plan=plan, outcomes=(outcome("alpha", Result.DEFERRED, "no quota slot"),), state_serial=1
    )

    assert render_report_markdown(report).splitlines()[2] == (
        "**Done for now: jobs deferred by the quota, run again to submit them**: 1 deferred "
        "(state serial 1)."
    )


def test_markdown_of_specs_with_problems() -> None:
    finding = Finding("specs/a|b.yaml", Span(3, 1, 3, 8), "unknown-key", "unknown key 'jobname'")
    report = RunReport(findings=(finding,))

    assert render_report_markdown(report) == (
        "### personalize-runner reconcile\n"
        "\n"
        "**Nothing submitted**: 1 problem in the specs must be fixed first.\n"
        "\n"
        "#### Problems in the specs\n"
        "\n"
        "| File | Line | Rule | Problem |\n"
        "| --- | --- | --- | --- |\n"
        "| `specs/a\\|b.yaml` | 3:1 | unknown-key | unknown key 'jobname' |\n"
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose specs go to the aws backend, i.e. to the HTTP stand-in."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def test_reconcile_format_markdown_through_the_cli(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])

    ran = run_cli("reconcile", "--format", "markdown")

    assert ran.status == 0, ran.err
    assert ran.out == (
        "### personalize-runner reconcile\n"
        "\n"
        "**Done**: 1 created (state serial 1).\n"
        "\n"
        "#### Jobs\n"
        "\n"
        "| Job | Result | Status | ARN |\n"
        "| --- | --- | --- | --- |\n"
        f"| `alpha` | created | CREATE PENDING | {job_arn('alpha')} |\n"
        "\n"
        "### personalize-runner plan\n"
        "\n"
        "**1 to create** (the service consulted, no state yet)\n"
        "\n"
        "#### Account `123456789012`, us-east-1\n"
        "\n"
        "|  | Job | Change | Spec | Note |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `+` | `alpha` | create | `specs/alpha.yaml` |  |\n"
    )
    # What people follow as it goes is on stderr, as with --format json.
    assert f"created  alpha  {job_arn('alpha')}\n" in ran.err
