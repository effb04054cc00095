"""The README's first command: `local demo`, then `reconcile --wait` of `specs/`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _runner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_demo_reconciles_the_example_specs_once(tmp_path: Path) -> None:
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    (tmp_path / ".git").mkdir()

    demo = _runner("local", "demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    first = _runner("reconcile", "--wait", "--format", "json", cwd=tmp_path)
    again = _runner("plan", "--detailed-exitcode", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    created = sorted(
        job["name"]
        for job in report["jobs"]
        if job["result"] == "created" and job["kind"] == "BatchSegmentJob"
    )
    # The recurring spec's job of this week's period, on the solution's newest version.
    (weekly,) = [name for name in created if name.startswith("weekly-genre-fans-")]
    week = weekly.removeprefix("weekly-genre-fans-")
    assert re.fullmatch(r"\d{4}-W\d{2}", week), weekly
    assert created == [
        "genre-fans-2026-11",
        "genre-fans-adults-2026-11",
        "holiday-promo-2026-11",
        "new-releases-2026-11",
        weekly,
        "winback-2026-11",
    ]
    # Both kinds at once; an inference job may have a segment job's name.
    assert sorted(
        job["name"]
        for job in report["jobs"]
        if job["result"] == "created" and job["kind"] == "BatchInferenceJob"
    ) == ["holiday-promo-2026-11", "nightly-recs-2026-11-30", "related-items-2026-11"]
    assert {job["status"] for job in report["jobs"]} == {"ACTIVE"}
    state = json.loads((tmp_path / ".personalize-runner/state.json").read_text(encoding="utf-8"))
    assert state["jobs"][weekly]["solution_version_arn"] == (
        "arn:aws:personalize:us-east-1:123456789012:solution/item-attribute-affinity/2673f9b3"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    outputs = sorted(
        path.relative_to(tmp_path / ".personalize-local/s3").as_posix()
        for path in (tmp_path / ".personalize-local/s3/acme-personalize/batch/out").rglob("*.out")
    )
    assert outputs == [
        "acme-personalize/batch/out/genre-fans-2026-11/all-genres.jsonl.out",
        "acme-personalize/batch/out/genre-fans-adults-2026-11/all-genres.jsonl.out",
        "acme-personalize/batch/out/holiday-promo-2026-11-ranked/ranking.jsonl.out",
        "acme-personalize/batch/out/holiday-promo-2026-11/holiday-items.jsonl.out",
        "acme-personalize/batch/out/new-releases-2026-11/holiday-items.jsonl.out",
        "acme-personalize/batch/out/nightly-recs-2026-11-30/users.jsonl.out",
        "acme-personalize/batch/out/related-items-2026-11/items.jsonl.out",
        f"acme-personalize/batch/out/weekly-genre-fans/{week}/all-genres.jsonl.out",
        "acme-personalize/batch/out/winback-2026-11/items.jsonl.out",
    ]
    segment = json.loads(
        (
            tmp_path
            / ".personalize-local/s3/acme-personalize/batch/out/holiday-promo-2026-11"
            / "holiday-items.jsonl.out"
        )
        .read_text(encoding="utf-8")
        .splitlines()[0]
    )
    assert len(segment["output"]["recommendedUsers"]) == 100
    out = tmp_path / ".personalize-local/s3/acme-personalize/batch/out"
    recommendations = [
        json.loads(line)
        for line in (out / "nightly-recs-2026-11-30/users.jsonl.out")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert all(line["error"] is None for line in recommendations)
    assert {len(line["output"]["recommendedItems"]) for line in recommendations} == {10}
    ranked = json.loads(
        (out / "holiday-promo-2026-11-ranked/ranking.jsonl.out")
        .read_text(encoding="utf-8")
        .splitlines()[0]
    )
    assert sorted(ranked["output"]["recommendedItems"]) == sorted(ranked["input"]["itemList"])


def test_the_example_specs_are_clean() -> None:
    result = _runner("lint", "specs", cwd=REPO)

    assert result.returncode == 0, result.stdout
    assert result.stdout == "8 files, 9 specs: no findings\n"


def test_a_fifo_among_a_jobs_input_fails_that_job_and_blocks_nothing(tmp_path: Path) -> None:
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    (tmp_path / ".git").mkdir()
    assert _runner("local", "demo", cwd=tmp_path).returncode == 0
    # S3 holds objects only: a FIFO in the local bucket is never opened (it would block).
    winback = tmp_path / ".personalize-local/s3/acme-personalize/batch/in/winback"
    os.mkfifo(winback / "more.jsonl")

    result = _runner("reconcile", "--wait", "--format", "json", "--timeout", "240", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    jobs = {(job["kind"], job["name"]): job for job in json.loads(result.stdout)["jobs"]}
    failed = jobs["BatchSegmentJob", "winback-2026-11"]
    assert failed["status"] == "CREATE FAILED"
    assert failed["failure_reason"] == (
        "Could not read input data s3://acme-personalize/batch/in/winback/more.jsonl: "
        "it is a named pipe (FIFO), not a file."
    )
    others = [
        job["status"] for key, job in jobs.items() if key != ("BatchSegmentJob", "winback-2026-11")
    ]
    assert set(others) == {"ACTIVE"}
