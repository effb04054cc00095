"""Findings: what `lint` (and the checks `plan` and `reconcile` share with it) report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from runner.yaml.span import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a finding refers to (the first of two duplicate names, say)."""

    path: str
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place of one file; lines and columns are 1-based."""

    path: str
    span: Span
    rule: str
    message: str
    severity: Severity = Severity.ERROR
    related: tuple[Related, ...] = ()

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.col, self.rule)


def file_finding(path: str, rule: str, message: str, *, line: int = 1, col: int = 1) -> Finding:
    """A finding about a whole file, or a point in it without a node (bad bytes, say)."""
    return Finding(path, Span(line, col, line, col + 1), rule, message)


# Every rule a finding may carry, with a line that says what it checks: SARIF's rule
# descriptions, and a test holds every rule to one.
RULES: dict[str, str] = {
    "no-such-file": "A path given to lint does not exist.",
    "unreadable": "The file cannot be read.",
    "file-too-large": "The file is larger than a spec can be.",
    "encoding": "The file is not UTF-8.",
    "empty-file": "The file holds no spec.",
    "yaml-syntax": "The file is not valid YAML.",
    "yaml-tab": "A tab indents YAML, which allows only spaces.",
    "yaml-tag": "An explicit YAML tag that a spec does not use.",
    "yaml-too-large": "Nesting or alias expansion far beyond any spec.",
    "duplicate-key": "A key given twice in one mapping.",
    "not-a-spec": "A document that is not a mapping of spec fields.",
    "api-version": "A missing or unknown apiVersion.",
    "required": "A required field is missing.",
    "unknown-key": "A field the spec format does not have.",
    "type": "A value of the wrong type.",
    "const": "A value other than the one allowed (kind).",
    "enum": "A value outside the allowed set.",
    "pattern": "A value that does not match its field's pattern.",
    "length": "A string or list that is too short or too long.",
    "range": "A number out of its field's range.",
    "arn-format": "An ARN that is not of the kind the field needs.",
    "solution-not-version": "A solution ARN where a solution version ARN is needed.",
    "partition-mismatch": "ARNs of one job in different partitions.",
    "account-mismatch": "ARNs of one job in different accounts.",
    "region-mismatch": "ARNs of one job in different regions.",
    "output-in-input": "The output path is, or lies inside, the input path.",
    "input-prefix-slash": "An input folder prefix without a trailing '/'.",
    "tag-reserved": "A tag key with the reserved prefix 'aws:'.",
    "tag-duplicate": "Two tags with the same key.",
    "region-unsupported": "A region or partition where Amazon Personalize is not offered.",
    "bucket-name": "An S3 bucket name outside today's naming rules (a warning).",
    "latest-of-version": "A solution version ARN where latestOf needs a solution ARN.",
    "cron": "A schedule's cron expression that is not valid.",
    "timezone": "A schedule's time zone that is not an IANA name.",
    "schedule-start": "A schedule's start that is not a date.",
    "catch-up": "A schedule's catchUp that is not valid, or more due periods than it takes.",
    "placeholder": "An unknown placeholder, or a stray brace, in a recurring spec.",
    "placeholder-without-schedule": "A placeholder in a spec without a schedule.",
    "period-name": "A period's job name that the service refuses.",
    "period-name-collision": "Two periods of a recurring spec with the same job name.",
    "period-output-collision": "Two periods of a recurring spec with the same output path.",
    "duplicate-job-name": "The same jobName in two specs (periods included).",
    "spec-changed": "A spec changed after its job was submitted.",
}
