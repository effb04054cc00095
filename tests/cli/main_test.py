"""`runner.__main__`: a plain `lint` is parsed without typer, and means what the full
command line means."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.__main__ import (
    LINT_CHOICES,
    LINT_FLAGS,
    LINT_OPTIONS,
    PLAN_CHOICES,
    PLAN_FLAGS,
    PLAN_OPTIONS,
    parse_lint,
    parse_plan,
)
from tests.cli.support import entries, help_of, sections
from tests.support.cli import PROJECT_ROOT, run_cli
from tests.support.job_specs import spec_yaml

BROKEN = "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: broken\n"
SGR = "\x1b["


def test_the_fast_path_knows_every_option_of_lint() -> None:
    options = entries(sections(help_of("lint"))["Options"])

    assert set(options) - {"-h, --help"} == LINT_OPTIONS | LINT_FLAGS
    for option, choices in LINT_CHOICES.items():
        assert options[option][0] == f"<{'|'.join(choices)}>"
    # A flag takes no value: the fast path must not take the next word for one.
    assert {option for option in options if not options[option][0]} - {"-h, --help"} == (LINT_FLAGS)


def test_the_fast_path_knows_every_option_of_plan() -> None:
    """A plain `plan` is parsed without typer too (issue 11: start-up is most of it)."""
    options = entries(sections(help_of("plan"))["Options"])

    assert set(options) - {"-h, --help"} == PLAN_OPTIONS | PLAN_FLAGS
    for option, choices in PLAN_CHOICES.items():
        assert options[option][0] == f"<{'|'.join(choices)}>"
    assert {option for option in options if not options[option][0]} - {"-h, --help"} == (PLAN_FLAGS)


def test_the_plan_fast_path_reads_options_and_leaves_the_rest() -> None:
    args = parse_plan(["--refresh", "--format=json", "--out", "plan.json", "--now", "2026-12-01"])

    assert args is not None
    assert (args.refresh, args.output_format, args.out, args.now, args.detailed_exitcode) == (
        True,
        "json",
        "plan.json",
        "2026-12-01",
        False,
    )
    # An argument, an unknown option, a bad choice: the full command line says what is wrong.
    for rest in (["specs"], ["--refesh"], ["--format", "sarif"], ["--refresh", "--refresh"]):
        assert parse_plan(rest) is None


def test_the_fast_path_reads_flags() -> None:
    args = parse_lint(["--strict", "specs/a.yaml", "--list-rules", "--format", "json"])

    assert args is not None
    assert (args.strict, args.list_rules, args.paths, args.output_format) == (
        True,
        True,
        ["specs/a.yaml"],
        "json",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--refesh"],
        ["--format", "yaml"],
        ["--color", "sometimes"],
        ["--format"],
        ["--format", "json", "--format", "text"],
        ["-h"],
        ["--strict=yes"],
        ["--strict", "--strict"],
    ],
    ids=" ".join,
)
def test_what_the_fast_path_does_not_know_goes_to_the_full_command_line(args: list[str]) -> None:
    assert parse_lint(args) is None


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "alpha.yaml").write_text(spec_yaml("alpha"), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_lint_with_every_option_does_not_import_typer(repo: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-X", "importtime", "-m", "runner", "lint", "specs/alpha.yaml"),
            *("--format", "text", "--color", "always", "--specs", "specs"),
            *("--state", str(repo / "state.json"), "--backend", "local"),
        ],
        cwd=repo,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "runner.commands.lint" in imported
    assert "typer" not in imported


@pytest.mark.parametrize("full", [False, True], ids=["fast path", "full command line"])
@pytest.mark.parametrize(
    ("env", "flag", "coloured"),
    [
        ({}, "auto", False),
        ({}, "always", True),
        ({"FORCE_COLOR": "1"}, "auto", True),
        ({"FORCE_COLOR": "1"}, "never", False),
        ({"NO_COLOR": "1"}, "always", True),
    ],
)
def test_lint_colour(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    flag: str,
    coloured: bool,
    full: bool,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # An option given twice is not for the fast path: it leaves the command line to typer.
    args = ["--color", flag, *(["--color", flag] if full else []), "broken.yaml"]
    assert (parse_lint(args) is None) == full

    ran = run_cli("lint", *args)

    assert ran.status == 1
    assert "broken.yaml:" in ran.out
    assert (SGR in ran.out) == coloured


def test_the_colour_choice_holds_for_one_invocation(repo: Path) -> None:
    assert SGR in run_cli("lint", "--color", "always", "broken.yaml").out
    assert SGR not in run_cli("lint", "broken.yaml").out
    assert SGR in run_cli("plan", "--color", "always").out
    assert SGR not in run_cli("plan").out


@pytest.mark.parametrize("full", [False, True], ids=["fast path", "full command line"])
def test_strict_fails_on_warnings(repo: Path, full: bool) -> None:
    # The second document lacks the schema modeline that the first has: a warning.
    modeline = "# yaml-language-server: $schema=../schemas/batch-segment-job.v1.json\n"
    warned = repo / "warned.yaml"
    warned.write_text(modeline + spec_yaml("one") + "---\n" + spec_yaml("two"), encoding="utf-8")
    # An option given twice is not for the fast path: it leaves the command line to typer.
    twice = ["--color", "never"] * (2 if full else 1)

    lenient = run_cli("lint", *twice, "warned.yaml")
    strict = run_cli("lint", *twice, "--strict", "warned.yaml")

    assert lenient.status == 0, lenient.out
    assert "warning" in lenient.out
    assert strict.status == 1, strict.out
