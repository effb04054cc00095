"""What the plan, reconcile, status and wait commands share: opening the backend, loading
the specs, the git commit."""

from __future__ import annotations

import contextlib
import datetime
import os
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


def check_output_file(path: Path | None, settings: Settings, *, option: str, what: str) -> None:
    """Before a command does anything: `--out`/`--report` naming a FIFO or a device is
    refused now, not when the command writes to it at the end (a FIFO would wait for a
    reader forever; issue 10), and so is one naming a file of the runner's own (the state and
    its journal, backup and lock, the configuration, the local backend's files) or a spec:
    the report would replace it, and the recorded ARNs with it."""
    if path is None:
        return
    from runner.fs import refuse_special

    own = _own_file(path, settings)
    if own is not None:
        raise ConfigError(
            f"{option} {path}: cannot write {what} there: it is {own}, which it would "
            "replace. Give the path of another file."
        )
    try:
        refuse_special(path)
    except OSError as error:
        raise _output_error(path, error, option=option, what=what) from None


def _own_file(path: Path, settings: Settings) -> str | None:
    """What of the runner's own `path` is (through links and `..`), or None."""
    from runner.config import CONFIG_FILE
    from runner.spec.tree import SPEC_SUFFIXES

    target = Path(os.path.realpath(path))
    own = {Path(os.path.realpath(settings.root / CONFIG_FILE)): "the configuration"}
    if not settings.state.startswith("s3://"):
        state = os.path.realpath(settings.state)
        own[Path(state)] = "the state file"
        for suffix, name in ((".journal", "journal"), (".backup", "backup"), (".lock", "lock")):
            own[Path(f"{state}{suffix}")] = f"the state file's {name}"
    for known, name in own.items():
        if target == known or _same_file(target, known):
            return name
    local = Path(os.path.realpath(settings.root / LOCAL_FOLDER))
    if target.is_relative_to(local):
        return f"in {LOCAL_FOLDER}, the local backend's own folder"
    specs = Path(os.path.realpath(settings.specs))
    if target.name.endswith(SPEC_SUFFIXES) and target.is_relative_to(specs):
        return "a spec file under the specs folder"
    return None


def _same_file(one: Path, other: Path) -> bool:
    """Whether both exist and are one file (a hard link of the state is the state)."""
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


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
