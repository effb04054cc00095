"""The workflows pass actionlint; action.yml, which actionlint does not lint (it reads it
only to check the inputs that workflows pass to `uses: ./`), is checked here.

actionlint runs shellcheck over the workflows' `run:` scripts when shellcheck is on PATH;
the action's own scripts go through shellcheck here, when it is there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ci.support import ACTION, EXPRESSION, REPO, read_yaml, step_named, workflow_files

# action.yml's syntax: docs.github.com, "Metadata syntax for GitHub Actions".
ACTION_KEYS = {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
INPUT_KEYS = {"description", "required", "default", "deprecationMessage"}
STEP_KEYS = {
    "id",
    "if",
    "name",
    "uses",
    "with",
    "env",
    "run",
    "shell",
    "working-directory",
    "continue-on-error",
}
SHELLS = {"bash", "sh", "pwsh", "python", "cmd", "powershell"}
# The contexts an expression in a composite action may use.
CONTEXTS = {"github", "inputs", "steps", "runner", "env", "job", "strategy", "matrix"}
FUNCTIONS = {"always", "success", "failure", "cancelled", "contains", "startsWith", "format"}
USES = re.compile(r"^(?:\./.*|[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[\w.-]+|docker://.+)$")
# A third-party action is pinned by the full SHA of a commit (a tag can be moved).
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")


def actionlint() -> str | None:
    """The `actionlint` beside this interpreter (the test extra), or on PATH."""
    here = Path(sys.executable).parent
    return shutil.which("actionlint", path=os.pathsep.join([str(here), os.environ["PATH"]]))


def test_the_workflows_pass_actionlint() -> None:
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed beside this Python or on PATH")
    files = [str(path.relative_to(REPO)) for path in workflow_files()]

    # From the repository's root, so that `uses: ./` finds action.yml and its inputs.
    ran = subprocess.run(
        [binary, "-no-color", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (ran.returncode, ran.stdout + ran.stderr) == (0, "")


def test_there_are_the_three_workflows() -> None:
    names = [path.name for path in workflow_files()]

    assert names == ["ci.yml", "pull-request.yml", "reconcile.yml"]


def _expressions(value: Any) -> list[str]:
    """Every `${{ … }}` in a YAML value, keys included."""
    if isinstance(value, dict):
        return [e for key, item in value.items() for e in _expressions(key) + _expressions(item)]
    if isinstance(value, list):
        return [e for item in value for e in _expressions(item)]
    if isinstance(value, str):
        return [match.strip() for match in EXPRESSION.findall(value)]
    return []


def _names(expression: str) -> list[str]:
    """The dotted names an expression reads (`inputs.command`), string literals left out."""
    code = re.sub(r"'(?:[^']|'')*'", "''", expression)
    names = re.finditer(r"(?<![\w.-])[A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*)*", code)
    # A name followed by a parenthesis is a function's.
    return [m.group() for m in names if not code[m.end() :].lstrip().startswith("(")]


def action_problems(action: dict[str, Any]) -> list[str]:
    problems = [f"unknown key {key!r}" for key in action if key not in ACTION_KEYS]
    problems += [f"missing {key!r}" for key in ("name", "description", "runs") if key not in action]
    inputs: dict[str, Any] = action.get("inputs") or {}
    for name, spec in inputs.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("description"), str):
            problems.append(f"input {name!r} has no description")
            continue
        problems += [
            f"input {name!r}: unknown key {key!r}" for key in spec if key not in INPUT_KEYS
        ]
        if not isinstance(spec.get("required", False), bool):
            problems.append(f"input {name!r}: 'required' is not true or false")
        if not isinstance(spec.get("default", ""), str):
            problems.append(f"input {name!r}: 'default' is not a string")
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append("runs.using is not 'composite'")
    steps: list[dict[str, Any]] = runs.get("steps") or []
    if not steps:
        problems.append("runs.steps is empty")
    ids: list[str] = []
    for number, step in enumerate(steps, 1):
        where = f"step {number} ({step.get('name') or step.get('uses')})"
        problems += [f"{where}: unknown key {key!r}" for key in step if key not in STEP_KEYS]
        if ("run" in step) == ("uses" in step):
            problems.append(f"{where}: needs exactly one of 'run' and 'uses'")
        if "run" in step:
            if step.get("shell") not in SHELLS:
                problems.append(f"{where}: a run step needs 'shell' (one of {sorted(SHELLS)})")
            if EXPRESSION.search(step["run"]):
                problems.append(
                    f"{where}: an expression in 'run' is pasted into the script; pass it "
                    "through 'env'"
                )
        if "uses" in step and not USES.match(step["uses"]):
            problems.append(f"{where}: 'uses: {step['uses']}' names no version")
        elif (
            "uses" in step
            and not step["uses"].startswith(("./", "docker://"))
            and not PINNED.match(step["uses"])
        ):
            problems.append(f"{where}: 'uses: {step['uses']}' is not pinned to a full commit SHA")
        for expression in _expressions({k: v for k, v in step.items() if k != "id"}):
            problems += _expression_problems(expression, inputs=inputs, steps=ids, where=where)
        if "id" in step:
            if step["id"] in ids:
                problems.append(f"{where}: id {step['id']!r} used twice")
            ids.append(step["id"])
    outputs: dict[str, Any] = action.get("outputs") or {}
    for name, spec in outputs.items():
        where = f"output {name!r}"
        if not isinstance(spec, dict) or set(spec) != {"description", "value"}:
            problems.append(f"{where}: a composite action's output needs description and value")
            continue
        for expression in _expressions(spec["value"]):
            problems += _expression_problems(expression, inputs=inputs, steps=ids, where=where)
    return problems


def _expression_problems(
    expression: str, *, inputs: dict[str, Any], steps: list[str], where: str
) -> list[str]:
    problems = []
    for name in _names(expression):
        root, _, rest = name.partition(".")
        if root in ("true", "false", "null") or root in FUNCTIONS:
            continue
        if root not in CONTEXTS:
            problems.append(f"{where}: unknown context {root!r} in '${{{{ {expression} }}}}'")
        elif root == "inputs" and rest.split(".")[0] not in inputs:
            problems.append(f"{where}: input {rest!r} is not declared")
        elif root == "steps" and rest.split(".")[0] not in steps:
            problems.append(f"{where}: no step before this one has id {rest.split('.')[0]!r}")
    return problems


def test_action_yml_is_a_well_formed_composite_action() -> None:
    assert action_problems(read_yaml(ACTION)) == []


INSTALL = "Install personalize-runner"
RUN = "personalize-runner ${{ inputs.command }}"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda a: step_named(a, INSTALL).pop("shell"),
            "step 4 (Install personalize-runner): a run step needs 'shell'",
        ),
        (
            lambda a: step_named(a, RUN)["env"].update(X="${{ inputs.speks }}"),
            "step 5 (personalize-runner ${{ inputs.command }}): input 'speks' is not declared",
        ),
        (
            lambda a: step_named(a, INSTALL).update(run="echo ${{ inputs.args }}"),
            "step 4 (Install personalize-runner): an expression in 'run' is pasted",
        ),
        (
            lambda a: step_named(a, INSTALL)["env"].update(X="${{ steps.run.outputs.plan }}"),
            "step 4 (Install personalize-runner): no step before this one has id 'run'",
        ),
        (
            lambda a: a["outputs"]["report"].update(value="${{ steps.ran.outputs.report }}"),
            "output 'report': no step before this one has id 'ran'",
        ),
        (lambda a: a.pop("description"), "missing 'description'"),
        (
            lambda a: step_named(a, "Set up Python").update(uses="actions/setup-python"),
            "step 1 (Set up Python): 'uses: actions/setup-python' names no version",
        ),
        (
            lambda a: step_named(a, "Set up Python").update(uses="actions/setup-python@v6"),
            "step 1 (Set up Python): 'uses: actions/setup-python@v6' is not pinned",
        ),
    ],
)
def test_the_action_check_finds_mistakes(change: Any, problem: str) -> None:
    action = read_yaml(ACTION)
    change(action)

    assert [p for p in action_problems(action) if p.startswith(problem)] != []


def test_workflows_pass_the_local_action_only_its_inputs() -> None:
    """What actionlint checks too, here also where actionlint is not installed."""
    inputs: dict[str, Any] = read_yaml(ACTION)["inputs"]
    required = {name for name, spec in inputs.items() if spec.get("required")}
    used = 0
    for path in workflow_files():
        for job in read_yaml(path)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses") != "./":
                    continue
                used += 1
                given = set(step.get("with") or {})
                assert given <= set(inputs), (path.name, given - set(inputs))
                assert required <= given, (path.name, required - given)
    assert used == 3


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    steps = [step for step in read_yaml(ACTION)["runs"]["steps"] if "run" in step]
    for number, step in enumerate(steps):
        script = tmp_path / f"step-{number}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"], encoding="utf-8")

        ran = subprocess.run(
            ["shellcheck", "--shell=bash", str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert (ran.returncode, ran.stdout) == (0, ""), step["name"]
