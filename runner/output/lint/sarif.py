"""`--format sarif`: SARIF 2.1.0, for GitHub code scanning (`upload-sarif`).

Minimal but valid: the tool with a rule for every rule that appears, and one result per
finding with its region (1-based, the end column exclusive, as SARIF counts) and the
related places.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from runner import __version__
from runner.findings import RULES, Finding, Related, Severity
from runner.output.lint import LintRun

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "personalize-runner"
INFORMATION_URI = "https://pypi.org/project/personalize-runner/"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def artifact_uri(path: str) -> str:
    """A relative URI for a repository-relative path; a `file:` URI for one outside it."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(path, safe="/")


def _location(item: Finding | Related) -> dict[str, Any]:
    span = item.span
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(item.path)},
            "region": {
                "startLine": span.line,
                "startColumn": span.col,
                "endLine": span.end_line,
                "endColumn": span.end_col,
            },
        }
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding)],
    }
    if finding.related:
        result["relatedLocations"] = [
            {"id": index, **_location(related), "message": {"text": related.message}}
            for index, related in enumerate(finding.related, start=1)
        ]
    return result


def document(run: LintRun) -> dict[str, Any]:
    findings = sorted(run.findings, key=lambda finding: finding.sort_key)
    rule_ids = sorted({finding.rule for finding in findings})
    index = {rule: position for position, rule in enumerate(rule_ids)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {"id": rule, "shortDescription": {"text": RULES.get(rule, rule)}}
                            for rule in rule_ids
                        ],
                    }
                },
                "results": [_result(finding, index[finding.rule]) for finding in findings],
            }
        ],
    }


def report(run: LintRun, stream: TextIO) -> None:
    json.dump(document(run), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
