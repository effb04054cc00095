"""`personalize-runner lint [PATH ...]`: validate spec files. Exit 0 clean, 1 on findings."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from runner.config import Settings
from runner.errors import ExitStatus
from runner.findings import Finding
from runner.output.lint import LintRun, reporter
from runner.spec import JobSpec
from runner.spec.loader import load_specs


def run(settings: Settings, *, paths: list[str], output_format: str) -> int:
    result = load_specs(paths or [str(settings.specs)], root=settings.root)
    findings = result.findings
    if result.specs:
        findings = findings + _state_findings(settings, result.specs)
    reporter(output_format)(
        LintRun(
            findings=sorted(findings + result.warnings, key=lambda finding: finding.sort_key),
            files=result.files,
            specs=result.documents,
        ),
        sys.stdout,
    )
    # Warnings are shown; only errors fail the run.
    return ExitStatus.ERROR if findings else ExitStatus.OK


def _state_findings(settings: Settings, specs: Sequence[JobSpec]) -> list[Finding]:
    """Specs changed after their job was submitted, when the state is a local file.

    Lint needs no credentials, so a state in S3 is left to `plan`.
    """
    if "://" in settings.state or not Path(settings.state).is_file():
        return []
    from runner.spec.checks import check_against_state
    from runner.state import open_store

    snapshot = open_store(settings.state).read()
    return [] if snapshot is None else check_against_state(specs, snapshot.state)
