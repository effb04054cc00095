"""How much lint shows of one file: the first findings of each level, then how many more.

A file of 5,000 mistakes (a generated file, a wrong file) would otherwise print 5,000
findings that say the same; the first of each level show what is wrong, and one more
finding counts the rest. Errors and warnings are counted apart, so that a file whose
findings shown are all warnings but that has errors still fails with an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner.findings import Finding, Severity

MAX_SHOWN_PER_FILE = 100
_MORE = {
    Severity.ERROR: ("too-many-errors", "error"),
    Severity.WARNING: ("too-many-warnings", "warning"),
}


def cap_per_file(findings: Iterable[Finding]) -> list[Finding]:
    """The first `MAX_SHOWN_PER_FILE` findings of each level of each file, in the order
    given (sorted by place), and for each level with more a finding that counts them, at
    the first not shown."""
    shown: list[Finding] = []
    counts: dict[tuple[str, Severity], int] = {}
    first_hidden: dict[tuple[str, Severity], Finding] = {}
    for finding in findings:
        key = (finding.path, finding.severity)
        count = counts.get(key, 0) + 1
        counts[key] = count
        if count <= MAX_SHOWN_PER_FILE:
            shown.append(finding)
        elif count == MAX_SHOWN_PER_FILE + 1:
            first_hidden[key] = finding
    for (path, level), finding in first_hidden.items():
        rule, word = _MORE[level]
        more = counts[(path, level)] - MAX_SHOWN_PER_FILE
        shown.append(
            Finding(
                path,
                finding.span,
                rule,
                f"{more:,} more {word}{'s' if more != 1 else ''} in this file, from here on, "
                f"are not shown (lint shows the first {MAX_SHOWN_PER_FILE} of each file): "
                "fix those shown and run it again",
            )
        )
    return shown
