"""What the plan, reconcile, status and wait commands share: opening the backend, loading
the specs, the git commit."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from runner.config import Settings
from runner.errors import ConfigError

if TYPE_CHECKING:
    from runner.backends import Backend
    from runner.spec import LoadResult
    from runner.state import State

LOCAL_FOLDER = ".personalize-local"


@contextlib.contextmanager
def opened_backend(settings: Settings, *, deadline: float | None = None) -> Iterator[Backend]:
    """The backend of `settings`; the local one keeps its jobs at the repository root.
    `deadline` (`time.monotonic()`, from `--timeout`) bounds every call of the aws backend,
    its retries included (the local one answers at once)."""
    # Imported here: `plan` without --refresh opens none (issue 11: its start-up).
    from runner.backends.registry import open_backend

    if settings.backend == "local":
        backend = open_backend("local", root=settings.root / LOCAL_FOLDER, quotas=settings.quotas)
    else:
        backend = open_backend(settings.backend, accounts=settings.accounts, deadline=deadline)
    try:
        yield backend
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            close()


def load(settings: Settings, state: State | None = None) -> LoadResult:
    """The specs; with the state, the files it records whole and unchanged are not parsed."""
    from runner.planner import recorded_files
    from runner.spec.loader import load_specs

    return load_specs(
        [str(settings.specs)],
        root=settings.root,
        recorded=recorded_files(state),
        ignore=settings.lint_ignore,
    )


def planning_time(text: str | None) -> datetime.datetime:
    """`--now`: ISO 8601 with `Z` or an offset (UTC without one); the clock by default."""
    if text is None:
        return datetime.datetime.now(datetime.UTC)
    from runner.recurring import parse_now

    try:
        return parse_now(text)
    except ValueError:
        raise ConfigError(
            f"--now {text}: not an ISO 8601 time; give one such as 2026-11-02T06:00:00Z or "
            "2026-11-02T07:00:00+01:00"
        ) from None


def git_commit(root: Path) -> str | None:
    """`git rev-parse HEAD` at `root`, or None (no git, not a repository, no commit yet)."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def check_output_file(path: Path | None, *, option: str, what: str) -> None:
    """Before a command does anything: `--out`/`--report` naming a FIFO or a device is
    refused now, not when the command writes to it at the end (a FIFO would wait for a
    reader forever; issue 10)."""
    if path is None:
        return
    from runner.fs import refuse_special

    try:
        refuse_special(path)
    except OSError as error:
        raise _output_error(path, error, option=option, what=what) from None


def write_output_file(path: Path, text: str, *, option: str, what: str) -> None:
    """Write `text` to the file `--out`/`--report` names; a FIFO or a device is refused."""
    from runner.fs import write_regular_file

    try:
        write_regular_file(path, text.encode("utf-8"))
    except OSError as error:
        raise _output_error(path, error, option=option, what=what) from None


def _output_error(path: Path, error: OSError, *, option: str, what: str) -> ConfigError:
    from runner.fs import NotRegularFile

    if isinstance(error, NotRegularFile):
        return ConfigError(
            f"{option} {path}: cannot write {what} there: it is {error.what}, not a regular "
            "file. Give the path of a regular file, or of one to make."
        )
    return ConfigError(f"{option} {path}: cannot write {what}: {error.strerror}")
