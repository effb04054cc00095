"""docs/rules.md, and each rule's help in SARIF: the rule table rendered as Markdown.

`python -m runner.rules > docs/rules.md` writes the page; a test fails when the committed
page is not this rendering.
"""

from __future__ import annotations

from runner.rules import GROUPS, RULES, Rule
from runner.rules.rule import RULES_DOC

_INTRO = f"""\
# Lint rules

<!-- Generated from runner/rules/ by `python -m runner.rules > {RULES_DOC}`: edit the table
there, not this file (a test fails when the two differ). -->

Every finding of `personalize-runner lint` names one of these rules; `lint --list-rules`
lists them (`--format json` for machines). **Errors** fail `lint` and stop `plan` and
`reconcile`; **warnings** are shown and fail only `lint --strict`. A rule marked
*can be ignored* may be silenced for the whole repository in `personalize-runner.yaml`
(`lint: {{ignore: [rule-id]}}`), for one line with `# personalize-runner: ignore[rule-id]`
(at the end of the line, or alone on the line above it), or for one file with
`# personalize-runner: ignore-file[rule-id]`; see the README, "Lint rules".
"""


def _ignorable(rule: Rule) -> str:
    return "can be ignored" if rule.ignorable else "cannot be ignored"


def rule_markdown(rule: Rule) -> str:
    """A rule's help: level, summary, description and example (no heading)."""
    return (
        f"**{rule.level.value}** · {_ignorable(rule)}\n\n"
        f"{rule.summary}\n\n{rule.description}\n\n"
        f"Example:\n\n```yaml\n{rule.example.rstrip()}\n```\n"
    )


def rule_text(rule: Rule) -> str:
    """A rule's help as plain text."""
    return (
        f"{rule.summary} ({rule.level.value}, {_ignorable(rule)})\n\n{rule.description}\n\n"
        f"Example:\n\n{rule.example.rstrip()}\n"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """docs/rules.md."""
    lines = [
        _INTRO,
        "| rule | level | can be ignored | what it reports |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| [{rule.id}](#{rule.id}) | {rule.level.value} | {'yes' if rule.ignorable else 'no'}"
        f" | {_cell(rule.summary)} |"
        for rule in RULES.values()
    ]
    for title, rules in GROUPS:
        lines += ["", f"## {title}"]
        for rule in rules:
            lines += ["", f"### {rule.id}", "", rule_markdown(rule).rstrip()]
    return "\n".join(lines) + "\n"
