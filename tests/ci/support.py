"""The repository's GitHub Actions files, read as plain data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from runner.yaml import decode

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
