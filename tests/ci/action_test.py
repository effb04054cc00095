"""action.yml's run step, run as GitHub runs it, against the `local` backend.

The step's `run:` script goes to bash with the step's `env:`, whose `${{ … }}` are filled in
from the inputs; the environment is what GitHub gives a step (GITHUB_*, RUNNER_TEMP), in a
temporary git repository holding a copy of specs/. `gh` is a small fake on PATH that
records its calls and answers from a list of comments: nothing here talks to GitHub.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ci.support import ACTION, EXPRESSION, REPO, SCRIPT, read_yaml, run_step
from tests.support.json_schema import errors

MARKER = "<!-- personalize-runner plan -->"

# A stand-in for the GitHub CLI: logs each call; `api … --jq '… contains("MARKER") …'`
# prints the ids of the comments in FAKE_GH_COMMENTS whose body holds the marker.
FAKE_GH = textwrap.dedent(
    """\
    import json, os, re, sys
    from pathlib import Path

    args = sys.argv[1:]
    call = {"args": args, "token": os.environ.get("GH_TOKEN")}
    if "--input" in args:
        call["input"] = json.loads(Path(args[args.index("--input") + 1]).read_text())
    with open(os.environ["FAKE_GH_LOG"], "a") as log:
        log.write(json.dumps(call) + "\\n")
    if os.environ.get("FAKE_GH_FAIL"):
        sys.exit("gh: Resource not accessible by integration (HTTP 403)")
    if "--jq" in args:
        marker = json.loads(re.search(r'contains\\(("[^"]*")\\)', args[-1]).group(1))
        for comment in json.loads(os.environ.get("FAKE_GH_COMMENTS", "[]")):
            if marker in comment["body"]:
                print(comment["id"])
    """
)

BROKEN_SPEC = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
jobname: holiday-promo-2026-12
"""


@dataclass(frozen=True)
class Step:
    status: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]
    gh_calls: list[dict[str, Any]]


@dataclass(frozen=True)
class GitHub:
    """A workspace as GitHub lays it out for a job: the repository and the runner's files."""

    workspace: Path
    home: Path

    def run(
        self,
        *,
        event_name: str = "push",
        event: Mapping[str, Any] | None = None,
        comments: list[dict[str, Any]] | None = None,
        gh_fails: bool = False,
        **inputs: str,
    ) -> Step:
        """action.yml's `run` step with these inputs (`comment_id=` for `comment-id`)."""
        action = read_yaml(ACTION)
        values = {name: spec.get("default", "") for name, spec in action["inputs"].items()} | {
            name.replace("_", "-"): value for name, value in inputs.items()
        }
        values["github-token"] = "fake-token"
        step = run_step(action, "run")
        temp = self.home / "temp"
        event_path = self.home / "event.json"
        event_path.write_text(json.dumps(event or {}), encoding="utf-8")
        summary, output, gh_log = (self.home / name for name in ("summary", "output", "gh"))
        for path in (summary, output, gh_log):
            path.write_text("", encoding="utf-8")
        temp.mkdir(exist_ok=True)
        contexts = {
            "runner.temp": str(temp),
            **{f"inputs.{name}": value for name, value in values.items()},
        }
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("GITHUB_", "RUNNER_", "INPUT_", "GH_", "FAKE_GH_"))
        }
        env |= {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(REPO),
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": "acme/segments",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output),
            "RUNNER_TEMP": str(temp),
            "PATH": f"{self.home / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_LOG": str(gh_log),
            "FAKE_GH_COMMENTS": json.dumps(comments or []),
        }
        if gh_fails:
            env["FAKE_GH_FAIL"] = "1"
        env |= {name: fill(value, contexts) for name, value in step["env"].items()}
        # This interpreter's environment stands for the venv the install step makes.
        env["VENV"] = str(Path(sys.executable).parent.parent)
        ran = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs = dict(
            line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines()
        )
        calls = [json.loads(line) for line in gh_log.read_text(encoding="utf-8").splitlines()]
        return Step(
            ran.returncode,
            ran.stdout,
            ran.stderr,
            summary.read_text(encoding="utf-8"),
            outputs,
            calls,
        )


def fill(value: str, contexts: Mapping[str, str]) -> str:
    """`${{ name }}` replaced by the context's value; any other expression is an error."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in contexts:
            raise AssertionError(f"the test cannot evaluate '${{{{ {name} }}}}'")
        return contexts[name]

    return EXPRESSION.sub(one, value)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def github(tmp_path: Path) -> GitHub:
    workspace = tmp_path / "segments"
    shutil.copytree(REPO / "specs", workspace / "specs")
    git("init", "--quiet", "--initial-branch=main", cwd=workspace)
    git("add", "specs", cwd=workspace)
    git("commit", "--quiet", "-m", "specs", cwd=workspace)
    home = tmp_path / "runner"
    (home / "bin").mkdir(parents=True)
    gh = home / "bin" / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    gh.chmod(0o755)
    return GitHub(workspace, home)


def cli_json(workspace: Path, *args: str) -> dict[str, Any]:
    """A command's JSON document (docs/json.md) in `workspace`: what the action's step
    shows must agree with it, whatever example specs the repository ships."""
    ran = subprocess.run(
        [sys.executable, "-m", "runner", *args, "--format", "json"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    document: dict[str, Any] = json.loads(ran.stdout)
    return document


def linted(workspace: Path, *paths: str) -> str:
    document = cli_json(workspace, "lint", *paths)
    assert document["findings"] == []
    return f"personalize-runner lint: {document['files']} files, {document['specs']} specs"


def to_create(workspace: Path) -> int:
    count: int = cli_json(workspace, "plan")["summary"]["create"]
    return count


def pull_request(number: int = 7) -> dict[str, Any]:
    return {
        "number": number,
        "pull_request": {"number": number, "head": {"sha": "0123456789abcdef0123"}},
    }


def test_the_run_step_passes_every_variable_the_script_reads() -> None:
    step = run_step(read_yaml(ACTION), "run")
    names = re.findall(r'"(INPUT_\w+|GH_TOKEN)"', SCRIPT.read_text(encoding="utf-8"))

    assert set(step["env"]) - {"VENV"} == set(names)


# lint


def test_lint_of_clean_specs(github: GitHub) -> None:
    counted = linted(github.workspace)

    step = github.run(command="lint")

    assert step.status == 0, step.stderr
    assert step.stdout == f"{counted}: no findings\n"
    assert step.summary == f"### personalize-runner lint\n\n{counted}: no findings\n\n"
    assert step.outputs == {"exit-code": "0"}


def test_lint_annotates_the_lines_of_a_broken_spec(github: GitHub) -> None:
    (github.workspace / "specs" / "broken.yaml").write_text(BROKEN_SPEC, encoding="utf-8")

    step = github.run(command="lint")

    assert step.status == 1
    errors = [line for line in step.stdout.splitlines() if line.startswith("::error ")]
    assert errors[-1] == (
        "::error file=specs/broken.yaml,line=3,col=1,endLine=3,endColumn=8,"
        "title=personalize-runner unknown-key::unknown key 'jobname': did you mean 'jobName'?"
    )
    assert all(line.startswith("::error file=specs/broken.yaml,") for line in errors)
    assert step.outputs == {"exit-code": "1"}
    assert step.summary.startswith(
        "### personalize-runner lint\n\n**personalize-runner lint: 6 findings (6 errors) in"
    )


def test_lint_passes_args_as_paths(github: GitHub) -> None:
    (github.workspace / "specs" / "broken.yaml").write_text(BROKEN_SPEC, encoding="utf-8")

    counted = linted(github.workspace, "specs/growth")

    step = github.run(command="lint", args="specs/growth")

    assert step.status == 0, step.stdout
    assert step.stdout == f"{counted}: no findings\n"


def test_an_unknown_command_fails_the_step(github: GitHub) -> None:
    step = github.run(command="apply")

    assert step.status == 1
    assert step.stdout == (
        "::error title=personalize-runner::input 'command' is 'apply': use one of lint, plan, "
        "reconcile\n"
    )


# plan


def test_plan_on_a_pull_request_writes_the_summary_and_one_new_comment(github: GitHub) -> None:
    creates = to_create(github.workspace)

    step = github.run(command="plan", event_name="pull_request", event=pull_request())

    assert step.status == 0, step.stderr
    assert step.summary.startswith(
        f"### personalize-runner plan\n\n**{creates} to create** (offline"
    )
    assert "| `+` | `holiday-promo-2026-11` | create |" in step.summary
    plan = github.home / "temp" / "personalize-runner" / "plan.json"
    assert step.outputs == {"exit-code": "2", "has-changes": "true", "plan": str(plan)}
    assert json.loads(plan.read_text(encoding="utf-8"))["jobs"] != []
    listing, create = step.gh_calls
    assert listing["args"][:3] == ["api", "repos/acme/segments/issues/7/comments", "--paginate"]
    assert create["args"][:5] == [
        "api",
        "repos/acme/segments/issues/7/comments",
        "--method",
        "POST",
        "--silent",
    ]
    assert create["token"] == "fake-token"
    body = create["input"]["body"]
    assert body.startswith(MARKER + f"\n### personalize-runner plan\n\n**{creates} to create**")
    assert body.endswith(
        "\n\n<sub>Updated for 0123456 by "
        "[this run](https://github.com/acme/segments/actions/runs/4242).</sub>\n"
    )


def test_plan_updates_the_comment_it_wrote_before(github: GitHub) -> None:
    comments = [
        {"id": 11, "body": "Looks good to me"},
        {"id": 12, "body": f"{MARKER}\n### personalize-runner plan\n\nold plan"},
    ]

    step = github.run(
        command="plan", event_name="pull_request", event=pull_request(), comments=comments
    )

    assert step.status == 0, step.stderr
    assert [call["args"][1:4] for call in step.gh_calls] == [
        ["repos/acme/segments/issues/7/comments", "--paginate", "--jq"],
        ["repos/acme/segments/issues/comments/12", "--method", "PATCH"],
    ]
    update = step.gh_calls[1]
    assert "`holiday-promo-2026-11`" in update["input"]["body"]


def test_plans_of_two_specs_folders_keep_two_comments(github: GitHub) -> None:
    comments = [{"id": 12, "body": f"{MARKER}\nthe plan of specs/"}]

    step = github.run(
        command="plan",
        specs="specs/growth",
        event_name="pull_request",
        event=pull_request(),
        comments=comments,
    )

    assert step.status == 0, step.stderr
    create = step.gh_calls[-1]
    assert create["args"][3] == "POST"
    assert create["input"]["body"].startswith("<!-- personalize-runner plan specs/growth -->\n")


def test_plan_on_a_push_comments_nothing(github: GitHub) -> None:
    creates = to_create(github.workspace)

    step = github.run(command="plan", event_name="push")

    assert step.status == 0, step.stderr
    assert step.gh_calls == []
    assert f"**{creates} to create**" in step.summary


def test_plan_with_comments_off(github: GitHub) -> None:
    step = github.run(
        command="plan", comment="false", event_name="pull_request", event=pull_request()
    )

    assert step.status == 0, step.stderr
    assert step.gh_calls == []


def test_a_comment_that_cannot_be_written_is_a_warning(github: GitHub) -> None:
    """A pull request from a fork gets a read-only token; its plan is in the summary."""
    creates = to_create(github.workspace)
    step = github.run(
        command="plan", event_name="pull_request", event=pull_request(), gh_fails=True
    )

    assert step.status == 0, step.stderr
    assert f"**{creates} to create**" in step.summary
    assert step.stdout.splitlines()[-1] == (
        "::warning title=personalize-runner::the plan was not commented: gh api "
        "repos/acme/segments/issues/7/comments: gh: Resource not accessible by integration "
        "(HTTP 403)"
    )


def test_a_plan_of_broken_specs_fails_and_says_why(github: GitHub) -> None:
    (github.workspace / "specs" / "broken.yaml").write_text(BROKEN_SPEC, encoding="utf-8")

    step = github.run(command="plan", event_name="pull_request", event=pull_request())

    assert step.status == 1
    assert step.outputs == {"exit-code": "1"}
    assert step.summary.startswith(
        "### personalize-runner plan\n\n**No plan**: the command failed (exit status 1).\n\n"
        "```text\nspecs/broken.yaml:1:1: error: missing required key 'jobName'"
    )
    assert "specs/broken.yaml:3:1: error: unknown key 'jobname'" in step.summary
    assert "No plan: fix the specs first" in step.gh_calls[-1]["input"]["body"]


# reconcile


def local_demo(workspace: Path) -> None:
    """The README's `local demo`: the example specs' solution versions and input files."""
    demo = subprocess.run(
        [sys.executable, "-m", "runner", "local", "demo"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr


def test_reconcile_keeps_the_report_and_lists_the_job_that_failed(github: GitHub) -> None:
    local_demo(github.workspace)
    holiday = github.workspace / "specs" / "growth" / "holiday-promo-2026-11.yaml"
    missing = (
        holiday.read_text(encoding="utf-8")
        .replace("holiday-promo-2026-11", "missing-version-2026-11")
        .replace("item-affinity/69d9c6df", "item-affinity/00000000")
    )
    (github.workspace / "specs" / "growth" / "missing-version.yaml").write_text(
        missing, encoding="utf-8"
    )
    # Every job of the examples is created but the one whose solution version is missing.
    creates = to_create(github.workspace)

    step = github.run(command="reconcile")

    assert step.status == 1, step.stderr
    folder = github.home / "temp" / "personalize-runner"
    assert step.outputs == {
        "plan": str(folder / "plan.json"),
        "exit-code": "1",
        "report": str(folder / "report.json"),
        "has-changes": "true",
        "deferred": "false",
    }
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["created"] == creates - 1
    assert report["summary"]["failed"] == 1
    # The files behind the outputs are the documents docs/json.md describes.
    for name, path in (("report", folder / "report.json"), ("plan", folder / "plan.json")):
        schema = json.loads((REPO / "schemas" / f"{name}.v1.json").read_text(encoding="utf-8"))
        assert errors(schema, json.loads(path.read_text(encoding="utf-8"))) == [], name
    refusal = (
        "the service refused the job: ResourceNotFoundException: Could not find solution "
        "version: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/00000000"
    )
    assert step.summary.startswith(
        "### personalize-runner reconcile\n\n"
        f"**Failed (exit status 1)**: {creates - 1} created, 1 failed (state serial"
    )
    assert (
        "#### Jobs that failed (1)\n\n"
        "| Job | Spec | Region | Why |\n"
        "| --- | --- | --- | --- |\n"
        "| `missing-version-2026-11` | specs/growth/missing-version.yaml "
        f"| us-east-1 123456789012 | {refusal} |\n"
    ) in step.summary
    # The summary's row of a job says what the report says of it.
    (job,) = [
        job
        for job in report["jobs"]
        if job["name"] == "holiday-promo-2026-11" and job["kind"] == "BatchSegmentJob"
    ]
    assert f"| `holiday-promo-2026-11` | created | {job['status']} | {job['arn']} |" in (
        step.summary
    )
    assert f"::error title=personalize-runner::missing-version-2026-11: {refusal}" in (
        step.stdout.splitlines()
    )
    # The summary is `reconcile --format markdown`, the plan it carried out at its end.
    assert (
        f"\n\n### personalize-runner plan\n\n**{creates} to create** (the service consulted, "
        "no state yet)"
    ) in step.summary


def test_reconcile_of_the_demo_then_nothing_to_do(github: GitHub) -> None:
    local_demo(github.workspace)
    creates = to_create(github.workspace)

    first = github.run(command="reconcile", args="--wait")
    again = github.run(command="reconcile")

    assert first.status == 0, first.stderr
    assert first.summary.startswith(
        f"### personalize-runner reconcile\n\n**Done**: {creates} created (state serial"
    )
    assert "Jobs that failed" not in first.summary
    assert first.outputs["has-changes"] == "true"
    assert again.status == 0, again.stderr
    assert again.summary.startswith(
        f"### personalize-runner reconcile\n\n**Done**: nothing to do, {creates} unchanged "
        "(state serial"
    )
    assert again.outputs["has-changes"] == "false"


def test_reconcile_with_now_in_args_plans_and_applies_at_that_instant(github: GitHub) -> None:
    # `--now` of `args` goes to the plan that is saved too: a saved plan is applied at the
    # instant it was made at, so the two must agree.
    local_demo(github.workspace)

    step = github.run(command="reconcile", args="--now 2026-11-10T12:00:00Z")

    assert step.status == 0, step.stderr
    state = json.loads(
        (github.workspace / ".personalize-runner" / "state.json").read_text(encoding="utf-8")
    )
    weekly = sorted(name for name in state["jobs"] if name.startswith("weekly-genre-fans-"))
    assert weekly == ["weekly-genre-fans-2026-W46"]


def test_reconcile_of_broken_specs_submits_nothing(github: GitHub) -> None:
    (github.workspace / "specs" / "broken.yaml").write_text(BROKEN_SPEC, encoding="utf-8")

    step = github.run(command="reconcile")

    assert step.status == 1
    assert step.outputs == {"exit-code": "1"}
    assert step.summary.startswith(
        "### personalize-runner reconcile\n\n**Nothing submitted**: the plan failed "
        "(exit status 1).\n\n```text\nspecs/broken.yaml:1:1: error: missing required key"
    )
    assert not (github.home / "temp" / "personalize-runner" / "report.json").exists()


def test_a_report_of_another_format_stops_the_step(tmp_path: Path) -> None:
    """The script reads the report's keys only from the document it knows."""
    script = runpy.run_path(str(SCRIPT))
    path = tmp_path / "report.json"
    path.write_text('{"format": "personalize-runner/plan", "version": 1}', encoding="utf-8")

    with pytest.raises(script["ActionError"]) as raised:
        script["read_report"](path)

    assert str(raised.value) == (
        f"{path}: not a personalize-runner/report document of version 1: the action and the "
        "personalize-runner it installed disagree"
    )
    path.write_text('{"format": "personalize-runner/report", "version": 1}', encoding="utf-8")
    assert script["read_report"](path) == {"format": "personalize-runner/report", "version": 1}
    assert script["read_report"](tmp_path / "missing.json") is None


def test_reconcile_that_leaves_a_job_for_later_succeeds_with_a_warning(github: GitHub) -> None:
    """Exit status 3: a `latestOf` spec whose solution has no ACTIVE version yet (its only
    one is training) is deferred, not failed; the warning says why, from the report."""
    local_demo(github.workspace)
    trained = subprocess.run(
        [
            *(sys.executable, "-m", "runner", "local", "train", "--dataset", "demo"),
            *("--recipe", "aws-item-affinity", "--solution", "untrained"),
            *("--training-time", "100000"),
        ],
        cwd=github.workspace,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert trained.returncode == 0, trained.stderr
    solution = "arn:aws:personalize:us-east-1:123456789012:solution/untrained"
    shutil.rmtree(github.workspace / "specs")
    (github.workspace / "specs").mkdir()
    holiday = (REPO / "specs" / "growth" / "holiday-promo-2026-11.yaml").read_text("utf-8")
    (github.workspace / "specs" / "later.yaml").write_text(
        re.sub(
            r"(?m)^solutionVersionArn: .*$", f"solutionVersionArn:\n  latestOf: {solution}", holiday
        ),
        encoding="utf-8",
    )

    step = github.run(command="reconcile")

    assert step.status == 0, step.stderr
    folder = github.home / "temp" / "personalize-runner"
    assert step.outputs == {
        "plan": str(folder / "plan.json"),
        "exit-code": "3",
        "report": str(folder / "report.json"),
        "has-changes": "true",
        "deferred": "true",
    }
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    (job,) = report["jobs"]
    assert (job["name"], job["result"]) == ("holiday-promo-2026-11", "deferred")
    assert job["reason"].startswith(f"no ACTIVE version of {solution} ")
    warnings = [line for line in step.stdout.splitlines() if line.startswith("::warning")]
    assert warnings == [
        "::warning title=personalize-runner::1 job left for a later run: run the workflow "
        "again to submit it (holiday-promo-2026-11: "
        f"{job['reason']})"
    ]
