"""Benchmark of `lint` against check-jsonschema on the same spec files, whole processes.

    .venv/bin/python -m bench.lint              # 1 and 1,000 files
    .venv/bin/python -m bench.lint --large      # and 10,000

Each figure is the median wall time of repeated runs of the whole command, start-up
included (what a pre-commit hook costs), measured with hyperfine when it is installed,
else by timing the subprocesses here. `lint` does the semantic checks as well; the
targets are at most 0.5x check-jsonschema's time for one file, 0.2x for 1,000.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "schemas" / "batch-segment-job.v1.json"
TARGETS = {1: 0.5, 1_000: 0.2}
_TEAMS = ("growth", "retention", "merch", "lifecycle", "search")
_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


@dataclass(frozen=True)
class Figure:
    files: int
    lint: float
    check_jsonschema: float

    @property
    def ratio(self) -> float:
        return self.lint / self.check_jsonschema


def spec_text(index: int) -> str:
    """A realistic spec; optional fields vary with `index`, every name is unique."""
    team = _TEAMS[index % len(_TEAMS)]
    region = _REGIONS[index % len(_REGIONS)]
    account = f"{100000000000 + index % 7:012d}"
    name = f"{team}-segment-{index:05d}"
    lines = [
        "# yaml-language-server: $schema=../schemas/batch-segment-job.v1.json",
        "apiVersion: personalize-runner/v1",
        "kind: BatchSegmentJob",
        f"jobName: {name}",
        f"solutionVersionArn: arn:aws:personalize:{region}:{account}:solution/{team}-affinity/"
        f"{index:08x}",
    ]
    if index % 2:
        lines.append(f"filterArn: arn:aws:personalize:{region}:{account}:filter/exclude-churned")
    if index % 3:
        lines.append(f"numResults: {1000 * (index % 250 + 1)}")
    lines += [
        "jobInput:",
        "  s3DataSource:",
        f"    path: s3://acme-{team}/batch/in/{name}.jsonl",
    ]
    if index % 4 == 0:
        key = f"1234abcd-12ab-34cd-56ef-{index:012d}"
        lines.append(f"    kmsKeyArn: arn:aws:kms:{region}:{account}:key/{key}")
    lines += [
        "jobOutput:",
        "  s3DataDestination:",
        f"    path: s3://acme-{team}/batch/out/{name}/",
        f"roleArn: arn:aws:iam::{account}:role/PersonalizeBatchRole",
        "tags:",
        f"  - tagKey: team\n    tagValue: {team}",
        f"  - tagKey: campaign\n    tagValue: campaign-{index % 40}",
    ]
    return "\n".join(lines) + "\n"


def write_specs(folder: Path, count: int) -> list[str]:
    """`count` spec files under `folder`/specs; their paths relative to `folder`."""
    specs = folder / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    names = []
    for index in range(count):
        name = f"specs/job-{index:05d}.yaml"
        (folder / name).write_text(spec_text(index), encoding="utf-8")
        names.append(name)
    return names


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test]'")
    return found


def commands(folder: Path, files: list[str]) -> tuple[list[str], list[str]]:
    lint = [_tool("personalize-runner"), "lint", "--state", str(folder / "none.json"), *files]
    check = [_tool("check-jsonschema"), "--schemafile", str(SCHEMA), *files]
    return lint, check


def _median_hyperfine(
    hyperfine: str, folder: Path, named: dict[str, list[str]], runs: int
) -> dict[str, float]:
    export = folder / "hyperfine.json"
    argv = [hyperfine, "--shell=none", "--warmup", "2", "--runs", str(runs), "--style", "none"]
    argv += ["--export-json", str(export)]
    for name, command in named.items():
        argv += ["--command-name", name, " ".join(command)]
    subprocess.run(argv, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    results = json.loads(export.read_text(encoding="utf-8"))["results"]
    return {result["command"]: float(result["median"]) for result in results}


def _median_timed(folder: Path, named: dict[str, list[str]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in named}
    for run in range(runs + 2):
        for name, command in named.items():  # interleaved, so that load hits both alike
            started = time.perf_counter()
            subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL)
            if run >= 2:  # two warm-up runs
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def measure(count: int, runs: int, *, use_hyperfine: bool) -> Figure:
    with tempfile.TemporaryDirectory(prefix="bench-lint-") as temp:
        folder = Path(temp)
        files = write_specs(folder, count)
        lint, check = commands(folder, files)
        for command in (lint, check):  # both must pass: the same, valid, work
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"{command[0]} failed on the generated specs:\n{done.stdout}")
        named = {"lint": lint, "check-jsonschema": check}
        hyperfine = shutil.which("hyperfine") if use_hyperfine else None
        if hyperfine is not None:
            medians = _median_hyperfine(hyperfine, folder, named, runs)
        else:
            medians = _median_timed(folder, named, runs)
    return Figure(count, medians["lint"], medians["check-jsonschema"])


def table(figures: list[Figure]) -> str:
    rows = [
        f"{'files':>6}  {'lint':>9}  {'check-jsonschema':>16}  {'ratio':>6}  {'target':>7}  ok",
    ]
    for figure in figures:
        target = TARGETS.get(figure.files)
        ok = "-" if target is None else ("yes" if figure.ratio <= target else "NO")
        rows.append(
            f"{figure.files:>6,}  {figure.lint * 1000:>7.0f}ms  "
            f"{figure.check_jsonschema * 1000:>14.0f}ms  {figure.ratio:>5.2f}x  "
            f"{'' if target is None else f'<={target}x':>7}  {ok}"
        )
    return "\n".join(rows)


def compile_bytecode() -> None:
    """Write the runner's bytecode, as `pip install` does.

    An editable install in an environment with PYTHONDONTWRITEBYTECODE (this machine's)
    would otherwise compile every module of the runner from source at every start, while
    check-jsonschema, installed from a wheel, has its bytecode.
    """
    import compileall

    import runner

    compileall.compile_dir(Path(runner.__file__).parent, quiet=1)


def main(argv: list[str] | None = None) -> int:
    compile_bytecode()
    parser = argparse.ArgumentParser(prog="python -m bench.lint", description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="runs per command and size")
    parser.add_argument("--large", action="store_true", help="also 10,000 files")
    parser.add_argument("--no-hyperfine", action="store_true", help="time subprocesses here")
    args = parser.parse_args(argv)
    sizes = [1, 1_000, *([10_000] if args.large else [])]
    use_hyperfine = not args.no_hyperfine
    tool = "hyperfine" if use_hyperfine and shutil.which("hyperfine") else "subprocess timing"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"median of {args.runs} runs ({tool}); load average before: {load}")
    figures = []
    for count in sizes:
        runs = args.runs if count < 10_000 else max(3, args.runs // 3)
        figures.append(measure(count, runs, use_hyperfine=use_hyperfine))
    print(table(figures))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after: {load}")
    return 0 if all(f.ratio <= TARGETS.get(f.files, float("inf")) for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
