"""The JSON family of `--format json`: what every machine document has in common.

Every document starts with `{"format": "personalize-runner/<name>", "version": N, ...}`,
keys are snake_case, and each has a JSON Schema `schemas/<name>.v<N>.json`
(`docs/json.md` lists them and says when `N` changes). A finding has one shape wherever it
appears (`lint`, `reconcile`'s report): `finding_json`.
"""

from __future__ import annotations

import json
from typing import Any

from runner.findings import Finding, Related

FAMILY = "personalize-runner"


def header(name: str, version: int) -> dict[str, Any]:
    """The two keys every document starts with."""
    return {"format": f"{FAMILY}/{name}", "version": version}


def dumps(document: dict[str, Any]) -> str:
    """A document as the commands print and save it: keys in their written order."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _location(path: str, item: Finding | Related) -> dict[str, Any]:
    span = item.span
    return {
        "path": path,
        "line": span.line,
        "column": span.col,
        "end_line": span.end_line,
        "end_column": span.end_col,
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding: where (1-based, the end exclusive), which rule, how severe, what."""
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
