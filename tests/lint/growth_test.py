"""Lint's work grows linearly with its input, whatever the input holds (issue 10).

Work is counted, not timed: the Python lines run in `runner/` and the Python calls made
anywhere while `lint` runs in this process (`sys.settrace`). Four times the documents
must take less than five times the work; what used to be quadratic (positions found by
decoding the file again for each document, n² pairs of duplicate names, a suggestion
search per key) took twelve to sixteen times. The largest inputs then run as a process
with a hard timeout, checking the findings and the caps that bound them; how long they
take is measured by `python -m bench.lint --pathological`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from runner.spec.limits import MAX_SHOWN_PER_FILE
from runner.yaml.document import MAX_DOCUMENTS
from tests.support.cli import PROJECT_ROOT, run_cli

RUNNER = str(PROJECT_ROOT / "runner") + os.sep
SPEC = (Path(__file__).resolve().parent / "positive" / "minimal.yaml").read_text(encoding="utf-8")
# Generous: linear work makes the ratio about 4 (less, as the fixed cost is shared).
MAX_RATIO = 5.0
HANG_SECONDS = 120

# Files of n documents (or one document of n keys) of each kind that once grew badly.
INPUTS: dict[str, Callable[[int], str]] = {
    "bad documents": lambda n: "".join(
        "---\n" + SPEC.replace("jobName:", "jobNam:") for _ in range(n)
    ),
    "tiny documents": lambda n: "---\na: 1\n" * n,
    "unknown keys": lambda n: SPEC + "".join(f"unknownKey{i}: x\n" for i in range(n)),
    "one jobName": lambda n: ("---\n" + SPEC) * n,
    "flow documents": lambda n: "---\n{a: 1}\n" * n,
    "duplicate keys": lambda n: "---\na: 1\na: 2\n" * n,
    "modelines": lambda n: (
        "# yaml-language-server: $schema=../schemas/batch-segment-job.v1.json\n" + "---\na: 1\n" * n
    ),
    "ignore comments": lambda n: "---\na: 1  # personalize-runner: ignore[bucket-name]\n" * n,
    "bucket warnings": lambda n: "".join(
        "---\n" + SPEC.replace("acme-eu", "Acme_EU").replace("weekly_affinity_1", f"job{i}")
        for i in range(n)
    ),
}


def _work(path: Path, state: Path) -> int:
    """Lines run in runner/ and calls made while `lint` checks `path`, in this process."""
    count = 0

    def line(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return line

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return line if frame.f_code.co_filename.startswith(RUNNER) else None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        ran = run_cli("lint", str(path), "--state", str(state))
    finally:
        sys.settrace(previous)
    assert ran.status in (0, 1), ran.err
    assert "Traceback" not in ran.err, ran.err
    return count


@pytest.mark.parametrize("kind", INPUTS)
def test_four_times_the_input_is_at_most_five_times_the_work(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.json"
    make = INPUTS[kind]
    files = {}
    for n in (2, 100, 400):
        files[n] = tmp_path / f"{n}.yaml"
        files[n].write_text(make(n), encoding="utf-8")
    _work(files[2], state)  # caches warm: the schema compiled, the modules imported
    small, large = _work(files[100], state), _work(files[400], state)
    assert large / small < MAX_RATIO, (kind, small, large)


def _lint_process(path: Path) -> dict[str, Any]:
    ran = subprocess.run(
        [sys.executable, "-m", "runner", "lint", "--format", "json", str(path)],
        cwd=path.parent,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        check=False,
    )
    assert (ran.returncode, ran.stderr) == (1, "")
    document: dict[str, Any] = json.loads(ran.stdout)
    return document


def _rules(document: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in document["findings"]:
        counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
    return counts


def test_a_mapping_of_5000_unknown_keys_is_findings_capped_per_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(INPUTS["unknown keys"](5000), encoding="utf-8")
    document = _lint_process(path)
    assert _rules(document) == {"unknown-key": MAX_SHOWN_PER_FILE, "too-many-errors": 1}
    [more] = [item for item in document["findings"] if item["rule"] == "too-many-errors"]
    assert more["message"].startswith(f"{5000 - MAX_SHOWN_PER_FILE:,} more errors in this file")
    # At the first finding not shown: the 101st unknown key, on the line after the 100th.
    shown = [item["line"] for item in document["findings"] if item["rule"] == "unknown-key"]
    assert more["line"] == max(shown) + 1


def test_errors_beyond_the_cap_are_counted_apart_from_warnings(tmp_path: Path) -> None:
    # Each document: two bucket-name warnings, then (later in the file) errors.
    path = tmp_path / "mixed.yaml"
    path.write_text(
        INPUTS["bucket warnings"](200) + INPUTS["tiny documents"](150), encoding="utf-8"
    )
    rules = _rules(_lint_process(path))
    assert rules == {
        "bucket-name": MAX_SHOWN_PER_FILE,
        "too-many-warnings": 1,
        "api-version": MAX_SHOWN_PER_FILE,
        "too-many-errors": 1,
    }


def test_the_largest_files_lint_at_once(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(INPUTS["tiny documents"](MAX_DOCUMENTS), encoding="utf-8")
    document = _lint_process(tiny)
    assert document["specs"] == MAX_DOCUMENTS
    assert _rules(document) == {"api-version": MAX_SHOWN_PER_FILE, "too-many-errors": 1}

    same = tmp_path / "same.yaml"
    same.write_text(INPUTS["one jobName"](2000), encoding="utf-8")
    findings = _lint_process(same)["findings"]
    assert _rules({"findings": findings}) == {
        "duplicate-job-name": MAX_SHOWN_PER_FILE,
        "too-many-errors": 1,
    }
    # Each names a few of the other 1,999 specs and counts the rest.
    assert all(len(item["related"]) <= 5 for item in findings)
    assert "and 1,994 more" in findings[0]["message"]


def test_more_documents_than_the_cap_is_one_finding(tmp_path: Path) -> None:
    # 100,000 documents in 900 KB.
    path = tmp_path / "many.yaml"
    path.write_text(INPUTS["tiny documents"](100_000), encoding="utf-8")
    document = _lint_process(path)
    [finding] = document["findings"]
    assert finding["rule"] == "yaml-too-large"
    assert finding["message"].startswith(f"more than {MAX_DOCUMENTS:,} documents in one file")
    # At the first document past the cap: the documents start on lines 1, 3, 5, ...
    assert (finding["line"], finding["column"]) == (2 * MAX_DOCUMENTS + 1, 1)
