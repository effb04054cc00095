"""What the workflows promise: least privilege, no AWS on pull requests, merges that queue,
actions pinned by commit, no credentials left in a checkout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from runner.yaml.reader import decode
from tests.ci.support import ACTION, REPO, WORKFLOWS, git, read_yaml, workflow_files

# `uses: owner/repo@<40 hex> # v1.2.3`: the SHA a tag pointed at, and that tag.
PINNED_LINE = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_pull_requests_need_no_aws_credentials_and_may_only_comment() -> None:
    workflow = read_yaml(WORKFLOWS / "pull-request.yml")
    text = (WORKFLOWS / "pull-request.yml").read_text(encoding="utf-8")

    assert workflow["on"] == {"pull_request": None}
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["lint"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["plan"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }
    assert "aws-actions/" not in text
    assert "secrets." not in text
    commands = [step["with"]["command"] for step in steps(workflow) if step.get("uses") == "./"]
    assert commands == ["lint", "plan"]


def test_merges_reconcile_one_at_a_time_with_oidc_credentials() -> None:
    workflow = read_yaml(WORKFLOWS / "reconcile.yml")

    assert workflow["on"]["push"] == {"branches": ["main"]}
    # Recurring specs' periods: on a schedule too, in the same concurrency group as merges.
    assert [entry["cron"] for entry in workflow["on"]["schedule"]] == ["10 4,5 * * 1"]
    assert workflow["concurrency"]["group"] == "personalize-runner-reconcile"
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["reconcile"]["permissions"] == {
        "contents": "read",
        "id-token": "write",
    }
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
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["test"]["permissions"] == {"contents": "read"}
    assert [step["run"] for step in steps(workflow) if "run" in step] == ["bash .ci/run"]


def test_ci_caches_pip_on_a_file_that_exists() -> None:
    (setup,) = (
        step
        for step in steps(read_yaml(WORKFLOWS / "ci.yml"))
        if step.get("uses", "").startswith("actions/setup-python@")
    )

    assert setup["with"]["cache"] == "pip"
    assert (REPO / setup["with"]["cache-dependency-path"]).is_file()


@pytest.mark.parametrize("path", [ACTION, *workflow_files()], ids=lambda path: path.name)
def test_every_third_party_action_is_pinned_by_commit_with_its_version(path: Path) -> None:
    lines = [
        line.strip().removeprefix("- ")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(?:- )?uses: ", line)
    ]
    third_party = [line for line in lines if not line.startswith("uses: ./")]

    assert third_party != []
    assert [line for line in third_party if not PINNED_LINE.match(line)] == []


def test_one_action_one_commit_everywhere() -> None:
    """The same action is the same commit in every file (one version to update)."""
    pins: dict[str, set[str]] = {}
    for path in [ACTION, *workflow_files()]:
        for name, sha, version in re.findall(
            r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (\S+)", path.read_text(encoding="utf-8")
        ):
            pins.setdefault(name, set()).add(f"{sha} {version}")

    assert {name: len(found) for name, found in pins.items()} == dict.fromkeys(pins, 1)


def test_dependabot_moves_the_pins_of_the_workflows_and_the_action() -> None:
    """`directory: /` is the one where Dependabot reads action.yml and .github/workflows."""
    (update,) = read_yaml(REPO / ".github" / "dependabot.yml")["updates"]

    assert (update["package-ecosystem"], update["directory"]) == ("github-actions", "/")
    assert update["cooldown"]["default-days"] >= 1


def test_no_checkout_keeps_its_credentials() -> None:
    checkouts = [
        step
        for path in workflow_files()
        for step in steps(read_yaml(path))
        if step.get("uses", "").startswith("actions/checkout@")
    ]

    assert len(checkouts) == 4
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_no_workflow_grants_a_permission_to_all_its_jobs() -> None:
    for path in workflow_files():
        workflow = read_yaml(path)

        assert workflow["permissions"] == {}, path.name
        assert all("permissions" in job for job in workflow["jobs"].values()), path.name


README = REPO / "README.md"


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def readme_pins() -> dict[str, str]:
    """The commits that the README's pre-commit and workflow examples pin."""
    (rev,) = re.findall(
        r"^\s+rev: (\S+)$", readme_section("pre-commit in another repository"), re.M
    )
    (uses,) = re.findall(
        r"^\s+- uses: <owner>/personalize-runner@(\S+) # main$",
        readme_section("GitOps set-up"),
        re.M,
    )
    return {"pre-commit": rev, "action": uses}


def test_the_readme_pins_one_commit_not_a_tag() -> None:
    pins = readme_pins()

    assert all(re.fullmatch(r"[0-9a-f]{40}", pin) for pin in pins.values()), pins
    assert len(set(pins.values())) == 1, pins


def _history() -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the README's commit cannot be looked up")
    shallow = git("rev-parse", "--is-shallow-repository", cwd=REPO).strip()
    if shallow == "true":
        pytest.skip("a shallow clone: the README's commit may be older than its history")


def test_the_readmes_commit_is_on_main_with_the_hooks_it_names() -> None:
    _history()
    sha = readme_pins()["pre-commit"]

    assert git("cat-file", "-t", sha, cwd=REPO).strip() == "commit"
    git("merge-base", "--is-ancestor", sha, "HEAD", cwd=REPO)
    named = re.findall(r"- id: (\S+)", readme_section("pre-commit in another repository"))
    hooks = {
        hook["id"]: hook
        for hook in decode(git("show", f"{sha}:.pre-commit-hooks.yaml", cwd=REPO)).documents[0].data
    }
    assert set(named) == {"personalize-runner-lint", "personalize-runner-lint-all"}
    assert set(named) <= set(hooks)
    # At that commit the -all hook already follows personalize-runner.yaml.
    assert hooks["personalize-runner-lint-all"]["entry"] == "personalize-runner lint"
    assert "files" not in hooks["personalize-runner-lint-all"]


def test_the_readmes_commit_has_the_action_inputs_the_workflows_pass() -> None:
    _history()
    sha = readme_pins()["action"]
    action = decode(git("show", f"{sha}:action.yml", cwd=REPO)).documents[0].data

    for name in ("pull-request.yml", "reconcile.yml"):
        for step in steps(read_yaml(WORKFLOWS / name)):
            if step.get("uses") == "./":
                assert set(step.get("with") or {}) <= set(action["inputs"]), name
