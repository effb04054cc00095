"""The run step of `action.yml`: one personalize-runner command, written for GitHub Actions.

    python personalize_runner_action.py        # reads INPUT_* and GITHUB_* from the environment

- `lint`: `--format github`, whose workflow commands become annotations on the changed lines.
- `plan`: `--format markdown` into `$GITHUB_STEP_SUMMARY` and, on a pull request, into one
  comment that is found again by a hidden marker and updated, never duplicated (`gh api`).
- `reconcile`: the plan saved and applied with `reconcile --plan`, the JSON report kept for
  the artifact, `reconcile --format markdown` (the jobs, which failed and why) into
  `$GITHUB_STEP_SUMMARY`, and an error annotation for each job the report lists as failed.

Rendering and judging results is the command line's business; this script only carries
what it writes to GitHub (outputs, the summary file, annotations, the pull-request comment).

It calls the command line (`python -m runner`) of the interpreter it runs with, and needs
nothing but the standard library, so it runs the same outside GitHub: the tests set the
environment as GitHub would and put a fake `gh` on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

COMMANDS = ("lint", "plan", "reconcile")
# The environment that action.yml's run step passes (a composite action sets no INPUT_*
# of its own); a test checks that the two lists agree.
INPUT_VARIABLES = (
    "INPUT_COMMAND",
    "INPUT_SPECS",
    "INPUT_STATE",
    "INPUT_BACKEND",
    "INPUT_ARGS",
    "INPUT_COMMENT",
    "GH_TOKEN",
)
# The exit statuses of the command line (README, "Commands").
OK, ERROR, CHANGES, DEFERRED = 0, 1, 2, 3
# The report `reconcile --report FILE` writes, whose keys this script reads (docs/json.md).
REPORT = ("personalize-runner/report", 1)
# A comment holds at most 65,536 characters; leave room for the marker and the footer.
COMMENT_LIMIT = 60_000
STDERR_TAIL = 40
# The deferred jobs a warning names, with why (the report has them all).
DEFERRED_SHOWN = 3


class ActionError(Exception):
    """A mistake in the action's inputs or environment: the step fails with this message."""


@dataclass(frozen=True)
class Inputs:
    command: str
    specs: str
    state: str
    backend: str
    args: tuple[str, ...]
    comment: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        command = env.get("INPUT_COMMAND", "").strip()
        if command not in COMMANDS:
            raise ActionError(f"input 'command' is {command!r}: use one of {', '.join(COMMANDS)}")
        comment = env.get("INPUT_COMMENT", "true").strip().lower()
        if comment not in ("true", "false"):
            raise ActionError(f"input 'comment' is {comment!r}: use true or false")
        try:
            args = tuple(shlex.split(env.get("INPUT_ARGS", "")))
        except ValueError as error:
            raise ActionError(f"input 'args': {error}") from None
        return cls(
            command=command,
            specs=env.get("INPUT_SPECS", "").strip(),
            state=env.get("INPUT_STATE", "").strip(),
            backend=env.get("INPUT_BACKEND", "").strip(),
            args=args,
            comment=comment == "true",
        )

    def options(self) -> list[str]:
        """The options every command shares, for the inputs that are set."""
        options = []
        for name, value in (("--specs", self.specs), ("--state", self.state)):
            if value:
                options += [name, value]
        if self.backend:
            options += ["--backend", self.backend]
        return options


@dataclass(frozen=True)
class Workflow:
    """What the runner tells every step through its environment."""

    summary: Path | None
    output: Path | None
    folder: Path
    """Where the plan and the report go: `$RUNNER_TEMP/personalize-runner`."""
    event_name: str
    event: Mapping[str, Any]
    repository: str
    server_url: str
    run_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Workflow:
        temp = env.get("RUNNER_TEMP") or tempfile.gettempdir()
        event: Mapping[str, Any] = {}
        event_path = env.get("GITHUB_EVENT_PATH")
        if event_path:
            try:
                event = json.loads(Path(event_path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise ActionError(f"GITHUB_EVENT_PATH {event_path}: {error}") from None
        server_url = env.get("GITHUB_SERVER_URL", "https://github.com")
        repository = env.get("GITHUB_REPOSITORY", "")
        run_id = env.get("GITHUB_RUN_ID", "")
        return cls(
            summary=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
            output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
            folder=Path(temp) / "personalize-runner",
            event_name=env.get("GITHUB_EVENT_NAME", ""),
            event=event,
            repository=repository,
            server_url=server_url,
            run_url=f"{server_url}/{repository}/actions/runs/{run_id}" if run_id else "",
        )

    @property
    def pull_request(self) -> int | None:
        if self.event_name not in ("pull_request", "pull_request_target"):
            return None
        number = self.event.get("pull_request", {}).get("number")
        return number if isinstance(number, int) else None

    @property
    def head_sha(self) -> str:
        sha = self.event.get("pull_request", {}).get("head", {}).get("sha", "")
        return sha if isinstance(sha, str) else ""

    def set_output(self, name: str, value: str) -> None:
        if self.output is not None:
            with self.output.open("a", encoding="utf-8") as stream:
                stream.write(f"{name}={value}\n")

    def add_summary(self, markdown: str) -> None:
        if self.summary is not None:
            with self.summary.open("a", encoding="utf-8") as stream:
                stream.write(markdown.rstrip("\n") + "\n\n")


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err_tail: str


def run_runner(*args: str) -> Ran:
    """`personalize-runner ARGS`: stdout kept, stderr shown as it comes and its end kept."""
    command = [sys.executable, "-m", "runner", *args]
    print(f"+ personalize-runner {shlex.join(args)}", file=sys.stderr, flush=True)
    tail: deque[str] = deque(maxlen=STDERR_TAIL)
    # stdout goes to a file, not a pipe: a pipe left unread while stderr is read would
    # block a command with many annotations to write.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stdout:
        with subprocess.Popen(
            command, stdout=stdout, stderr=subprocess.PIPE, text=True, encoding="utf-8"
        ) as process:
            assert process.stderr is not None
            for line in process.stderr:
                sys.stderr.write(line)
                tail.append(line)
        sys.stderr.flush()
        stdout.seek(0)
        out = stdout.read()
    return Ran(process.returncode, out, "".join(tail))


def annotation(level: str, message: str) -> str:
    """A workflow command (`::warning::…`), escaped as @actions/core escapes one."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} title=personalize-runner::{escaped}"


def code_block(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text.rstrip()}\n{fence}"


# lint


def lint(inputs: Inputs, workflow: Workflow) -> int:
    ran = run_runner("lint", "--format", "github", *inputs.options(), *inputs.args)
    # The workflow commands go to the log, where the runner turns them into annotations.
    sys.stdout.write(ran.out)
    sys.stdout.flush()
    workflow.set_output("exit-code", str(ran.status))
    lines = ran.out.strip().splitlines()
    last = lines[-1] if lines and not lines[-1].startswith("::") else ""
    if ran.status == OK:
        workflow.add_summary(f"### personalize-runner lint\n\n{last}")
    elif last.startswith("personalize-runner lint:"):
        workflow.add_summary(
            f"### personalize-runner lint\n\n**{last}**: the annotations show each one on its line."
        )
    else:
        workflow.add_summary(
            f"### personalize-runner lint failed\n\n{code_block(ran.err_tail or ran.out)}"
        )
    return ran.status


# plan


def plan(inputs: Inputs, workflow: Workflow) -> int:
    workflow.folder.mkdir(parents=True, exist_ok=True)
    saved = workflow.folder / "plan.json"
    ran = run_runner(
        "plan",
        "--format",
        "markdown",
        "--detailed-exitcode",
        "--out",
        str(saved),
        *inputs.options(),
        *inputs.args,
    )
    sys.stdout.write(ran.out)
    sys.stdout.flush()
    workflow.set_output("exit-code", str(ran.status))
    if ran.status in (OK, CHANGES):
        markdown = ran.out
        workflow.set_output("has-changes", "true" if ran.status == CHANGES else "false")
        workflow.set_output("plan", str(saved))
    else:
        markdown = (
            "### personalize-runner plan\n\n**No plan**: the command failed "
            f"(exit status {ran.status}).\n\n{code_block(ran.err_tail or ran.out)}"
        )
    workflow.add_summary(markdown)
    number = workflow.pull_request
    if inputs.comment and number is not None:
        body = comment_body(markdown, inputs=inputs, workflow=workflow)
        try:
            PullRequestComments(workflow, number).upsert(marker(inputs), body)
        except ActionError as error:
            # A pull request from a fork gets a read-only token: the plan is in the summary.
            print(annotation("warning", f"the plan was not commented: {error}"), flush=True)
    return OK if ran.status in (OK, CHANGES) else ran.status


def marker(inputs: Inputs) -> str:
    """The hidden line that finds this plan's comment again (one per specs folder)."""
    key = re.sub(r"[^A-Za-z0-9._/-]", "-", inputs.specs) if inputs.specs else ""
    return f"<!-- personalize-runner plan{' ' + key if key else ''} -->"


def comment_body(markdown: str, *, inputs: Inputs, workflow: Workflow) -> str:
    if len(markdown) > COMMENT_LIMIT:
        markdown = (
            markdown[:COMMENT_LIMIT].rsplit("\n", 1)[0]
            + "\n\n*The plan is too long for a comment: the run's summary has all of it.*"
        )
    footer = []
    if workflow.head_sha:
        footer.append(f"for {workflow.head_sha[:7]}")
    if workflow.run_url:
        footer.append(f"by [this run]({workflow.run_url})")
    tail = f"\n\n<sub>Updated {' '.join(footer)}.</sub>" if footer else ""
    return f"{marker(inputs)}\n{markdown.rstrip()}{tail}\n"


class PullRequestComments:
    """The pull request's comments, through `gh api` (on every GitHub-hosted runner)."""

    def __init__(self, workflow: Workflow, number: int) -> None:
        if not workflow.repository:
            raise ActionError("GITHUB_REPOSITORY is not set")
        self.repository = workflow.repository
        self.number = number
        self.env = dict(os.environ)
        host = urlparse(workflow.server_url).hostname
        if host and host != "github.com":
            self.env.setdefault("GH_HOST", host)

    def gh(self, endpoint: str, *options: str) -> str:
        """`gh api ENDPOINT OPTIONS`: its output, or ActionError with what it said."""
        try:
            ran = subprocess.run(
                ["gh", "api", endpoint, *options],
                capture_output=True,
                text=True,
                encoding="utf-8",
                env=self.env,
                check=False,
            )
        except FileNotFoundError:
            raise ActionError("the GitHub CLI (gh) is not on PATH") from None
        if ran.returncode != 0:
            message = ran.stderr.strip() or ran.stdout.strip() or f"exit status {ran.returncode}"
            raise ActionError(f"gh api {endpoint}: {message}")
        return ran.stdout

    def find(self, marker: str) -> str | None:
        """The id of the first comment that holds `marker`."""
        found = self.gh(
            f"repos/{self.repository}/issues/{self.number}/comments",
            "--paginate",
            "--jq",
            f".[] | select(.body | contains({json.dumps(marker)})) | .id",
        )
        ids = found.split()
        return ids[0] if ids else None

    def upsert(self, marker: str, body: str) -> None:
        existing = self.find(marker)
        with tempfile.TemporaryDirectory() as folder:
            payload = Path(folder) / "comment.json"
            payload.write_text(json.dumps({"body": body}), encoding="utf-8")
            if existing is None:
                path = f"repos/{self.repository}/issues/{self.number}/comments"
                self.gh(path, "--method", "POST", "--silent", "--input", str(payload))
                print(f"Commented the plan on pull request #{self.number}.", file=sys.stderr)
            else:
                path = f"repos/{self.repository}/issues/comments/{existing}"
                self.gh(path, "--method", "PATCH", "--silent", "--input", str(payload))
                print(
                    f"Updated the plan's comment on pull request #{self.number}.", file=sys.stderr
                )


# reconcile


def _now(args: tuple[str, ...]) -> tuple[str, ...]:
    """`--now` of the reconcile's `args`, for the plan it applies: a saved plan is applied at
    the instant it was made at, which must be the one asked for."""
    for index, arg in enumerate(args):
        if arg.startswith("--now="):
            return (arg,)
        if arg == "--now" and index + 1 < len(args):
            return ("--now", args[index + 1])
    return ()


def reconcile(inputs: Inputs, workflow: Workflow) -> int:
    workflow.folder.mkdir(parents=True, exist_ok=True)
    saved = workflow.folder / "plan.json"
    report_path = workflow.folder / "report.json"
    report_path.unlink(missing_ok=True)
    # The plan that is applied is the one kept: `reconcile --plan` refuses it if the state
    # moved in between. Reconcile shows the plan in the log and puts it in its report.
    planned = run_runner("plan", "--out", str(saved), *inputs.options(), *_now(inputs.args))
    if planned.status != OK:
        workflow.set_output("exit-code", str(planned.status))
        workflow.add_summary(
            "### personalize-runner reconcile\n\n**Nothing submitted**: the plan failed "
            f"(exit status {planned.status}).\n\n{code_block(planned.err_tail or planned.out)}"
        )
        return planned.status
    workflow.set_output("plan", str(saved))
    ran = run_runner(
        "reconcile",
        "--plan",
        str(saved),
        "--format",
        "markdown",
        "--report",
        str(report_path),
        *inputs.options(),
        *inputs.args,
    )
    workflow.set_output("exit-code", str(ran.status))
    report = read_report(report_path)
    if report is None:
        workflow.add_summary(
            "### personalize-runner reconcile\n\n"
            f"**Failed** (exit status {ran.status}) before writing a report.\n\n"
            f"{code_block(ran.err_tail or ran.out)}"
        )
        return ran.status
    workflow.set_output("report", str(report_path))
    planned_counts = report.get("planned") or {}
    has_changes = any(planned_counts.get(change) for change in ("create", "adopt"))
    workflow.set_output("has-changes", "true" if has_changes else "false")
    workflow.add_summary(ran.out)
    for failure in report.get("failures", []):
        print(annotation("error", f"{failure['name']}: {failure['message']}"), flush=True)
    if ran.status == DEFERRED:
        print(annotation("warning", deferred_warning(report)), flush=True)
        workflow.set_output("deferred", "true")
        return OK
    workflow.set_output("deferred", "false")
    return ran.status


def deferred_warning(report: Mapping[str, Any]) -> str:
    """What exit status 3 means for this run: the jobs left for a later one, each with the
    report's reason (a quota slot that did not come in time, --timeout, a `latestOf`
    solution with no ACTIVE version yet), the first few only."""
    jobs = [job for job in report.get("jobs", []) if job.get("result") == "deferred"]
    count = len(jobs) or report.get("summary", {}).get("deferred", 0)
    one = count == 1
    reasons = "; ".join(f"{job['name']}: {job['reason']}" for job in jobs[:DEFERRED_SHOWN])
    if len(jobs) > DEFERRED_SHOWN:
        reasons += f"; and {len(jobs) - DEFERRED_SHOWN} more (the report lists them)"
    return (
        f"{count} job{'' if one else 's'} left for a later run: run the workflow again to "
        f"submit {'it' if one else 'them'}" + (f" ({reasons})" if reasons else "")
    )


def read_report(path: Path) -> dict[str, Any] | None:
    """The run's report, or None if the run wrote none."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    if (report.get("format"), report.get("version")) != REPORT:
        raise ActionError(
            f"{path}: not a {REPORT[0]} document of version {REPORT[1]}: the action and "
            "the personalize-runner it installed disagree"
        )
    return report


RUNS = {"lint": lint, "plan": plan, "reconcile": reconcile}


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        inputs = Inputs.from_env(env)
        workflow = Workflow.from_env(env)
        return RUNS[inputs.command](inputs, workflow)
    except ActionError as error:
        print(annotation("error", str(error)), flush=True)
        return ERROR


if __name__ == "__main__":
    raise SystemExit(main())
