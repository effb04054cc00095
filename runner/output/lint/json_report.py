"""`--format json`: one versioned document, stable for machines.

    {"files": 2, "findings": [...], "format": "personalize-runner/lint", "specs": 3,
     "version": 1}

Keys are sorted and findings come in their sort order, so the same run gives the same
bytes. A change that could break a reader bumps `version`.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from runner.findings import Finding, Related
from runner.output.lint import LintRun

FORMAT = "personalize-runner/lint"
VERSION = 1


def _location(path: str, item: Finding | Related) -> dict[str, Any]:
    span = item.span
    return {
        "path": path,
        "line": span.line,
        "column": span.col,
        "endLine": span.end_line,
        "endColumn": span.end_col,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        **_location(finding.path, finding),
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.message,
        "related": [
            {**_location(related.path, related), "message": related.message}
            for related in finding.related
        ],
    }


def document(run: LintRun) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "files": run.files,
        "specs": run.specs,
        "findings": [
            _finding(finding) for finding in sorted(run.findings, key=lambda f: f.sort_key)
        ],
    }


def report(run: LintRun, stream: TextIO) -> None:
    json.dump(document(run), stream, indent=2, sort_keys=True, ensure_ascii=False)
    stream.write("\n")
