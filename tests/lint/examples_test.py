"""Example spec files through the CLI: every positive one is clean, every negative one
gives exactly the findings in its sibling `.expected` file (`line:col rule message`)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest

from runner.findings import RULES
from runner.spec.tree import MAX_FILE_BYTES
from runner.state import JobRecord, State, open_store
from tests.lint.support import EXAMPLES, REPO, finding_lines, lint_json, run_lint

POSITIVE = sorted((EXAMPLES / "positive").glob("*.yaml"))
SPECS_PER_FILE = {
    "every-field.yaml": 1,
    "inference-every-field.yaml": 1,
    "inference-theme-generation.yaml": 1,
    "integral-num-results.yaml": 1,
    "minimal.yaml": 1,
    "multi-document.yaml": 3,
    "recurring.yaml": 1,
}
NEGATIVE = sorted(path for path in (EXAMPLES / "negative").iterdir() if path.suffix != ".expected")
# Rules no committed example can show: they need a file made at test time (below; special
# files, links and file names in tests/spec/tree_test.py, a hundred findings in
# tests/lint/growth_test.py), or a schema keyword no document can break (`kind` chooses the
# schema, so its `const` always holds).
GENERATED_RULES = {
    "file-too-large",
    "no-such-file",
    "spec-changed",
    "special-file",
    "symlink-dangling",
    "symlink-loop",
    "symlink-repeat",
    "file-name",
    "too-many-errors",
    "too-many-warnings",
}
UNREACHABLE_RULES = {"const", "unreadable"}


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths are reported relative to the repository root, found from the working folder.
    monkeypatch.chdir(REPO)


@pytest.fixture
def no_state(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("path", POSITIVE, ids=lambda path: path.name)
def test_positive_example_is_clean(
    path: Path, capsys: pytest.CaptureFixture[str], no_state: Path
) -> None:
    status, out, err = run_lint(capsys, _relative(path), state=no_state)
    specs = SPECS_PER_FILE[path.name]
    assert (status, err) == (0, "")
    assert out == f"1 file, {specs} spec{'s' if specs != 1 else ''}: no findings\n"


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda path: path.stem)
def test_negative_example_gives_its_findings(
    path: Path, capsys: pytest.CaptureFixture[str], no_state: Path
) -> None:
    started = time.perf_counter()
    status, document = lint_json(capsys, _relative(path), state=no_state)
    elapsed = time.perf_counter() - started
    prefix = _relative(path) + ("/" if path.is_dir() else "")
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert finding_lines(document, prefix) == expected
    # Warnings are shown but fail nothing: an example of warnings only passes.
    errors = [finding for finding in document["findings"] if finding["severity"] == "error"]
    assert status == (1 if errors else 0)
    # Alias bombs and deep nesting are refused early, not expanded (an expanded bomb takes
    # minutes and gigabytes): a hang guard, generous for a loaded machine, not a benchmark.
    assert elapsed < 20.0


def test_all_positive_examples_together_are_clean(
    capsys: pytest.CaptureFixture[str], no_state: Path
) -> None:
    status, out, _ = run_lint(capsys, _relative(EXAMPLES / "positive"), state=no_state)
    specs = sum(SPECS_PER_FILE.values())
    assert (status, out) == (0, f"{len(POSITIVE)} files, {specs} specs: no findings\n")


def test_every_rule_has_a_negative_example() -> None:
    shown = {
        line.split()[1]
        for path in (EXAMPLES / "negative").glob("*.expected")
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith(" ")
    }
    assert shown <= set(RULES)
    assert set(RULES) - shown == GENERATED_RULES | UNREACHABLE_RULES


def test_file_over_the_size_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_state: Path
) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    status, document = lint_json(capsys, str(big), state=no_state)
    assert status == 1
    assert finding_lines(document, big.as_posix()) == [
        "1:1 file-too-large the file is larger than 1024 KiB; a spec is a few hundred bytes: "
        "is this the right file?"
    ]


def test_file_at_the_size_limit_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_state: Path
) -> None:
    spec = (EXAMPLES / "positive" / "minimal.yaml").read_bytes()
    padded = tmp_path / "padded.yaml"
    padded.write_bytes(spec + b"#" * (MAX_FILE_BYTES - len(spec) - 1) + b"\n")
    status, out, _ = run_lint(capsys, str(padded), state=no_state)
    assert (status, out) == (0, "1 file, 1 spec: no findings\n")


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_state: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    status, document = lint_json(capsys, str(missing), state=no_state)
    assert status == 1
    assert finding_lines(document, missing.as_posix()) == [
        "1:1 no-such-file no such file or folder: check the path"
    ]


def _record(name: str, *, request_digest: str) -> JobRecord:
    return JobRecord(
        name=name,
        arn=f"arn:aws:personalize:us-east-1:123456789012:batch-segment-job/{name}",
        partition="aws",
        region="us-east-1",
        account="123456789012",
        spec_file="specs/holiday.yaml",
        spec_digest="0" * 64,
        request_digest=request_digest,
        git_commit=None,
        submitted_at=datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC),
        recorded_by="created",
        status="ACTIVE",
    )


def test_spec_changed_after_its_job_was_submitted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = EXAMPLES / "positive" / "minimal.yaml"
    state_path = tmp_path / "state.json"
    store = open_store(str(state_path))
    store.write(
        State.new().with_job(_record("weekly_affinity_1", request_digest="1" * 64)), expected=None
    )
    status, document = lint_json(capsys, _relative(spec), state=state_path)
    assert status == 1
    assert finding_lines(document, _relative(spec)) == [
        "3:10 spec-changed jobName: job 'weekly_affinity_1' was submitted on 2026-11-02 09:30 UTC "
        "(arn:aws:personalize:us-east-1:123456789012:batch-segment-job/weekly_affinity_1) and "
        "this spec changed since; jobs are immutable: restore this spec and put the change in "
        "a new spec with a new jobName"
    ]


def test_unchanged_spec_of_a_submitted_job_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runner.spec.loader import load_specs

    spec = EXAMPLES / "positive" / "minimal.yaml"
    loaded = load_specs([spec], root=REPO)
    state_path = tmp_path / "state.json"
    digest = loaded.specs[0].request_digest
    open_store(str(state_path)).write(
        State.new().with_job(_record("weekly_affinity_1", request_digest=digest)), expected=None
    )
    status, out, _ = run_lint(capsys, _relative(spec), state=state_path)
    assert (status, out) == (0, "1 file, 1 spec: no findings\n")
