"""The process's exit (`runner.__main__.script`): a `plan` or `lint` ends without the
interpreter's teardown (issue 11), and loses nothing by it: all of its output, through a
pipe larger than the pipe's buffer, and its exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import HANG_SECONDS, PROJECT_ROOT, run_process
from tests.support.job_specs import write_specs

# Enough jobs for a plan's JSON past a pipe's 64 KiB buffer.
JOBS = 400


def _repo(tmp_path: Path, jobs: int = JOBS) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write_specs(repo / "specs", [f"job-{index:04d}" for index in range(jobs)])
    return repo


def test_a_plan_s_whole_output_and_its_status_come_out_of_the_process(tmp_path: Path) -> None:
    repo = _repo(tmp_path)

    ran = run_process(repo, "plan", "--backend", "local", "--format", "json", "--detailed-exitcode")

    assert ran.returncode == 2, ran.stderr
    assert len(ran.stdout) > 64 * 1024
    plan = json.loads(ran.stdout)
    assert len(plan["jobs"]) == JOBS
    assert {job["change"] for job in plan["jobs"]} == {"create"}


def test_lint_s_findings_and_status_come_out_of_the_process(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "specs" / "bad.yaml").write_text("jobName: [\n", encoding="utf-8")

    ran = run_process(repo, "lint", "--format", "json")

    assert ran.returncode == 1
    document = json.loads(ran.stdout)
    assert [finding["path"] for finding in document["findings"]] == ["specs/bad.yaml"]


def test_a_reader_that_goes_away_ends_the_plan_without_a_traceback(tmp_path: Path) -> None:
    # A plan's output many times a pipe's buffer: the reader goes away long before its end.
    repo = _repo(tmp_path, jobs=2_000)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "runner", "plan", "--backend", "local", "--format", "json"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.read(10)
        process.stdout.close()  # `plan | head -c 10`
        status = process.wait(timeout=HANG_SECONDS)
        err = process.stderr.read().decode()

    # Whether the last write met the closed pipe is the kernel's timing: either way the
    # process ends, with nothing but a status to say.
    assert status in (0, 1)
    assert "Traceback" not in err
    assert "Exception ignored" not in err
