"""zizmor, the security linter for GitHub Actions, finds nothing in the workflows, action.yml,
the Dependabot configuration and the pre-commit files, offline and with its pedantic persona
(code smells included).

The one kind of finding that is ignored, by a comment on its line, is `self-repository` on
`uses: ./`: the action at the repository's root has no `$/` form (`$/` needs a path).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ci.support import REPO, WORKFLOWS

INPUTS = (
    ".github/workflows",
    "action.yml",
    ".github/dependabot.yml",
    ".pre-commit-hooks.yaml",
    ".pre-commit-config.yaml",
)


def zizmor_binary() -> str:
    """The `zizmor` beside this interpreter (the test extra), or on PATH."""
    here = Path(sys.executable).parent
    found = shutil.which("zizmor", path=os.pathsep.join([str(here), os.environ["PATH"]]))
    if found is None:
        pytest.fail("zizmor is not installed: it is in the test extra (pip install -e '.[test]')")
    return found


def zizmor(root: Path, *options: str) -> tuple[int, list[dict[str, Any]], list[str]]:
    """Exit status, findings and audited files of zizmor over INPUTS under `root`."""
    # No token: offline means no API call, and a token in the environment must not change it.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")
    }
    ran = subprocess.run(
        [
            zizmor_binary(),
            "--offline",
            "--no-config",
            "--no-progress",
            "--color=never",
            "--strict-collection",
            "--persona=pedantic",
            "--format=json",
            *options,
            *(name for name in INPUTS if (root / name).exists()),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    audited = re.findall(r"completed (\S+)", ran.stderr)
    try:
        findings: list[dict[str, Any]] = json.loads(ran.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"zizmor printed no JSON (exit {ran.returncode}):\n{ran.stderr}")
    return ran.returncode, findings, audited


def summary(finding: dict[str, Any]) -> str:
    (primary,) = (where for where in finding["locations"] if where["symbolic"]["kind"] == "Primary")
    path = primary["symbolic"]["key"]["Local"]["verbatim_path"]
    row = primary["concrete"]["location"]["start_point"]["row"] + 1
    return f"{path}:{row}: {finding['ident']}: {primary['concrete']['feature']}"


def test_zizmor_finds_nothing() -> None:
    status, findings, audited = zizmor(REPO)

    assert [summary(finding) for finding in findings] == []
    assert status == 0
    workflows = sorted(str(path.relative_to(REPO)) for path in WORKFLOWS.glob("*.yml"))
    files = [name for name in INPUTS[1:] if (REPO / name).exists()]
    assert "action.yml" in files
    assert sorted(audited) == sorted([*workflows, *files])


def test_the_only_ignored_findings_are_the_root_action_references() -> None:
    status, findings, _ = zizmor(REPO, "--no-ignores")

    assert status != 0
    assert {(finding["ident"], summary(finding).rsplit(": ", 1)[1]) for finding in findings} == {
        ("self-repository", "./")
    }
    texts = {path: path.read_text(encoding="utf-8") for path in WORKFLOWS.glob("*.yml")}
    uses_root = sum(len(re.findall(r"uses: \./(?:\s|$)", text)) for text in texts.values())
    assert len(findings) == uses_root == 3


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (
            lambda text: re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v5", text),
            "unpinned-uses",
        ),
        (lambda text: text.replace("persist-credentials: false", "clean: true"), "artipacked"),
        (
            lambda text: text.replace(
                "# Nothing at the workflow level: the job asks for what it needs.\npermissions: {}",
                "permissions:\n  contents: read\n  id-token: write",
            ),
            "excessive-permissions",
        ),
    ],
)
def test_zizmor_catches_what_the_workflows_avoid(tmp_path: Path, change: Any, finding: str) -> None:
    """The same run over a copy of reconcile.yml with one safeguard taken out."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    original = (WORKFLOWS / "reconcile.yml").read_text(encoding="utf-8")
    changed = change(original)
    assert changed != original
    (workflows / "reconcile.yml").write_text(changed, encoding="utf-8")
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")

    status, findings, _ = zizmor(tmp_path)

    assert status != 0
    assert finding in {found["ident"] for found in findings}
