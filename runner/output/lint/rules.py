"""`lint --list-rules`: the rule table (runner/rules/) as text or as a JSON document.

    yaml-tab            error    -          A tab indents YAML, which allows only spaces.
    bucket-name         warning  ignorable  An S3 bucket name outside today's naming rules.

The JSON document (`schemas/rules.v1.json`) has every field of each rule.
"""

from __future__ import annotations

from typing import Any, TextIO

from runner.output.documents import dumps, header
from runner.rules import RULES, Rule

NAME = "rules"
VERSION = 1


def report_text(stream: TextIO) -> None:
    width = max(len(rule_id) for rule_id in RULES)
    for rule in RULES.values():
        ignorable = "ignorable" if rule.ignorable else "-"
        stream.write(f"{rule.id:<{width}}  {rule.level.value:<7}  {ignorable:<9}  {rule.summary}\n")


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "level": rule.level.value,
        "ignorable": rule.ignorable,
        "summary": rule.summary,
        "description": rule.description,
        "example": rule.example,
        "help_uri": rule.help_uri,
    }


def report_json(stream: TextIO) -> None:
    stream.write(dumps({**header(NAME, VERSION), "rules": [rule_json(r) for r in RULES.values()]}))
