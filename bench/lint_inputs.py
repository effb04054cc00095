"""Benchmark of `lint` on inputs that once grew badly (issue 10), whole processes.

    .venv/bin/python -m bench.lint_inputs            # each input, median of 5 runs

Each figure is the median wall time of `personalize-runner lint --format json FILE`,
start-up included, over one generated file. Before the fix, lint's cost was quadratic in
the documents or findings of a file: 2,000 tiny documents took 50 s and 100,000 did not
finish. The target of each is 2 s: seconds, not minutes, on a shared 2-CPU machine.
`tests/lint/growth_test.py` holds the growth to linear by counting work; this measures it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.lint import _tool, compile_bytecode

REPO = Path(__file__).resolve().parent.parent
SPEC = (REPO / "tests" / "lint" / "positive" / "minimal.yaml").read_text(encoding="utf-8")
TARGET_SECONDS = 2.0
# A spec document without the fields the schema requires: five `required` findings.
_BARE = "---\napiVersion: personalize-runner/v1\nkind: BatchSegmentJob\n"


@dataclass(frozen=True)
class Input:
    what: str
    text: Callable[[], str]


INPUTS = (
    Input("100,000 tiny documents (900 KB)", lambda: "---\na: 1\n" * 100_000),
    Input("10,000 tiny documents, a finding each", lambda: "---\na: 1\n" * 10_000),
    Input("1,000 documents, 5,000 findings", lambda: _BARE * 1_000),
    Input(
        "a mapping of 5,000 unknown keys (5,000 findings)",
        lambda: SPEC + "".join(f"unknownKey{index}: x\n" for index in range(5_000)),
    ),
    Input("2,000 specs of one jobName", lambda: ("---\n" + SPEC) * 2_000),
)


@dataclass(frozen=True)
class Figure:
    what: str
    bytes: int
    findings: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.seconds <= TARGET_SECONDS


def measure(item: Input, runs: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="bench-lint-inputs-") as temp:
        folder = Path(temp)
        path = folder / "specs.yaml"
        text = item.text()
        path.write_text(text, encoding="utf-8")
        command = [_tool("personalize-runner"), "lint", "--format", "json", "--state"]
        command += [str(folder / "none.json"), str(path)]
        times = []
        findings = 0
        for run in range(runs + 1):  # one warm-up run
            started = time.perf_counter()
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            if done.returncode != 1 or done.stderr:
                raise SystemExit(f"lint did not report findings on {item.what}:\n{done.stderr}")
            findings = len(json.loads(done.stdout)["findings"])
            if run:
                times.append(elapsed)
    return Figure(item.what, len(text.encode()), findings, statistics.median(times))


def table(figures: list[Figure]) -> str:
    rows = [f"{'input':<50}  {'size':>8}  {'shown':>5}  {'lint':>8}  {'target':>7}  ok"]
    for figure in figures:
        rows.append(
            f"{figure.what:<50}  {figure.bytes / 1024:>6.0f}KB  {figure.findings:>5}  "
            f"{figure.seconds:>7.2f}s  {f'<={TARGET_SECONDS:g} s':>7}  "
            f"{'yes' if figure.ok else 'NO'}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    compile_bytecode()
    parser = argparse.ArgumentParser(prog="python -m bench.lint_inputs", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per input")
    args = parser.parse_args(argv)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"median of {args.runs} runs; load average before: {load}")
    figures = [measure(item, args.runs) for item in INPUTS]
    print(table(figures))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after: {load}")
    return 0 if all(figure.ok for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
