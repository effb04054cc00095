"""What the workflows promise: least privilege, no AWS on pull requests, merges that queue."""

from __future__ import annotations

from typing import Any

from tests.ci.support import WORKFLOWS, read_yaml


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_pull_requests_need_no_aws_credentials_and_may_only_comment() -> None:
    workflow = read_yaml(WORKFLOWS / "pull-request.yml")
    text = (WORKFLOWS / "pull-request.yml").read_text(encoding="utf-8")

    assert workflow["on"] == {"pull_request": None}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    assert "aws-actions/" not in text
    assert "secrets." not in text
    commands = [step["with"]["command"] for step in steps(workflow) if step.get("uses") == "./"]
    assert commands == ["lint", "plan"]


def test_merges_reconcile_one_at_a_time_with_oidc_credentials() -> None:
    workflow = read_yaml(WORKFLOWS / "reconcile.yml")

    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["permissions"] == {"contents": "read", "id-token": "write"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    (credentials,) = (
        step
        for step in steps(workflow)
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    )
    assert credentials["with"]["role-to-assume"] == "${{ vars.PERSONALIZE_RUNNER_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"]
    (reconcile,) = (step for step in steps(workflow) if step.get("uses") == "./")
    assert reconcile["with"]["command"] == "reconcile"
    assert reconcile["with"]["backend"] == "aws"
    assert reconcile["with"]["state"] == "${{ vars.PERSONALIZE_RUNNER_STATE }}"
    assert reconcile["with"]["artifact-name"] != ""


def test_ci_runs_the_readme_test_command() -> None:
    workflow = read_yaml(WORKFLOWS / "ci.yml")

    assert set(workflow["on"]) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    assert [step["run"] for step in steps(workflow) if "run" in step] == ["bash .ci/run"]
