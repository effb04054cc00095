"""Issue 11's figures: what a run costs as the state and the repository grow, each beside
its target and, where it applies, the previous version's figure measured in the same run.

    .venv/bin/python -m bench.scale            # everything (some minutes)
    .venv/bin/python -m bench.scale --quick    # without the previous version, 1,000 adopted

The previous version is the commit before issue 11's work (`PREVIOUS`), checked out into a
temporary worktree outside the repository and run as a process like this one (its
`runner` package first on `PYTHONPATH`), against the same stand-in, as `bench.lint` runs
check-jsonschema beside lint. The stand-in is `bench.standin` (jobs finish at once).

- runner CPU per created job: a reconcile of 1,000 new jobs into an empty state, then of
  1,000 more into the state of the first (the CPU time of the runner's process over the
  jobs created, start-up and polls included), the median of 3 such pairs (`--cpu-runs`);
  targets 5 ms, and the second within 1.3x; beside it, botocore alone (a process that
  imports boto3 and calls the stand-in in a loop): what a create call and the start cost
  without the runner;
- bytes written to the state per created job, file and S3 (moto's S3), with 1,000 and
  10,000 records in the state: what a run under the lock writes per record (the journal
  line, the delta object), and what it writes once at its end (the snapshot); the
  previous version wrote the whole state (and, to a file, its backup) per job;
- adopting existing jobs: a reconcile with no state of 10,000 specs whose jobs exist at the
  stand-in (target 5 minutes); 1,000 beside the previous version;
- `plan` of 10,000 recorded specs: wall time and peak RSS, median of 5 after one run that
  is not counted (0.5 s, 150 MiB);
- `wait` over jobs in one region: its API calls (`bench.__main__.wait_rows`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bench.__main__ import (
    MIB,
    REPO,
    Row,
    Timed,
    aws_environment,
    machine,
    run_timed,
    table,
    wait_rows,
)
from bench.lint import compile_bytecode, write_specs

if TYPE_CHECKING:
    from runner.state import JobRecord

# The commit before issue 11's work, and the repository that has it (this one, unless the
# benchmark runs from a copy of the working tree: `BENCH_REPOSITORY`).
PREVIOUS = "eaf9b54"
REPOSITORY = Path(os.environ.get("BENCH_REPOSITORY", REPO))


@contextlib.contextmanager
def previous_version() -> Iterator[Path]:
    """The previous version's source tree, in a temporary worktree outside the repository."""
    temp = Path(tempfile.mkdtemp(prefix="bench-previous-"))
    tree = temp / "personalize-runner"
    subprocess.run(
        ["git", "-C", str(REPOSITORY), "worktree", "add", "--detach", str(tree), PREVIOUS],
        check=True,
        capture_output=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(REPOSITORY), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(temp, ignore_errors=True)


def version_env(tree: Path | None, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a runner process of `tree` (None: this version)."""
    env = dict(os.environ if env is None else env)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def runner_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "runner", *args]


@contextlib.contextmanager
def stand_in(folder: Path, *, existing: Path | None = None) -> Iterator[tuple[str, Path]]:
    """`bench.standin` in its own process: its URL, and where its call counts land."""
    calls = folder / "calls.json"
    argv = [sys.executable, "-m", "bench.standin", str(folder / "service"), str(calls)]
    if existing is not None:
        argv.append(str(existing))
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    try:
        yield url, calls
    finally:
        process.terminate()
        process.wait(timeout=120)


def _reconcile(folder: Path, url: str, tree: Path | None) -> Timed:
    done = run_timed(
        runner_argv("reconcile", "--specs", "specs", "--state", "state.json"),
        cwd=folder,
        env=version_env(tree, aws_environment(url, folder)),
    )
    assert done.status == 0, done.out[-2000:]
    return done


# Runner CPU per created job


def created_cpu(tree: Path | None) -> tuple[float, float]:
    """Runner CPU seconds per job: 1,000 created into an empty state, then 1,000 more."""
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        (folder / ".git").mkdir()
        write_specs(folder, 1_000)
        with stand_in(folder) as (url, _):
            first = _reconcile(folder, url, tree)
            write_specs(folder, 2_000)
            second = _reconcile(folder, url, tree)
    return first.cpu_seconds / 1_000, second.cpu_seconds / 1_000


def _median_cpu(tree: Path | None, runs: int) -> tuple[float, float, str]:
    """The medians of `runs` measures of `created_cpu` (first, second), and their spread."""
    measured = [created_cpu(tree) for _ in range(runs)]
    first = statistics.median(pair[0] for pair in measured)
    second = statistics.median(pair[1] for pair in measured)
    spread = ""
    if runs > 1:
        firsts = [pair[0] * 1000 for pair in measured]
        seconds = [pair[1] * 1000 for pair in measured]
        spread = (
            f"; median of {runs}: {min(firsts):.1f}-{max(firsts):.1f} ms, "
            f"{min(seconds):.1f}-{max(seconds):.1f} ms"
        )
    return first, second, spread


# What botocore alone costs, in a process of its own against the same stand-in: the
# anchor of the runner's CPU per created job (a job costs at least its create call and its
# share of the polls' list calls, and every run imports botocore).
_BOTOCORE_ALONE = """
import json, sys, time
import boto3
client = boto3.client("personalize", region_name="us-east-1", endpoint_url=sys.argv[1])
ready = time.process_time()
model = "arn:aws:personalize:us-east-1:100000000000:solution/growth-affinity/00000000"

def create(index):
    client.create_batch_segment_job(
        jobName=f"alone-{sys.argv[2]}-{index:05d}",
        solutionVersionArn=model,
        jobInput={"s3DataSource": {"path": f"s3://acme/in/alone-{index:05d}.jsonl"}},
        jobOutput={"s3DataDestination": {"path": f"s3://acme/out/alone-{index:05d}/"}},
        roleArn="arn:aws:iam::100000000000:role/PersonalizeBatch",
    )

for index in range(20):
    create(index)
before = time.process_time()
for index in range(20, 520):
    create(index)
created = time.process_time()
for _ in range(100):
    client.list_batch_segment_jobs(maxResults=100)
listed = time.process_time()
figures = {"start": ready, "create": (created - before) / 500, "list": (listed - created) / 100}
print(json.dumps(figures))
"""


def botocore_alone() -> dict[str, float]:
    """CPU seconds of botocore alone: the start (interpreter, `import boto3`, a client),
    a create call and a list call of 100 summaries (medians of 3 processes)."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-") as temp, stand_in(Path(temp)) as (url, _):
        for run in range(3):
            done = subprocess.run(
                [sys.executable, "-c", _BOTOCORE_ALONE, url, str(run)],
                env=aws_environment(url, Path(temp)),
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def cpu_rows(previous: Path | None, *, runs: int) -> list[Row]:
    """The medians of `runs` measures (the machine is shared: one run moves with its load),
    each of the two reconciles, beside the previous version's (measured as often)."""
    first, second, spread = _median_cpu(None, runs)
    before = ""
    if previous is not None:
        old_first, old_second, _ = _median_cpu(previous, runs)
        before = f" (previous {old_first * 1000:.1f} ms, {old_second * 1000:.1f} ms, "
        before += f"{old_second / old_first:.2f}x)"
    ratio = second / first
    alone = botocore_alone()
    # The least a created job costs: its create call, and the start over 1,000 jobs (the
    # polls' list calls come on top: one for every 5 jobs, a region's quota in flight).
    share = alone["create"] + alone["start"] / 1_000
    return [
        Row(
            "runner CPU per created job, first 1,000",
            f"{first * 1000:.1f} ms",
            "<= 5 ms",
            first <= 0.005,
        ),
        Row(
            "  botocore alone: a create call, a list call of 100, the start",
            f"{alone['create'] * 1000:.2f} ms, {alone['list'] * 1000:.2f} ms (its model's "
            f"parse), {alone['start'] * 1000:.0f} ms: a created job at least "
            f"{share * 1000:.1f} ms",
            "-",
            None,
        ),
        Row(
            "  the second 1,000 (into a state of 1,000)",
            f"{second * 1000:.1f} ms, {ratio:.2f}x the first{before}{spread}",
            "<= 1.3x",
            ratio <= 1.3 and second <= 0.005,
        ),
    ]


# Bytes written to the state per created job


def _records(count: int, *, start: int = 0) -> list[JobRecord]:
    from runner.state import JobRecord
    from runner.times import UTC

    now = datetime.datetime(2026, 12, 1, tzinfo=UTC)
    return [
        JobRecord(
            name=f"job-{index:05d}",
            arn=f"arn:aws:personalize:us-east-1:123456789012:batch-segment-job/job-{index:05d}",
            partition="aws",
            region="us-east-1",
            account="123456789012",
            spec_file=f"specs/job-{index:05d}.yaml",
            spec_digest="a" * 64,
            request_digest="b" * 64,
            git_commit="c" * 40,
            submitted_at=now,
            recorded_by="created",
            status="CREATE PENDING",
            spec_index=0,
            spec_documents=1,
        )
        for index in range(start, start + count)
    ]


ADDED = 100


def file_bytes(held: int) -> tuple[float, int]:
    """Bytes written per record by `ADDED` records written one at a time under the lock,
    into a state file of `held` records; and the snapshot's size, written once at the end."""
    from runner.state import LockHolder, State
    from runner.state.file import FileStateStore
    from runner.state.writer import changing

    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        path = Path(temp) / "state.json"
        store = FileStateStore(path)
        store.write(State.new().with_jobs(_records(held)), expected=None)
        holder = LockHolder.current(command="bench")
        with changing(store, holder=holder, timeout=5) as writer:
            for record in _records(ADDED, start=held):
                writer.write(writer.state.with_job(record))
            journal = store.journal_path.stat().st_size
        return journal / ADDED, path.stat().st_size


def s3_bytes(held: int) -> tuple[float, int]:
    """As `file_bytes`, in S3 (moto): the bytes of the PutObject bodies of the state's
    deltas per record, and of the state object written once at the end."""
    import boto3

    from runner.state import LockHolder, State
    from runner.state.s3 import S3StateStore
    from runner.state.writer import changing
    from tests.state.s3_server import S3Server

    # moto's buckets outlive a server: a key of its own for each measure.
    key = f"segments-{held}/state.json"
    with S3Server() as server:
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket="bench")
        sent: dict[str, int] = {"deltas": 0, "state": 0}

        def count(params: dict[str, object], **_: object) -> None:
            name = str(params.get("Key"))
            body = params.get("Body")
            size = len(body) if isinstance(body, bytes) else 0
            if name.startswith(f"{key}.deltas/"):
                sent["deltas"] += size
            elif name == key:
                sent["state"] += size

        store = S3StateStore("bench", key, client=client, warn=lambda _: None)
        store.write(State.new().with_jobs(_records(held)), expected=None)
        client.meta.events.register("before-parameter-build.s3.PutObject", count)
        holder = LockHolder.current(command="bench")
        with changing(store, holder=holder, timeout=5) as writer:
            for record in _records(ADDED, start=held):
                writer.write(writer.state.with_job(record))
            deltas = sent["deltas"]
    return deltas / ADDED, sent["state"]


def bytes_rows() -> list[Row]:
    rows = []
    for store, measure in (("file", file_bytes), ("S3", s3_bytes)):
        figures = {held: measure(held) for held in (1_000, 10_000)}
        small, large = figures[1_000][0], figures[10_000][0]
        rows.append(
            Row(
                f"bytes written to the state per created job, {store}",
                f"{small:.0f} B with 1,000 records, {large:.0f} B with 10,000 (once per run: "
                f"the state, {figures[1_000][1] / MIB:.1f} / {figures[10_000][1] / MIB:.1f} MiB;"
                f" previous: the whole state{' and its backup' if store == 'file' else ''} per"
                " job)",
                "independent of the state's size",
                abs(large - small) <= 0.05 * small,
            )
        )
    return rows


# Adoption


def adopted(count: int, tree: Path | None) -> tuple[Timed, dict[str, int]]:
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        (folder / ".git").mkdir()
        write_specs(folder, count)
        with stand_in(folder, existing=folder) as (url, calls_file):
            done = _reconcile(folder, url, tree)
        calls = json.loads(calls_file.read_text(encoding="utf-8"))
    assert f"{count} adopted" in done.out, done.out[-2000:]
    return done, calls


def adoption_rows(previous: Path | None, *, quick: bool) -> list[Row]:
    rows = []
    small, _ = adopted(1_000, None)
    figure = f"{small.seconds:.1f} s, runner CPU {small.cpu_seconds:.1f} s"
    if previous is not None:
        old, _ = adopted(1_000, previous)
        figure += f" (previous {old.seconds:.1f} s, CPU {old.cpu_seconds:.1f} s)"
    rows.append(Row("adopting 1,000 existing jobs", figure, "-", None))
    if not quick:
        large, calls = adopted(10_000, None)
        by_operation = ", ".join(
            f"{name.removesuffix('BatchSegmentJobs').removesuffix('BatchSegmentJob') or name} "
            f"{count}"
            for name, count in calls.items()
        )
        rows.append(
            Row(
                "adopting 10,000 existing jobs",
                f"{large.seconds:.0f} s, runner CPU {large.cpu_seconds:.0f} s, peak RSS "
                f"{large.peak_bytes / MIB:.0f} MiB; calls: {by_operation}",
                "<= 300 s",
                large.seconds <= 300,
            )
        )
    return rows


# Plan


def _plan_of(folder: Path, tree: Path | None, runs: int) -> tuple[float, int]:
    argv = runner_argv("plan", "--specs", "specs", "--state", "state.json", "--backend", "local")
    # A repository as one works in it: its files not written in the last 2 s, the time
    # within which a file's digest is not cached (`runner.spec.fingerprints`); the first
    # run, not counted, fills the cache.
    time.sleep(2.1)
    timings = [run_timed(argv, cwd=folder, env=version_env(tree)) for _ in range(runs + 1)][1:]
    assert all(timed.status == 0 for timed in timings), timings[0].out[-2000:]
    return statistics.median(t.seconds for t in timings), max(t.peak_bytes for t in timings)


def _recorded(folder: Path, tree: Path | None) -> None:
    """`bench.__main__.recorded_repository` of `tree`'s version (its own state format), in
    a process of its own: a child forked from a benchmark that holds 10,000 specs would
    count the benchmark's memory in its peak RSS."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from bench.__main__ import "
            "recorded_repository as r; r(Path(sys.argv[1]), 10_000)",
            str(folder),
        ],
        cwd=REPO if tree is None else tree,
        env=version_env(tree),
        check=True,
        capture_output=True,
    )


def plan_rows(previous: Path | None, *, runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp) / "current"
        folder.mkdir()
        _recorded(folder, None)
        seconds, peak = _plan_of(folder, None, runs)
        before = ""
        if previous is not None:
            old = Path(temp) / "previous"
            old.mkdir()
            _recorded(old, previous)
            old_seconds, old_peak = _plan_of(old, previous, runs)
            before = f" (previous {old_seconds:.2f} s, {old_peak / MIB:.0f} MiB)"
    return [
        Row(
            "plan, 10,000 recorded specs",
            f"{seconds:.2f} s, peak RSS {peak / MIB:.0f} MiB{before}",
            "<= 0.5 s, 150 MiB",
            seconds <= 0.5 and peak <= 150 * MIB,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="no previous version, no 10,000")
    parser.add_argument("--runs", type=int, default=5, help="runs of plan")
    parser.add_argument(
        "--cpu-runs", type=int, default=3, help="runs of the CPU per created job (median)"
    )
    args = parser.parse_args(argv)
    compile_bytecode()
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    with contextlib.ExitStack() as stack:
        previous = None if args.quick else stack.enter_context(previous_version())
        if previous is not None:
            print(f"previous version: {PREVIOUS}")
        rows: list[Row] = []
        measures: tuple[Callable[[], list[Row]], ...] = (
            lambda: plan_rows(previous, runs=args.runs),
            lambda: cpu_rows(previous, runs=args.cpu_runs),
            bytes_rows,
            lambda: adoption_rows(previous, quick=args.quick),
            wait_rows,
        )
        for measure in measures:
            measured = measure()
            for row in measured:
                # As they come: a run takes minutes.
                print(f"  {row.what.strip()}: {row.figure} ({row.target})", flush=True)
            rows += measured
    print(table(rows))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after: {load}")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
