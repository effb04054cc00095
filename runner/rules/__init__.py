"""The lint rules, as data: one `Rule` per id, grouped as docs/rules.md shows them.

A new rule is one entry in the tuple of its group (`files`, `fields`, `jobs`, `schedules`,
`editors`); SARIF, `lint --list-rules`, the levels of findings, suppression and
docs/rules.md (`python -m runner.rules > docs/rules.md`) all read it from here.
"""

from __future__ import annotations

import difflib

from runner.rules import editors, fields, files, jobs, schedules
from runner.rules.rule import README_URL, REPOSITORY_URL, RULES_URL, Rule, Severity

__all__ = [
    "GROUPS",
    "README_URL",
    "REPOSITORY_URL",
    "RULES",
    "RULES_URL",
    "Rule",
    "Severity",
    "ignore_problem",
    "level_of",
]

# (title, rules) in the order of the docs: from reading a file to checking jobs.
GROUPS: tuple[tuple[str, tuple[Rule, ...]], ...] = tuple(
    (group.TITLE, group.RULES) for group in (files, fields, jobs, schedules, editors)
)
RULES: dict[str, Rule] = {rule.id: rule for _, rules in GROUPS for rule in rules}


def level_of(rule_id: str) -> Severity:
    """The level of a rule's findings (an id not in the table is an error: tests keep
    every id in it)."""
    rule = RULES.get(rule_id)
    return Severity.ERROR if rule is None else rule.level


def ignore_problem(rule_id: str) -> str | None:
    """Why an ignore comment or `lint.ignore` cannot name `rule_id`; None if it can."""
    rule = RULES.get(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, RULES, n=1, cutoff=0.6)
        hint = f": did you mean {close[0]!r}?" if close else " (lint --list-rules lists them)"
        return f"there is no rule {rule_id!r}{hint}"
    if not rule.ignorable:
        return (
            f"the rule {rule_id!r} cannot be ignored (lint --list-rules marks those that "
            "can): fix what it reports"
        )
    return None
