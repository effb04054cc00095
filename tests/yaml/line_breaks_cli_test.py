"""Every finding at the line an editor shows (issue 10), whatever the file's line breaks.

libyaml counts NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029) as
line breaks, which editors, diffs and code review do not show as breaks: every finding after
one was a line off, and a comment holding one ended there. They are refused where they
stand. A file whose lines end in CR alone is counted as libyaml and editors count it, the
place of a character YAML refuses included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.job_specs import spec_yaml

# roleArn, on line 11, is a number: a finding at 11:10.
_SPEC = spec_yaml("alpha").replace(
    "roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole", "roleArn: 5"
)
_ROLE_FINDING = (
    "specs/alpha.yaml:11:10: error: roleArn: expected a string, got the integer 5 (quote it to "
    "make it a string) [type]\n"
)


@pytest.fixture
def repo_backend() -> str:
    """`repo` (tests/support/fixtures.py) names the local backend."""
    return "local"


def _lint(repo: Path, text: str) -> tuple[int, str]:
    (repo / "specs" / "alpha.yaml").write_bytes(text.encode("utf-8"))
    ran = run_cli("lint", "specs")
    assert ran.err == ""
    return ran.status, ran.out


@pytest.mark.parametrize(
    ("char", "name"),
    [("\x85", "NEXT LINE"), ("\u2028", "LINE SEPARATOR"), ("\u2029", "PARAGRAPH SEPARATOR")],
    ids=["NEL", "LS", "PS"],
)
@pytest.mark.parametrize(
    ("anchor", "written", "place"),
    [
        ("kind:", "# a note{}about the job\nkind:", "2:9"),
        ("jobName: alpha", 'jobName: "al{}pha"', "3:13"),
        ("jobName: alpha", "jobName: al{}pha", "3:12"),
    ],
    ids=["comment", "quoted", "plain"],
)
def test_a_break_only_yaml_sees_is_refused_where_it_stands(
    repo: Path, char: str, name: str, anchor: str, written: str, place: str
) -> None:
    text = _SPEC.replace(anchor, written.format(char), 1)

    status, out = _lint(repo, text)

    assert status == 1
    assert out == (
        f"specs/alpha.yaml:{place}: error: invalid YAML: the character U+{ord(char):04X} "
        f"({name}), which YAML reads as a line break and editors do not show as one; remove "
        f'it (in a double-quoted string, write it as "\\u{ord(char):04x}") [yaml-syntax]\n'
        "1 finding (1 error) in 1 file\n"
    )


def test_plan_and_reconcile_refuse_it_too(repo: Path) -> None:
    (repo / "specs" / "alpha.yaml").write_text(
        spec_yaml("alpha").replace("jobName: alpha", 'jobName: "al\u2028pha"'), encoding="utf-8"
    )

    plan = run_cli("plan")
    reconcile = run_cli("reconcile")

    assert (plan.status, reconcile.status) == (1, 1)
    assert plan.err.startswith("specs/alpha.yaml:3:13: error: invalid YAML: the character U+2028")
    assert reconcile.err.endswith(
        "Nothing submitted: 1 problem in the specs must be fixed first.\n"
    )
    assert not (repo / ".personalize-runner" / "state.json").exists()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_findings_are_at_their_line_whatever_ends_the_lines(repo: Path, newline: str) -> None:
    assert _lint(repo, _SPEC.replace("\n", newline)) == (
        1,
        _ROLE_FINDING + "1 finding (1 error) in 1 file\n",
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_nul_byte_is_at_its_line_whatever_ends_the_lines(repo: Path, newline: str) -> None:
    text = _SPEC.replace("kind: BatchSegmentJob", "kind: Batch\0SegmentJob").replace("\n", newline)

    assert _lint(repo, text) == (
        1,
        "specs/alpha.yaml:2:12: error: invalid YAML: the character U+0000 (a NUL byte): control "
        "characters are not allowed; remove it [yaml-syntax]\n1 finding (1 error) in 1 file\n",
    )
