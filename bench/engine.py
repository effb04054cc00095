"""Benchmark of the local engine: training, a batch segment job and a batch inference job,
each beside its target.

    .venv/bin/python -m bench.engine   # 100,000 users, 20,000 items, 2,000,000 interactions

Each phase runs in its own process so that its time and peak memory (from `os.wait4`)
are its own: the job's figures include starting Python and loading the model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runner.engine.datasets import read_dataset
from runner.engine.demo import generate_demo_dataset
from runner.engine.inference import execute_inference_job
from runner.engine.jobs import execute_job
from runner.engine.model import ITEM_AFFINITY, train
from runner.engine.recommender import train_recommender
from runner.engine.store import ModelStore

GIB = 1 << 30
TRAIN_TARGET_SECONDS = 30.0
JOB_TARGET_SECONDS = 5.0
JOB_TARGET_BYTES = GIB
INFERENCE_RECIPE = "aws-user-personalization-v2"
INFERENCE_TARGET_SECONDS = 10.0
INFERENCE_TARGET_BYTES = GIB


@dataclass(frozen=True)
class Figures:
    seconds: float  # measured inside the phase
    wall_seconds: float  # the whole process
    peak_bytes: int
    extra: dict[str, str]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=2_000_000)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--num-results", type=int, default=1_000)
    parser.add_argument("--inference-users", type=int, default=10_000)
    parser.add_argument("--inference-results", type=int, default=25)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument(
        "--phase",
        choices=["data", "train", "job", "train-inference", "inference"],
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    if args.phase is not None:
        return _phase(args)
    if args.workdir is not None:
        return _run(args, args.workdir)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as workdir:
        return _run(args, Path(workdir))


def _run(args: argparse.Namespace, workdir: Path) -> int:
    print(
        f"local engine: {args.users:,} users, {args.items:,} items, "
        f"{args.interactions:,} interactions, {args.groups} planted groups"
    )
    data = _in_subprocess(args, workdir, "data")
    print(
        f"  generate + write CSV + import   {data.seconds:6.2f} s  "
        f"peak {data.peak_bytes / GIB:5.2f} GiB   (no target) {_extras(data)}"
    )
    trained = _in_subprocess(args, workdir, "train")
    ok_train = trained.seconds <= TRAIN_TARGET_SECONDS
    print(
        f"  train (item-affinity)           {trained.seconds:6.2f} s  "
        f"peak {trained.peak_bytes / GIB:5.2f} GiB   target <= {TRAIN_TARGET_SECONDS:.0f} s "
        f"{_verdict(ok_train)} {_extras(trained)}"
    )
    job = _in_subprocess(args, workdir, "job")
    ok_time = job.wall_seconds <= JOB_TARGET_SECONDS
    ok_memory = job.peak_bytes <= JOB_TARGET_BYTES
    print(
        f"  job: {args.queries} item queries x numResults {args.num_results:,}\n"
        f"    time, whole process          {job.wall_seconds:6.2f} s             "
        f"target <= {JOB_TARGET_SECONDS:.0f} s {_verdict(ok_time)}\n"
        f"    time, load model + run job   {job.seconds:6.2f} s\n"
        f"    peak RSS                     {job.peak_bytes / GIB:6.2f} GiB           "
        f"target <= 1 GiB {_verdict(ok_memory)}\n"
        f"    segment precision (planted groups) {_precision(workdir):.3f}"
    )
    trained_inference = _in_subprocess(args, workdir, "train-inference")
    ok_train_inference = trained_inference.seconds <= TRAIN_TARGET_SECONDS
    print(
        f"  train ({INFERENCE_RECIPE}) {trained_inference.seconds:6.2f} s  "
        f"peak {trained_inference.peak_bytes / GIB:5.2f} GiB   target <= "
        f"{TRAIN_TARGET_SECONDS:.0f} s {_verdict(ok_train_inference)} {_extras(trained_inference)}"
    )
    inference = _in_subprocess(args, workdir, "inference")
    ok_inference_time = inference.wall_seconds <= INFERENCE_TARGET_SECONDS
    ok_inference_memory = inference.peak_bytes <= INFERENCE_TARGET_BYTES
    print(
        f"  inference job: {args.inference_users:,} users x numResults "
        f"{args.inference_results}\n"
        f"    time, whole process          {inference.wall_seconds:6.2f} s             "
        f"target <= {INFERENCE_TARGET_SECONDS:.0f} s {_verdict(ok_inference_time)}\n"
        f"    time, load model + run job   {inference.seconds:6.2f} s\n"
        f"    peak RSS                     {inference.peak_bytes / GIB:6.2f} GiB           "
        f"target <= 1 GiB {_verdict(ok_inference_memory)}\n"
        f"    recommendation precision (planted groups) {_inference_precision(workdir):.3f}"
    )
    return (
        0
        if all(
            (
                ok_train,
                ok_time,
                ok_memory,
                ok_train_inference,
                ok_inference_time,
                ok_inference_memory,
            )
        )
        else 1
    )


def _in_subprocess(args: argparse.Namespace, workdir: Path, phase: str) -> Figures:
    report = workdir / f"{phase}.json"
    command = [
        sys.executable,
        "-m",
        "bench.engine",
        f"--phase={phase}",
        f"--workdir={workdir}",
        f"--users={args.users}",
        f"--items={args.items}",
        f"--interactions={args.interactions}",
        f"--groups={args.groups}",
        f"--queries={args.queries}",
        f"--num-results={args.num_results}",
        f"--inference-users={args.inference_users}",
        f"--inference-results={args.inference_results}",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the {phase} phase failed with exit status {process.returncode}")
    measured = json.loads(report.read_text(encoding="utf-8"))
    # ru_maxrss is in KiB on Linux.
    return Figures(measured.pop("seconds"), wall, usage.ru_maxrss * 1024, measured)


def _phase(args: argparse.Namespace) -> int:
    workdir: Path = args.workdir
    store = ModelStore(workdir / "store")
    extra: dict[str, str] = {}
    started = time.perf_counter()
    if args.phase == "data":
        demo = generate_demo_dataset(
            n_users=args.users,
            n_items=args.items,
            n_interactions=args.interactions,
            n_groups=args.groups,
            seed=1,
        )
        files = demo.write(workdir / "data")
        imported = time.perf_counter()
        store.save_dataset("bench", read_dataset(files.interactions, items=files.items))
        extra["import"] = f"{time.perf_counter() - imported:.2f} s"
        np.save(workdir / "user_groups.npy", demo.user_groups)
        np.save(workdir / "item_groups.npy", demo.item_groups)
    elif args.phase == "train":
        dataset = store.load_dataset("bench")
        loaded = time.perf_counter()
        model = train(dataset, recipe=ITEM_AFFINITY)
        extra["fit"] = f"{time.perf_counter() - loaded:.2f} s"
        version = store.save_solution_version(
            model, solution="bench", dataset="bench", fingerprint=dataset.digest()
        )
        (workdir / "arn").write_text(version.arn, encoding="utf-8")
        size = sum(p.stat().st_size for p in (workdir / "store").rglob("*.npz")) - sum(
            p.stat().st_size for p in (workdir / "store" / "datasets").glob("*.npz")
        )
        extra["model file"] = f"{size / 1e6:.0f} MB"
    elif args.phase == "train-inference":
        dataset = store.load_dataset("bench")
        loaded = time.perf_counter()
        recommender = train_recommender(dataset, recipe=INFERENCE_RECIPE)
        extra["fit"] = f"{time.perf_counter() - loaded:.2f} s"
        version = store.save_solution_version(
            recommender, solution="bench-inference", dataset="bench", fingerprint=dataset.digest()
        )
        (workdir / "inference-arn").write_text(version.arn, encoding="utf-8")
    elif args.phase == "inference":
        rng = np.random.default_rng(3)
        users = rng.choice(args.users, size=args.inference_users, replace=False)
        inputs = workdir / "s3" / "bench" / "in-users" / "users.jsonl"
        inputs.parent.mkdir(parents=True, exist_ok=True)
        inputs.write_text(
            "".join(json.dumps({"userId": f"u{k}"}) + "\n" for k in users.tolist()),
            encoding="utf-8",
        )
        started = time.perf_counter()
        request = {
            "jobName": "bench-inference",
            "solutionVersionArn": (workdir / "inference-arn").read_text(encoding="utf-8"),
            "numResults": args.inference_results,
            "jobInput": {"s3DataSource": {"path": "s3://bench/in-users/"}},
            "jobOutput": {"s3DataDestination": {"path": "s3://bench/out-users/"}},
        }
        failure = execute_inference_job(request, s3_root=workdir / "s3", models=store)
        if failure is not None:
            raise SystemExit(failure)
        np.save(workdir / "queried_users.npy", users)
    else:
        rng = np.random.default_rng(2)
        items = rng.choice(args.items, size=args.queries, replace=False)
        inputs = workdir / "s3" / "bench" / "in" / "items.jsonl"
        inputs.parent.mkdir(parents=True, exist_ok=True)
        inputs.write_text(
            "".join(json.dumps({"itemId": f"i{k}"}) + "\n" for k in items.tolist()),
            encoding="utf-8",
        )
        started = time.perf_counter()
        request = {
            "jobName": "bench",
            "solutionVersionArn": (workdir / "arn").read_text(encoding="utf-8"),
            "numResults": args.num_results,
            "jobInput": {"s3DataSource": {"path": "s3://bench/in/"}},
            "jobOutput": {"s3DataDestination": {"path": "s3://bench/out/"}},
        }
        failure = execute_job(request, s3_root=workdir / "s3", models=store)
        if failure is not None:
            raise SystemExit(failure)
        np.save(workdir / "queried_items.npy", items)
        _write_report(workdir, args.phase, time.perf_counter() - started, extra)
        return 0
    _write_report(workdir, args.phase, time.perf_counter() - started, extra)
    return 0


def _precision(workdir: Path) -> float:
    """How many users of each segment belong to the queried item's planted group."""
    items = np.load(workdir / "queried_items.npy")
    user_groups = np.load(workdir / "user_groups.npy")
    item_groups = np.load(workdir / "item_groups.npy")
    lines = (workdir / "s3" / "bench" / "out" / "items.jsonl.out").read_text(encoding="utf-8")
    hits = []
    for item, line in zip(items.tolist(), lines.splitlines(), strict=True):
        users = [int(user[1:]) for user in json.loads(line)["output"]["recommendedUsers"]]
        hits.append(float(np.mean(user_groups[users] == item_groups[item])))
    return float(np.mean(hits))


def _inference_precision(workdir: Path) -> float:
    """How many recommended items of each user belong to the user's planted group."""
    users = np.load(workdir / "queried_users.npy")
    user_groups = np.load(workdir / "user_groups.npy")
    item_groups = np.load(workdir / "item_groups.npy")
    out = workdir / "s3" / "bench" / "out-users" / "users.jsonl.out"
    hits = []
    for user, line in zip(
        users.tolist(), out.read_text(encoding="utf-8").splitlines(), strict=True
    ):
        items = [int(item[1:]) for item in json.loads(line)["output"]["recommendedItems"]]
        hits.append(float(np.mean(item_groups[items] == user_groups[user])))
    return float(np.mean(hits))


def _write_report(workdir: Path, phase: str, seconds: float, extra: dict[str, str]) -> None:
    report = workdir / f"{phase}.json"
    report.write_text(json.dumps({"seconds": seconds, **extra}), encoding="utf-8")


def _extras(figures: Figures) -> str:
    return ", ".join(f"{name} {value}" for name, value in figures.extra.items())


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
