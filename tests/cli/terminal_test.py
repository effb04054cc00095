"""Colour and the live progress line, as a terminal sees them (a real pseudo-terminal).

`reconcile --wait` on the local backend, over the README's demo: on a terminal, the
progress line rewrites itself (`\\r`, erase-line); never with `TERM=dumb`, under `CI`, or
when the output is not a terminal. Colour follows `--color`, then `NO_COLOR`, then
`FORCE_COLOR`, then the terminal.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import PROJECT_ROOT

SGR = re.compile(rb"\x1b\[[0-9;]*m")
# A carriage return that does not end a line (a terminal writes "\r\n" for "\n").
REWRITE = re.compile(rb"\r(?!\n)|\x1b\[K")
PROGRESS = re.compile(rb"\d+/\d+ jobs final, waiting\xe2\x80\xa6")
ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "CI", "TERM", "COLUMNS")


@dataclass(frozen=True)
class Seen:
    status: int
    out: bytes


def environment(**settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.pop("PERSONALIZE_RUNNER_BACKEND", None)
    return {**env, **settings}


def in_pty(args: list[str], *, cwd: Path, env: dict[str, str]) -> Seen:
    """`python -m runner ARGS` with a pseudo-terminal for its input and outputs."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        close_fds=True,
    )
    os.close(terminal)
    out = bytearray()
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            out.extend(chunk)
    finally:
        os.close(controller)
        status = process.wait(timeout=120)
    return Seen(status, bytes(out))


def in_pipe(args: list[str], *, cwd: Path, env: dict[str, str]) -> Seen:
    done = subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=120,
        check=False,
    )
    return Seen(done.returncode, done.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's demo: the example specs and `local demo`'s data, not reconciled yet."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(PROJECT_ROOT / "specs", root / "specs")
    (root / ".git").mkdir()
    seen = in_pipe(["local", "demo"], cwd=root, env=environment())
    assert seen.status == 0, seen.out
    return root


WAIT = ["reconcile", "--wait"]
SCENARIOS = {
    "terminal": (in_pty, WAIT, {"TERM": "xterm-256color"}),
    "dumb terminal": (in_pty, WAIT, {"TERM": "dumb"}),
    "NO_COLOR": (in_pty, WAIT, {"TERM": "xterm-256color", "NO_COLOR": "1"}),
    "CI": (in_pty, WAIT, {"TERM": "xterm-256color", "CI": "true"}),
    "pipe, FORCE_COLOR": (in_pipe, WAIT, {"TERM": "xterm-256color", "FORCE_COLOR": "1"}),
}


@pytest.fixture(scope="module")
def seen(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Seen]:
    """Each scenario's run, all at once (each waits some seconds for its jobs)."""

    def one(name: str) -> Seen:
        runner, args, settings = SCENARIOS[name]
        root = tmp_path_factory.mktemp("run")
        shutil.copytree(demo, root, dirs_exist_ok=True)
        return runner(args, cwd=root, env=environment(**settings))

    with ThreadPoolExecutor(len(SCENARIOS)) as pool:
        return dict(zip(SCENARIOS, pool.map(one, SCENARIOS), strict=True))


def test_a_terminal_gets_the_live_line_and_colour(seen: dict[str, Seen]) -> None:
    run = seen["terminal"]

    assert run.status == 0, run.out
    assert PROGRESS.search(run.out)
    assert b"jobs final, waiting\xe2\x80\xa6\r\x1b[K" in run.out
    assert SGR.search(run.out) is not None


def test_a_dumb_terminal_gets_plain_lines(seen: dict[str, Seen]) -> None:
    run = seen["dumb terminal"]

    assert run.status == 0, run.out
    assert REWRITE.search(run.out) is None
    assert b"\x1b" not in run.out
    assert PROGRESS.search(run.out) is None
    # Each change of status is a line of its own instead.
    assert re.search(rb"genre-fans-2026-11: +ACTIVE\r\n", run.out)


def test_no_color_keeps_the_live_line_without_colour(seen: dict[str, Seen]) -> None:
    run = seen["NO_COLOR"]

    assert run.status == 0, run.out
    assert SGR.search(run.out) is None
    assert b"jobs final, waiting\xe2\x80\xa6\r\x1b[K" in run.out


def test_ci_on_a_terminal_has_no_live_line_but_colour(seen: dict[str, Seen]) -> None:
    run = seen["CI"]

    assert run.status == 0, run.out
    assert REWRITE.search(run.out) is None
    assert PROGRESS.search(run.out) is None
    assert SGR.search(run.out) is not None


def test_what_is_not_a_terminal_never_gets_the_live_line(seen: dict[str, Seen]) -> None:
    run = seen["pipe, FORCE_COLOR"]

    assert run.status == 0, run.out
    assert b"\r" not in run.out
    assert b"\x1b[K" not in run.out
    assert SGR.search(run.out) is not None


@pytest.mark.parametrize(
    ("settings", "flag", "coloured"),
    [
        ({}, "auto", True),
        ({"NO_COLOR": "1"}, "auto", False),
        ({"NO_COLOR": "1"}, "always", True),
        ({"FORCE_COLOR": "1"}, "never", False),
        ({"TERM": "dumb"}, "auto", False),
        ({"TERM": "dumb"}, "always", True),
        ({"CI": "true"}, "auto", True),
    ],
)
def test_color_flag_and_variables_on_a_terminal(
    demo: Path, settings: dict[str, str], flag: str, coloured: bool
) -> None:
    env = environment(**{"TERM": "xterm-256color", **settings})

    run = in_pty(["plan", "--color", flag], cwd=demo, env=env)

    assert run.status == 0, run.out
    assert b"create" in run.out
    assert (SGR.search(run.out) is not None) == coloured


@pytest.mark.parametrize(
    ("settings", "args", "coloured"),
    [
        ({}, [], False),
        ({"FORCE_COLOR": "1"}, [], True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False),
        ({}, ["--color", "always"], True),
    ],
)
def test_color_when_output_is_not_a_terminal(
    demo: Path, settings: dict[str, str], args: list[str], coloured: bool
) -> None:
    run = in_pipe(["plan", *args], cwd=demo, env=environment(TERM="xterm-256color", **settings))

    assert run.status == 0, run.out
    assert (SGR.search(run.out) is not None) == coloured


# `wait` shows the same progress as `reconcile --wait`; `lint` and `status` colour their
# text. Each under a terminal, a dumb one, CI, and a pipe.
SHOWN = {
    "terminal": (in_pty, {"TERM": "xterm-256color"}),
    "dumb terminal": (in_pty, {"TERM": "dumb"}),
    "CI": (in_pty, {"TERM": "xterm-256color", "CI": "true"}),
    "pipe": (in_pipe, {"TERM": "xterm-256color"}),
}


@pytest.fixture(scope="module")
def waited(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Seen, ...]]:
    """Per scenario: `wait` for the jobs a `reconcile` submitted, then `status`, then `lint`
    of a spec with a warning."""

    def one(name: str) -> tuple[Seen, ...]:
        runner, settings = SHOWN[name]
        root = tmp_path_factory.mktemp("wait")
        shutil.copytree(demo, root, dirs_exist_ok=True)
        env = environment(**settings)
        submitted = in_pipe(["reconcile"], cwd=root, env=env)
        assert submitted.status == 0, submitted.out
        spec = (root / "specs" / "growth" / "holiday-promo-2026-11.yaml").read_text("utf-8")
        (root / "warned.yaml").write_text(
            spec.replace("holiday-promo-2026-11", "warned").replace(
                "s3://acme-personalize/batch/out/", "s3://Acme_Out/"
            ),
            encoding="utf-8",
        )
        return tuple(
            runner(args, cwd=root, env=env)
            for args in (["wait"], ["status"], ["lint", "warned.yaml"])
        )

    with ThreadPoolExecutor(len(SHOWN)) as pool:
        return dict(zip(SHOWN, pool.map(one, SHOWN), strict=True))


def test_wait_on_a_terminal_gets_the_live_line(waited: dict[str, tuple[Seen, ...]]) -> None:
    run = waited["terminal"][0]

    assert run.status == 0, run.out
    assert b"jobs final, waiting\xe2\x80\xa6\r\x1b[K" in run.out


@pytest.mark.parametrize("scenario", ["dumb terminal", "CI", "pipe"])
def test_wait_elsewhere_gets_plain_lines(
    waited: dict[str, tuple[Seen, ...]], scenario: str
) -> None:
    run = waited[scenario][0]

    assert run.status == 0, run.out
    assert REWRITE.search(run.out) is None
    assert PROGRESS.search(run.out) is None
    # Each change of status is a line of its own instead.
    # (winback-2026-11, the last submitted, is still running when `wait` starts.)
    assert re.search(rb"(?m)^winback-2026-11: +ACTIVE\r?$", run.out), run.out
    assert run.out.endswith((b"\n9 ACTIVE.\r\n", b"\n9 ACTIVE.\n"))


@pytest.mark.parametrize(
    ("scenario", "coloured"),
    [("terminal", True), ("CI", True), ("dumb terminal", False), ("pipe", False)],
)
def test_status_and_lint_colour(
    waited: dict[str, tuple[Seen, ...]], scenario: str, coloured: bool
) -> None:
    _, status, lint = waited[scenario]

    assert (status.status, lint.status) == (0, 0), status.out + lint.out
    assert b"ACTIVE" in status.out
    assert b"[bucket-name]" in lint.out
    for run in (status, lint):
        assert (SGR.search(run.out) is not None) == coloured, run.out
        assert REWRITE.search(run.out) is None
        if not coloured:
            assert b"\x1b" not in run.out
