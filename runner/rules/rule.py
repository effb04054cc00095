"""What a lint rule is: one record of data that every reader of rules shares.

The findings carry a rule's id; their level, the descriptions that SARIF, `--list-rules`
and `docs/rules.md` show, and whether a rule may be silenced all come from its `Rule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The repository, as the README names it (`repo:` of its pre-commit example): the owner is
# not settled yet, so links built from it resolve once it is published under this name.
# A test holds it to the README's.
REPOSITORY_URL = "https://github.com/<owner>/personalize-runner"
README_URL = f"{REPOSITORY_URL}#readme"
RULES_DOC = "docs/rules.md"
RULES_URL = f"{REPOSITORY_URL}/blob/main/{RULES_DOC}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule.

    `example` is spec text that the rule reports: a whole file when it holds `apiVersion`
    or the rule is about files and YAML, otherwise top-level keys that replace (or join)
    those of a valid spec (tests/lint/rules_test.py checks each against lint itself).
    """

    id: str
    """Lower-case words joined by `-`: also its section's anchor in docs/rules.md."""
    summary: str
    """One line: SARIF's shortDescription, `--list-rules`."""
    description: str
    """What it checks, why, and what to do; Markdown (backticks), paragraphs by blank lines."""
    example: str
    level: Severity = Severity.ERROR
    """Errors fail lint and stop `plan` and `reconcile`; warnings fail only `lint --strict`."""
    ignorable: bool = False
    """Whether `lint.ignore` or an ignore comment may silence it. Rules whose finding means
    the document is not read, or whose silence would break a guarantee, may not."""

    @property
    def help_uri(self) -> str:
        return f"{RULES_URL}#{self.id}"
