"""Silencing rules through the CLI: ignore comments (on the line, on the line above, for
the file), `lint.ignore` in personalize-runner.yaml, and warnings against `--strict`."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.__main__ import main
from runner.yaml.fast import decode_plain_blocks
from tests.lint.support import lint_json, run_lint

SPEC = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
jobName: holiday-promo
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/holiday
jobOutput:
  s3DataDestination:
    path: s3://Acme_Out/batch/out/holiday-promo/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""
# Line 7 is reported as input-prefix-slash (an error), line 10 as bucket-name (a warning).
PREFIX_LINE = "    path: s3://acme-personalize/batch/in/holiday\n"
BUCKET_LINE = "    path: s3://Acme_Out/batch/out/holiday-promo/\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lint(
    capsys: pytest.CaptureFixture[str], repo: Path, text: str, *args: str
) -> tuple[int, list[str]]:
    (repo / "spec.yaml").write_text(text, encoding="utf-8")
    status, document = lint_json(capsys, *args, "spec.yaml", state=repo / "state.json")
    return status, [f"{f['line']} {f['rule']} {f['severity']}" for f in document["findings"]]


def test_without_comments(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    assert _lint(capsys, repo, SPEC) == (
        1,
        ["7 input-prefix-slash error", "10 bucket-name warning"],
    )


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "events"])
def test_a_comment_on_the_line(capsys: pytest.CaptureFixture[str], repo: Path, fast: bool) -> None:
    text = SPEC.replace(
        PREFIX_LINE,
        PREFIX_LINE.rstrip("\n") + "  # personalize-runner: ignore[input-prefix-slash]\n",
    )
    if not fast:
        # A flow mapping: outside what the line reader takes, so libyaml's events read it.
        text += "tags: [{tagKey: team, tagValue: growth}]\n"
    assert (decode_plain_blocks(text) is not None) is fast
    assert _lint(capsys, repo, text) == (0, ["10 bucket-name warning"])


def test_a_comment_above_the_line(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    text = SPEC.replace(
        BUCKET_LINE,
        "    # personalize-runner: ignore[bucket-name]\n    # (an old bucket)\n" + BUCKET_LINE,
    )
    assert _lint(capsys, repo, text) == (1, ["7 input-prefix-slash error"])


def test_a_comment_silences_only_its_line(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    text = SPEC.replace(
        "jobName: holiday-promo\n",
        "jobName: holiday-promo  # personalize-runner: ignore[bucket-name]\n",
    )
    assert _lint(capsys, repo, text) == (
        1,
        ["7 input-prefix-slash error", "10 bucket-name warning"],
    )


def test_a_comment_for_the_file(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    text = "# personalize-runner: ignore-file[bucket-name, input-prefix-slash]\n" + SPEC
    assert _lint(capsys, repo, text) == (0, [])


def test_a_rule_that_cannot_be_ignored_stays(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    text = SPEC.replace(
        "jobName: holiday-promo\n",
        "jobName: holiday promo  # personalize-runner: ignore[pattern]\n",
    )
    status, lines = _lint(capsys, repo, text)
    assert status == 1
    assert lines == ["3 pattern error", "3 ignore-comment warning"]


def test_lint_ignore_in_the_configuration(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / "personalize-runner.yaml").write_text(
        "lint:\n  ignore: [input-prefix-slash, bucket-name]\n", encoding="utf-8"
    )
    assert _lint(capsys, repo, SPEC) == (0, [])


def test_lint_ignore_and_plan(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    """plan runs the same checks: a rule silenced for lint does not stop it either."""
    (repo / "specs").mkdir()
    (repo / "specs" / "holiday.yaml").write_text(SPEC, encoding="utf-8")
    status, _, _ = run_lint(capsys, state=repo / "state.json")
    assert status == 1
    assert main(["plan", "--state", str(repo / "state.json")]) == 1
    (repo / "personalize-runner.yaml").write_text(
        "lint:\n  ignore: [input-prefix-slash]\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["plan", "--state", str(repo / "state.json")]) == 0
    assert "holiday-promo" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "lint:\n  ignore: [bucket-nam]\n",
            "personalize-runner.yaml:2:12: lint.ignore: there is no rule 'bucket-nam': "
            "did you mean 'bucket-name'?",
        ),
        (
            "lint:\n  ignore:\n    - bucket-name\n    - yaml-syntax\n",
            "personalize-runner.yaml:4:7: lint.ignore: the rule 'yaml-syntax' cannot be "
            "ignored (lint --list-rules marks those that can): fix what it reports",
        ),
        (
            "lint:\n  ignore: bucket-name\n",
            "personalize-runner.yaml:2:11: 'lint.ignore' must be a list of rule ids",
        ),
        (
            "lint:\n  ignored: [bucket-name]\n",
            "personalize-runner.yaml:2:3: 'lint' takes one setting, 'ignore': a list of rule ids",
        ),
    ],
)
def test_a_bad_lint_ignore_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], repo: Path, config: str, message: str
) -> None:
    (repo / "personalize-runner.yaml").write_text(config, encoding="utf-8")
    (repo / "spec.yaml").write_text(SPEC, encoding="utf-8")
    status, out, err = run_lint(capsys, "spec.yaml", state=repo / "state.json")
    assert (status, out) == (1, "")
    assert message in err


def test_strict_fails_on_warnings(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    text = SPEC.replace(PREFIX_LINE, "    path: s3://acme-personalize/batch/in/holiday/\n")
    assert _lint(capsys, repo, text) == (0, ["10 bucket-name warning"])
    assert _lint(capsys, repo, text, "--strict") == (1, ["10 bucket-name warning"])
    clean = text.replace("Acme_Out", "acme-out")
    assert _lint(capsys, repo, clean, "--strict") == (0, [])


def test_text_shows_the_level_and_the_rule(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / "spec.yaml").write_text(SPEC, encoding="utf-8")
    status, out, _ = run_lint(capsys, "spec.yaml", state=repo / "state.json")
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith("spec.yaml:7:11: error: ")
    assert lines[0].endswith(" [input-prefix-slash]")
    assert lines[1].startswith("spec.yaml:10:11: warning: ")
    assert lines[1].endswith(" [bucket-name]")
