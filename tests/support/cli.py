"""Running the command line: in this process (`run_cli`), or as a real process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.__main__ import main

# The project's root: where `python -m tests.support.…` finds the test support.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Far more than a run of `run_process` takes: a hang fails the test instead of stopping
# the suite (a FIFO opened for reading, a link loop walked, would wait forever).
HANG_SECONDS = 60


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err: str


def run_cli(*args: str) -> Ran:
    """`personalize-runner ARGS` in this process, from the working folder."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return Ran(status, out.getvalue(), err.getvalue())


def aws_env(endpoint_url: str, folder: Path) -> dict[str, str]:
    """The environment of a CLI process talking to a stand-in with dummy credentials."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name != "NO_COLOR"
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(folder / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(folder / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_PERSONALIZE=endpoint_url,
        PERSONALIZE_RUNNER_BACKEND="aws",
    )
    return env


def cli_process(
    *args: str, cwd: Path, env: dict[str, str], capture: bool = False
) -> subprocess.Popen[str]:
    """`python -m runner ARGS` as a process of its own."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=output,
        text=True,
    )


def run_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m runner ARGS` as a process from `cwd`, to its end (at most `HANG_SECONDS`),
    its output through real pipes (UTF-8, strict, as a CI log's), without `NO_COLOR`."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        check=False,
    )


def lint_process(cwd: Path, *paths: str) -> tuple[int, list[tuple[str, str]], dict[str, Any]]:
    """`lint --format json PATHS` through `run_process`: the status, (path, rule) of each
    finding, the document; nothing on stderr."""
    ran = run_process(cwd, "lint", "--format", "json", *paths)
    assert ran.stderr == "", ran.stderr
    document = json.loads(ran.stdout)
    found = [(finding["path"], finding["rule"]) for finding in document["findings"]]
    return ran.returncode, found, document


@contextlib.contextmanager
def stand_in_process(folder: Path) -> Iterator[str]:
    """The HTTP stand-in in a process of its own, over the service persisted in `folder`;
    yields its endpoint URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.serve_personalize", str(folder)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def succeed(request: object, *, s3_root: Path) -> str | None:
    """A job runner whose jobs all succeed."""
    return None
