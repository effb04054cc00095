"""Findings: what `lint` (and the checks `plan` and `reconcile` share with it) report."""

from __future__ import annotations

from dataclasses import dataclass

from runner.rules import RULES, Severity, level_of
from runner.yaml.span import Span

# The rules themselves (id, level, descriptions, example) are data in runner/rules/: a new
# rule is one entry there.
__all__ = ["RULES", "Finding", "Related", "Severity", "file_finding"]


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
    related: tuple[Related, ...] = ()

    @property
    def severity(self) -> Severity:
        """Its rule's level (runner/rules/)."""
        return level_of(self.rule)

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.col, self.rule)


def file_finding(path: str, rule: str, message: str, *, line: int = 1, col: int = 1) -> Finding:
    """A finding about a whole file, or a point in it without a node (bad bytes, say)."""
    return Finding(path, Span(line, col, line, col + 1), rule, message)
