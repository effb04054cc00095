"""The runner's benchmark: every figure of issue 5 beside its target, in one run.

    .venv/bin/python -m bench                 # everything (a few minutes)
    .venv/bin/python -m bench --quick         # lint of 10,000 specs without check-jsonschema

Each command runs as a whole process (start-up included), as a user or CI runs it:

- `lint` of 1, 1,000 and 10,000 generated specs beside `check-jsonschema` with the same
  schema (`bench.lint`); targets: 0.5x and 0.2x its time for 1 and 1,000 files, 5 s for
  10,000;
- `plan` of 10,000 specs that the state records: wall time and peak RSS (1.0 s, 200 MiB);
- `reconcile` of 1,000 new jobs (over 21 accounts and regions) against the HTTP stand-in
  in a process of its own: wall time, API calls by operation, peak RSS of the runner;
- `reconcile --wait` of 20 jobs of 2 s over 2 regions: the makespan against the ideal
  ⌈N/5⌉ x 2 s per region (within 1.1x);
- `wait` over the jobs a reconcile left in flight in one region: its API calls (a list
  page per poll, no describe per job).

The engine's benchmark (`python -m bench.engine`) is separate: it needs minutes and GBs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import lint_inputs
from bench.lint import TARGETS, compile_bytecode, measure, spec_text, write_specs

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    what: str
    figure: str
    target: str
    ok: bool | None


@dataclass(frozen=True)
class Timed:
    seconds: float
    peak_bytes: int
    status: int
    out: str
    # User and system CPU time of the process.
    cpu_seconds: float = 0.0


def run_timed(argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Timed:
    """Run `argv` to its end: wall time, peak RSS (from `wait4`), exit status, stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Timed(seconds, usage.ru_maxrss * 1024, process.returncode, out, cpu)


def runner(*args: str) -> list[str]:
    return [sys.executable, "-m", "runner", *args]


# Lint


def lint_rows(*, quick: bool, runs: int) -> list[Row]:
    rows = []
    for count in (1, 1_000):
        figure = measure(count, runs, use_hyperfine=True)
        target = TARGETS[count]
        rows.append(
            Row(
                f"lint, {count:,} spec{'s' if count > 1 else ''}",
                f"{figure.lint * 1000:.0f} ms vs check-jsonschema "
                f"{figure.check_jsonschema * 1000:.0f} ms ({figure.ratio:.2f}x)",
                f"<= {target}x",
                figure.ratio <= target,
            )
        )
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        files = write_specs(folder, 10_000)
        (folder / ".git").mkdir()
        lint = run_timed(runner("lint", "--specs", "specs", "--state", "none.json"), cwd=folder)
        assert lint.status == 0, lint.out
        check = ""
        if not quick:
            schema = REPO / "schemas" / "batch-segment-job.v1.json"
            tool = Path(sys.executable).parent / "check-jsonschema"
            other = run_timed([str(tool), "--schemafile", str(schema), *files], cwd=folder)
            check = (
                f" vs check-jsonschema {other.seconds:.1f} s ({lint.seconds / other.seconds:.2f}x)"
            )
    rows.append(
        Row("lint, 10,000 specs, cold", f"{lint.seconds:.2f} s{check}", "<= 5 s", lint.seconds <= 5)
    )
    for item in lint_inputs.INPUTS:  # inputs that once grew badly (issue 10)
        grown = lint_inputs.measure(item, 3 if quick else runs)
        limit = f"<= {lint_inputs.TARGET_SECONDS:g} s"
        rows.append(Row(f"lint, {grown.what}", f"{grown.seconds:.2f} s", limit, grown.ok))
    return rows


# Plan


def recorded_repository(folder: Path, count: int) -> None:
    """`count` spec files, all recorded in the state as a reconcile records them."""
    from runner.spec.loader import load_specs
    from runner.state import State, new_record

    write_specs(folder, count)
    (folder / ".git").mkdir()
    loaded = load_specs([folder / "specs"], root=folder)
    assert not loaded.findings, loaded.findings[:3]
    now = datetime.datetime.now(datetime.UTC)
    records = [
        new_record(
            spec,
            spec.job_arn,
            recorded_by="created",
            status="ACTIVE",
            description=None,
            git_commit=None,
            now=now,
        )
        for spec in loaded.specs
    ]
    (folder / "state.json").write_bytes(State.new().with_jobs(records).to_json())


def plan_rows(*, runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        recorded_repository(folder, 10_000)
        argv = runner("plan", "--specs", "specs", "--state", "state.json", "--backend", "local")
        timings = [run_timed(argv, cwd=folder) for _ in range(runs + 1)][1:]
    assert all(timed.status == 0 for timed in timings), timings[0].out
    assert "10000 unchanged" in timings[0].out
    seconds = statistics.median(timed.seconds for timed in timings)
    peak = max(timed.peak_bytes for timed in timings)
    return [
        Row("plan, 10,000 recorded specs", f"{seconds:.2f} s", "<= 1.0 s", seconds <= 1.0),
        Row(
            "plan, 10,000 recorded specs, peak RSS",
            f"{peak / MIB:.0f} MiB",
            "<= 200 MiB",
            peak <= 200 * MIB,
        ),
    ]


# Reconcile against the stand-in


@contextlib.contextmanager
def stand_in(folder: Path, *, pending: float, running: float) -> Iterator[tuple[str, Path]]:
    """The HTTP stand-in in its own process: its URL, and where its call counts land."""
    calls = folder / "calls.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.serve_personalize",
            str(folder / "service"),
            str(pending),
            str(running),
            str(calls),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    try:
        yield url, calls
    finally:
        process.terminate()
        process.wait(timeout=30)


def aws_environment(url: str, folder: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(folder / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(folder / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_PERSONALIZE=url,
        PERSONALIZE_RUNNER_BACKEND="aws",
    )
    return env


def reconcile_rows() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        write_specs(folder, 1_000)
        (folder / ".git").mkdir()
        with stand_in(folder, pending=0.2, running=0.5) as (url, calls_file):
            done = run_timed(
                runner("reconcile", "--specs", "specs", "--state", "state.json"),
                cwd=folder,
                env=aws_environment(url, folder),
            )
        calls = json.loads(calls_file.read_text(encoding="utf-8"))
    assert done.status == 0, done.out[-2000:]
    scopes = len({(index % 3, index % 7) for index in range(1_000)})
    ideal = math.ceil(1_000 / scopes / 5) * 0.7
    by_operation = ", ".join(
        f"{name.removesuffix('BatchSegmentJobs').removesuffix('BatchSegmentJob') or name} {count}"
        for name, count in calls.items()
    )
    return [
        Row(
            f"reconcile, 1,000 new jobs in {scopes} accounts/regions (jobs of 0.7 s)",
            f"{done.seconds:.1f} s, runner CPU {done.cpu_seconds:.1f} s (ideal {ideal:.1f} s"
            " + polls; the rest is the stand-in's time)",
            "-",
            None,
        ),
        Row(
            "  API calls",
            by_operation,
            "1 create a job",
            calls.get("CreateBatchSegmentJob") == 1_000,
        ),
        Row("  peak RSS of the runner", f"{done.peak_bytes / MIB:.0f} MiB", "-", None),
    ]


def quota_rows() -> list[Row]:
    duration = 2.0
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        specs = folder / "specs"
        specs.mkdir()
        for index in range(20):
            region = ("us-east-1", "us-west-2")[index % 2]
            # index x 21: one account, us-east-1, moved to the region.
            text = spec_text(index * 21).replace("us-east-1", region)
            (specs / f"job-{index:02d}.yaml").write_text(text, encoding="utf-8")
        (folder / ".git").mkdir()
        with stand_in(folder, pending=0.0, running=duration) as (url, _):
            done = run_timed(
                runner("reconcile", "--wait", "--specs", "specs", "--state", "state.json"),
                cwd=folder,
                env=aws_environment(url, folder),
            )
        jobs = json.loads((folder / "service" / "service" / "jobs.json").read_text("utf-8"))
    assert done.status == 0, done.out[-2000:]
    regions: dict[str, list[dict[str, float]]] = {}
    for record in jobs["jobs"]:
        job = record["job"]
        regions.setdefault(job["batchSegmentJobArn"].split(":")[3], []).append(job)
    rows = []
    for region, region_jobs in sorted(regions.items()):
        makespan = max(job["lastUpdatedDateTime"] for job in region_jobs) - min(
            job["creationDateTime"] for job in region_jobs
        )
        ideal = math.ceil(len(region_jobs) / 5) * duration
        ratio = makespan / ideal
        rows.append(
            Row(
                f"quota use, {len(region_jobs)} jobs of {duration:g} s in {region}",
                f"makespan {makespan:.2f} s, ideal {ideal:.1f} s ({ratio:.2f}x)",
                "<= 1.1x",
                ratio <= 1.1,
            )
        )
    overall = done.seconds
    rows.append(
        Row("  the whole reconcile --wait (2 regions at once)", f"{overall:.2f} s", "-", None)
    )
    return rows


def wait_rows() -> list[Row]:
    """`wait` over the jobs a reconcile left in flight in one region, against a stand-in
    process of its own: its API calls, by operation (issue 11: one list page per poll, no
    describe per job)."""
    duration = 4.0
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        specs = folder / "specs"
        specs.mkdir()
        for index in range(10):
            # index x 21: one account, us-east-1.
            (specs / f"job-{index:02d}.yaml").write_text(spec_text(index * 21), encoding="utf-8")
        (folder / ".git").mkdir()
        state = ("--specs", "specs", "--state", "state.json")
        with stand_in(folder, pending=0.0, running=duration) as (url, _):
            submitted = run_timed(
                runner("reconcile", *state), cwd=folder, env=aws_environment(url, folder)
            )
        assert submitted.status == 0, submitted.out[-2000:]
        with stand_in(folder, pending=0.0, running=duration) as (url, calls_file):
            done = run_timed(
                runner("wait", "--state", "state.json"),
                cwd=folder,
                env=aws_environment(url, folder),
            )
        calls = json.loads(calls_file.read_text(encoding="utf-8"))
    assert done.status == 0, done.out[-2000:]
    lists = calls.get("ListBatchSegmentJobs", 0)
    describes = calls.get("DescribeBatchSegmentJob", 0)
    # Polls are at least 2 s apart, the first at once.
    most = math.floor(done.seconds / 2) + 1
    return [
        Row(
            "wait, the 5 jobs in flight of 10 recorded, one region",
            f"{lists} list, {describes} describe in {done.seconds:.1f} s",
            f"<= {most} list, 0 describe",
            describes == 0 and 1 <= lists <= most,
        )
    ]


# The table


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {memory:.1f} GiB, "
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"load average {load}"
    )


def table(rows: Sequence[Row]) -> str:
    width = max(len(row.what) for row in rows)
    figure_width = max(len(row.figure) for row in rows)
    lines = [f"{'what':<{width}}  {'figure':<{figure_width}}  {'target':<14}  ok"]
    lines.append("-" * len(lines[0]))
    for row in rows:
        ok = "-" if row.ok is None else ("yes" if row.ok else "NO")
        lines.append(f"{row.what:<{width}}  {row.figure:<{figure_width}}  {row.target:<14}  {ok}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="no check-jsonschema on 10,000")
    parser.add_argument("--runs", type=int, default=5, help="runs of the small lint and plan")
    args = parser.parse_args(argv)
    compile_bytecode()
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    rows = []
    rows += lint_rows(quick=args.quick, runs=args.runs)
    rows += plan_rows(runs=args.runs)
    rows += reconcile_rows()
    rows += quota_rows()
    rows += wait_rows()
    print(table(rows))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after: {load}")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
