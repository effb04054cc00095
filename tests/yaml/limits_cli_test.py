"""Past a limit of YAML or of the runner, a file is a finding at its line:col, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.job_specs import spec_yaml

_KEY_FINDING = (
    "specs/alpha.yaml:12:1: error: invalid YAML: a key of 1,025 characters; YAML allows at "
    "most 1,024 before the `:`: shorten it [yaml-syntax]\n"
)
_INTEGER_FINDING = (
    "specs/alpha.yaml:12:13: error: an integer of 1,001 characters (at most 1,000): a spec's "
    "numbers are far shorter [yaml-too-large]\n"
)


@pytest.fixture
def repo_backend() -> str:
    """`repo` (tests/support/fixtures.py) names the local backend."""
    return "local"


def _write(repo: Path, line: str) -> None:
    # A valid spec, then the line: the fast path reads the spec, libyaml places the finding.
    text = spec_yaml("alpha") + line + "\n"
    assert text.count("\n") == 12
    (repo / "specs" / "alpha.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "finding"),
    [("k" * 1025 + ": 1", _KEY_FINDING), ("numResults: " + "1" * 1001, _INTEGER_FINDING)],
    ids=["key", "integer"],
)
def test_lint_plan_and_reconcile_report_it(repo: Path, line: str, finding: str) -> None:
    _write(repo, line)

    lint = run_cli("lint", "specs")
    plan = run_cli("plan")
    reconcile = run_cli("reconcile")

    assert (lint.status, lint.out, lint.err) == (1, finding + "1 finding (1 error) in 1 file\n", "")
    assert (plan.status, plan.out) == (1, "")
    assert plan.err == finding + "No plan: fix the specs first (personalize-runner lint).\n"
    assert (reconcile.status, reconcile.out) == (1, "")
    assert reconcile.err == (
        finding + "Nothing submitted: 1 problem in the specs must be fixed first.\n"
    )
    assert not (repo / ".personalize-runner" / "state.json").exists()


def test_a_key_at_the_limit_is_a_key(repo: Path) -> None:
    _write(repo, "k" * 1024 + ": 1")

    lint = run_cli("lint", "specs")

    assert lint.status == 1
    assert lint.out.startswith(f"specs/alpha.yaml:12:1: error: unknown key '{'k' * 1024}'"), (
        lint.out[:200]
    )
