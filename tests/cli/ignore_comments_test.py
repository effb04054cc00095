"""Ignore comments as people write them, through `lint`: every spelling the README's form
allows silences the rule, and a comment that is meant as one but silences nothing (no rule
named, a space before the bracket, no colon, an unclosed bracket) is an `ignore-comment`
warning instead of passing unseen (issue 14 point 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli

# Line 10's output bucket is reported as bucket-name, a warning that can be ignored.
SPEC = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
jobName: holiday-promo
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/holiday/
jobOutput:
  s3DataDestination:
    path: s3://Acme_Out/batch/out/holiday-promo/{comment}
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(repo: Path, comment: str) -> tuple[int, list[dict[str, Any]]]:
    text = SPEC.format(comment=f"  {comment}" if comment else "")
    (repo / "specs" / "promo.yaml").write_text(text, encoding="utf-8")
    ran = run_cli("lint", "--format", "json")
    findings: list[dict[str, Any]] = json.loads(ran.out)["findings"]
    return ran.status, findings


@pytest.mark.parametrize(
    "comment",
    [
        "# personalize-runner: ignore[bucket-name]",
        "# personalize-runner:ignore[bucket-name]",
        "#personalize-runner:  ignore[bucket-name]",
        "# personalize-runner: ignore[ bucket-name ]",
        "# personalize-runner: ignore[bucket-name, input-prefix-slash]",
        "# personalize-runner: ignore-file[bucket-name]",
        "# personalize-runner:\tignore-file[bucket-name]",
    ],
)
def test_each_spelling_of_the_form_silences_the_rule(repo: Path, comment: str) -> None:
    assert lint(repo, comment) == (0, [])


@pytest.mark.parametrize(
    ("comment", "why"),
    [
        ("# personalize-runner: ignore[]", "it names no rule"),
        ("# personalize-runner: ignore[ , ]", "it names no rule"),
        ("# personalize-runner: ignore-file[]", "it names no rule"),
        ("# personalize-runner: ignore", "write it"),
        ("# personalize-runner: ignore [bucket-name]", "write it"),
        ("# personalize-runner ignore[bucket-name]", "write it"),
        ("# personalize-runner: ignore[bucket-name", "write it"),
        ("# Personalize-Runner: Ignore[bucket-name]", "write it"),
        ("# personalize-runner: ignore-file", "write it"),
    ],
)
def test_a_comment_that_silences_nothing_says_so(repo: Path, comment: str, why: str) -> None:
    status, findings = lint(repo, comment)

    # A warning: lint still passes (but not --strict), and the rule's finding stays.
    assert status == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in findings] == [
        ("bucket-name", "warning", 10),
        ("ignore-comment", "warning", 10),
    ]
    message = findings[1]["message"]
    assert message.startswith("ignore comment: ")
    assert why in message
    assert "`# personalize-runner: ignore[rule-id, ...]`" in message
    # It points at the comment.
    assert findings[1]["column"] == SPEC.splitlines()[9].index("{comment}") + 3
    assert run_cli("lint", "--strict").status == 1


@pytest.mark.parametrize(
    "comment",
    [
        "# personalize-runner ignores this bucket's name",
        "# the name personalize-runner reports is old; ignore it",
        "# personalize-runner: ignored by the team",
    ],
)
def test_prose_about_the_tool_is_not_an_ignore_comment(repo: Path, comment: str) -> None:
    status, findings = lint(repo, comment)

    assert status == 0
    assert [f["rule"] for f in findings] == ["bucket-name"]
