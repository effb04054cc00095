"""`lint` runs on every commit: it must not import what only other commands need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lint.support import EXAMPLES, REPO

HEAVY = ("boto3", "botocore", "pydantic", "jsonschema", "numpy", "scipy")


def test_lint_imports_no_boto3(tmp_path: Path) -> None:
    spec = EXAMPLES / "positive" / "every-field.yaml"
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "runner",
            "lint",
            str(spec),
            "--state",
            str(tmp_path / "state.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "runner" in imported
    assert sorted(imported.intersection(HEAVY)) == []
