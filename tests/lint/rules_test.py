"""The rule table (runner/rules/): every rule is complete, its example is reported by lint
as that rule, docs/rules.md is the table's rendering, `lint --list-rules` prints it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.rules import GROUPS, RULES, Rule, Severity, files
from runner.rules.docs import render
from runner.rules.rule import REPOSITORY_URL
from tests.lint.support import REPO, lint_json, run_lint
from tests.support.json_schema import check_schema, errors

# A valid spec that an example's top-level keys replace or join.
BASE = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
jobName: weekly-affinity
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/items.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/weekly/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""
# Examples that are not a file lint can be given: they need a missing or unreadable file,
# bytes that are not UTF-8, a megabyte, two files, a state, special files or links, a
# hundred findings; `kind` chooses the schema, so
# no document meets a `const` it could break.
NOT_LINTABLE = {
    "no-such-file",
    "unreadable",
    "file-too-large",
    "encoding",
    "duplicate-job-name",
    "spec-changed",
    "const",
    "special-file",
    "symlink-dangling",
    "symlink-loop",
    "symlink-repeat",
    "file-name",
    "too-many-errors",
    "too-many-warnings",
}


def _blocks(text: str) -> dict[str, str]:
    """Top-level keys with their lines (comments go with the key after them)."""
    blocks: dict[str, str] = {}
    pending = ""
    key = None
    for line in text.splitlines(keepends=True):
        if line[:1] not in (" ", "\t", "-", "#", "\n", "") and ":" in line:
            key = line.split(":", 1)[0]
            blocks[key] = pending + line
            pending = ""
        elif key is None or line.startswith("#"):
            pending += line
        else:
            blocks[key] += line
    return blocks


WHOLE_FILES = {rule.id for rule in files.RULES}


def example_file(rule: Rule) -> str:
    if "apiVersion:" in rule.example or rule.id in WHOLE_FILES:
        return rule.example
    merged = _blocks(BASE) | _blocks(rule.example)
    return "".join(merged.values())


def test_every_rule_is_complete() -> None:
    assert len(RULES) == sum(len(rules) for _, rules in GROUPS)
    for rule in RULES.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id), rule.id
        assert "\n" not in rule.summary, rule.id
        assert rule.summary.endswith("."), rule.id
        assert len(rule.description) > len(rule.summary), rule.id
        assert rule.example.strip(), rule.id
        assert rule.help_uri == f"{REPOSITORY_URL}/blob/main/docs/rules.md#{rule.id}"
    # Warnings are advisory: each may be silenced but the one about ignore comments.
    warnings = {rule.id for rule in RULES.values() if rule.level is Severity.WARNING}
    assert {"bucket-name", "schema-modeline", "ignore-comment"} <= warnings


@pytest.mark.parametrize(
    "rule",
    [rule for rule in RULES.values() if rule.id not in NOT_LINTABLE],
    ids=lambda rule: rule.id,
)
def test_example_is_reported_as_its_rule(
    rule: Rule, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "example.yaml"
    spec.write_text(example_file(rule), encoding="utf-8")
    _, document = lint_json(capsys, str(spec), state=tmp_path / "state.json")
    rules = {finding["rule"] for finding in document["findings"]}
    assert rule.id in rules, (example_file(rule), document["findings"])
    severities = {f["severity"] for f in document["findings"] if f["rule"] == rule.id}
    assert severities == {rule.level.value}


def test_docs_rules_md_is_the_tables_rendering() -> None:
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/rules.md is stale: python -m runner.rules > docs/rules.md"
    for rule in RULES.values():
        assert f"\n### {rule.id}\n" in committed


def test_repository_url_is_the_readmes() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"repo: {REPOSITORY_URL}\n" in readme


def test_list_rules_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_lint(capsys, "--list-rules", state=tmp_path / "state.json")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == len(RULES)
    for line, rule in zip(lines, RULES.values(), strict=True):
        assert line.split()[:2] == [rule.id, rule.level.value]
        assert line.endswith(rule.summary)
    assert any(line.split()[2] == "ignorable" for line in lines)


def test_list_rules_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_lint(
        capsys, "--list-rules", "--format", "json", state=tmp_path / "state.json"
    )
    assert (status, err) == (0, "")
    document = json.loads(out)
    schema = json.loads((REPO / "schemas" / "rules.v1.json").read_text(encoding="utf-8"))
    check_schema(schema)
    assert errors(schema, document) == []
    assert list(document)[:2] == ["format", "version"]
    assert document["format"] == "personalize-runner/rules"
    assert [entry["id"] for entry in document["rules"]] == list(RULES)
    bucket = next(entry for entry in document["rules"] if entry["id"] == "bucket-name")
    assert bucket["level"] == "warning"
    assert bucket["ignorable"] is True
    assert bucket["help_uri"] == RULES["bucket-name"].help_uri


def test_list_rules_in_a_format_it_has_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_lint(
        capsys, "--list-rules", "--format", "sarif", state=tmp_path / "state.json"
    )
    assert (status, out) == (1, "")
    assert "--list-rules" in err
