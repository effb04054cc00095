"""`personalize-runner lint [PATH ...]`: validate spec files. Exit 0 clean, 1 on errors (on
warnings too with `--strict`); `--list-rules` prints the rules instead."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from runner.config import Settings
from runner.errors import ConfigError, ExitStatus
from runner.findings import Finding
from runner.output.lint import LintRun
from runner.output.writers import reporter
from runner.spec import JobSpec
from runner.spec.loader import load_specs


def run(
    settings: Settings,
    *,
    paths: list[str],
    output_format: str,
    strict: bool = False,
    list_rules: bool = False,
) -> int:
    if list_rules:
        return _list_rules(output_format)
    result = load_specs(
        paths or [str(settings.specs)], root=settings.root, ignore=settings.lint_ignore
    )
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
    # Warnings are shown; only errors fail the run, unless `--strict`.
    return ExitStatus.ERROR if findings or (strict and result.warnings) else ExitStatus.OK


def _list_rules(output_format: str) -> int:
    from runner.output.lint import rules

    if output_format not in ("text", "json"):
        raise ConfigError(f"--list-rules prints text or json, not --format {output_format}")
    (rules.report_json if output_format == "json" else rules.report_text)(sys.stdout)
    return ExitStatus.OK


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
