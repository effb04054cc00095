"""The repository's GitHub Actions files read as plain data, and the working tree as a commit."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.yaml.reader import decode

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
WORKFLOWS = REPO / ".github" / "workflows"
SCRIPT = REPO / ".github" / "scripts" / "personalize_runner_action.py"

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def read_yaml(path: Path) -> dict[str, Any]:
    decoded = decode(path.read_text(encoding="utf-8"))
    assert not decoded.duplicate_keys, decoded.duplicate_keys
    assert len(decoded.documents) == 1
    data = decoded.documents[0].data
    assert isinstance(data, dict), path
    return data


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def run_step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = action["runs"]["steps"]
    (step,) = (step for step in steps if step.get("id") == step_id)
    return step


def git(*args: str, cwd: Path) -> str:
    """`git ARGS` in `cwd` as a throwaway identity; its standard output."""
    ran = subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return ran.stdout


def snapshot(destination: Path) -> str:
    """This working tree as it is (committed or not, ignored files left out), copied to
    `destination` as a git repository of one commit; that commit's SHA.

    What pre-commit and `uses:` install from is a commit: this is the one the tests install.
    """
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO)
    destination.mkdir(parents=True)
    for name in sorted(set(listed.split("\0")) - {""}):
        source = REPO / name
        if not source.is_file():
            continue  # deleted in the working tree, or a submodule
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    git("add", "--all", cwd=destination)
    git("commit", "--quiet", "--no-verify", "--message", "snapshot", cwd=destination)
    return git("rev-parse", "HEAD", cwd=destination).strip()


def fill(value: str, contexts: Mapping[str, str]) -> str:
    """`${{ name }}` replaced by the context's value; any other expression is an error."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in contexts:
            raise AssertionError(f"the test cannot evaluate '${{{{ {name} }}}}'")
        return contexts[name]

    return EXPRESSION.sub(one, value)


def step_named(action: dict[str, Any], name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = action["runs"]["steps"]
    (step,) = (step for step in steps if step.get("name") == name)
    return step
