"""`--format json`: one versioned document, stable for machines (`schemas/lint.v1.json`).

    {"format": "personalize-runner/lint", "version": 1, "files": 2, "specs": 3,
     "findings": [...]}

`files` counts the spec files read, `specs` the spec documents found in them, valid or
not. Findings come in their sort order, so the same run gives the same bytes.
"""

from __future__ import annotations

from typing import Any, TextIO

from runner.output.documents import dumps, finding_json, header
from runner.output.lint import LintRun

NAME = "lint"
VERSION = 1


def document(run: LintRun) -> dict[str, Any]:
    return {
        **header(NAME, VERSION),
        "files": run.files,
        "specs": run.specs,
        "findings": [
            finding_json(finding) for finding in sorted(run.findings, key=lambda f: f.sort_key)
        ],
    }


def report(run: LintRun, stream: TextIO) -> None:
    stream.write(dumps(document(run)))
