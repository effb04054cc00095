"""`--format sarif`: SARIF 2.1.0, for GitHub code scanning (`upload-sarif`).

The tool with every rule that appears, each with its descriptions, help (text and
Markdown: its section of docs/rules.md) and level from the rule table (runner/rules/); one
result per finding with its region (1-based, the end column exclusive, as SARIF counts),
the related places, and a partial fingerprint that does not change when the finding's
lines move (GitHub matches alerts of successive uploads by it): a hash of the rule, the
file and the message without the line numbers it may quote, and which of equal findings
in that file it is. Validated against the OASIS schema in tests/output/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from runner import __version__
from runner.findings import Finding, Related, Severity
from runner.output.lint import LintRun
from runner.rules import README_URL, RULES
from runner.rules.docs import rule_markdown, rule_text

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "personalize-runner"
FINGERPRINT = "personalizeRunnerFinding/v1"
# Line (and column) numbers a message may quote: `specs/a.yaml:3`, `on line 3`.
_LINE_REFERENCES = re.compile(r"(?:(?<=\.yaml)|(?<=\.yml)):\d+(?::\d+)?|(?<=\bline )\d+")

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def web_uri(url: str) -> str:
    """`url` with what a URI may not hold (the `<owner>` of the repository's URL) escaped."""
    return quote(url, safe=":/#?&=%")


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


def _rule(rule_id: str) -> dict[str, Any]:
    rule = RULES.get(rule_id)
    if rule is None:
        return {"id": rule_id, "shortDescription": {"text": rule_id}}
    return {
        "id": rule.id,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule_text(rule), "markdown": rule_markdown(rule)},
        "helpUri": web_uri(rule.help_uri),
        "defaultConfiguration": {"level": _LEVELS[rule.level]},
    }


def fingerprint(finding: Finding, occurrence: int) -> str:
    """The same for the same finding wherever its lines move: rule, file, message (less
    the line numbers it quotes), and its rank among findings equal in those."""
    stable = _LINE_REFERENCES.sub("", finding.message)
    key = "\0".join((finding.rule, finding.path, stable, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(finding: Finding, rule_index: int, occurrence: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT: fingerprint(finding, occurrence)},
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
    seen: Counter[tuple[str, str, str]] = Counter()
    results = []
    for finding in findings:
        same = (finding.rule, finding.path, _LINE_REFERENCES.sub("", finding.message))
        results.append(_result(finding, index[finding.rule], seen[same]))
        seen[same] += 1
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": web_uri(README_URL),
                        "rules": [_rule(rule) for rule in rule_ids],
                    }
                },
                "results": results,
            }
        ],
    }


def report(run: LintRun, stream: TextIO) -> None:
    json.dump(document(run), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
