"""Where the state lives: one protocol, and a table of implementations by URL scheme.

A store reads and writes whole states with compare-and-swap on an opaque version token
(a content hash for a local file; an ETag for S3), and provides the exclusive
lock a `reconcile` holds from start to end.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import socket
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from runner.errors import ConfigError, StateError
from runner.state.model import UTC, State, format_time


class StateConflict(StateError):
    """The stored state is not the one this run read: another run wrote it, or it belongs
    to another lineage. Writing would lose that run's records, so the write is refused."""


@dataclass(frozen=True)
class Snapshot:
    state: State
    # Opaque to callers: give it back as `write(expected=...)`. A string, so that a saved
    # plan can carry it (`reconcile --plan` applies only if the state has not moved).
    version: str


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or wants) the state lock, for the message of whoever waits for it."""

    pid: int
    host: str
    command: str
    # The CI run, when there is one: its URL on GitHub Actions.
    ci_run: str | None = None

    @classmethod
    def current(
        cls, *, command: str | None = None, environ: Mapping[str, str] | None = None
    ) -> LockHolder:
        """This process; `command` defaults to its command line."""
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            command=shlex.join(sys.argv) if command is None else command,
            ci_run=_ci_run(os.environ if environ is None else environ),
        )

    def to_json(self, *, since: datetime.datetime) -> bytes:
        document = {
            "pid": self.pid,
            "host": self.host,
            "command": self.command,
            "ci_run": self.ci_run,
            "since": format_time(since),
        }
        return (json.dumps(document, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> tuple[LockHolder, datetime.datetime] | None:
        """The holder recorded in a lock file, or None if it records none (or is garbled)."""
        try:
            document = json.loads(data)
            holder = cls(
                pid=int(document["pid"]),
                host=str(document["host"]),
                command=str(document["command"]),
                ci_run=None if document.get("ci_run") is None else str(document["ci_run"]),
            )
            since = datetime.datetime.fromisoformat(document["since"]).astimezone(UTC)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return holder, since

    def describe(self) -> str:
        text = f"pid {self.pid} on {self.host} ({self.command})"
        return text if self.ci_run is None else f"{text}, CI run {self.ci_run}"


def _ci_run(environ: Mapping[str, str]) -> str | None:
    run_id = environ.get("GITHUB_RUN_ID")
    if run_id:
        server = environ.get("GITHUB_SERVER_URL")
        repository = environ.get("GITHUB_REPOSITORY")
        if server and repository:
            return f"{server}/{repository}/actions/runs/{run_id}"
        return run_id
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        return "(id unknown)"
    return None


class StateStore(Protocol):
    # What the user gave: a path or a URL.
    location: str

    def describe(self) -> str:
        """What and where the state is, for messages: "state file ci/state.json"."""

    def read(self) -> Snapshot | None:
        """The stored state, or None when there is none yet; `StateError` if unreadable."""

    def write(self, state: State, *, expected: str | None) -> str:
        """Store `state` if the stored one is still version `expected` (None: no state yet).

        Returns the new version. Raises `StateConflict` if the stored state moved since,
        or if `state` is of another lineage or not newer than the stored one; `StateError`
        if the stored state cannot be read. Nothing is written in either case.
        """

    def lock(self, *, holder: LockHolder, timeout: float) -> AbstractContextManager[None]:
        """Hold the state's exclusive lock for the `with` block.

        Raises `LockError`, naming the holder and since when, if it is not free within
        `timeout` seconds. While it is held, `write` from this store needs no other lock.
        """


def check_successor(lineage: str, serial: int, new: State, *, where: str) -> None:
    """Refuse to replace the stored state (`lineage`, `serial`) by `new` unless `new`
    continues its history."""
    if new.lineage != lineage:
        raise StateConflict(
            f"{where} belongs to another lineage ({lineage}) than the state this run "
            f"would write ({new.lineage}): refusing to overwrite it. Check the state "
            "location (--state, personalize-runner.yaml); the runner never replaces a state "
            "by an unrelated one."
        )
    if new.serial <= serial:
        raise StateConflict(
            f"{where} is at serial {serial}; refusing to write serial {new.serial} "
            "over it, which would lose the changes since. Run the command again."
        )


def _open_local(location: str) -> StateStore:
    from runner.state.local import LocalStateStore

    return LocalStateStore(location)


def _open_s3(location: str) -> StateStore:
    from runner.state.s3 import open_s3_store

    return open_s3_store(location)


# A URL scheme (a plain path is "file") to the store that opens it. Each store imports
# its dependencies when opened, so that e.g. `lint` never imports boto3.
STORES: Mapping[str, Callable[[str], StateStore]] = {
    "file": _open_local,
    "s3": _open_s3,
}


def open_store(location: str) -> StateStore:
    """The store for `--state`: a local path, or an `s3://bucket/key` URL."""
    scheme, sep, rest = location.partition("://")
    if not sep:
        scheme, rest = "file", location
    scheme = scheme.lower()
    opener = STORES.get(scheme)
    if opener is None:
        supported = ", ".join(f"{name}://" for name in sorted(STORES))
        raise ConfigError(
            f"--state {location}: unknown scheme {scheme}://. Give a local path or one of: "
            f"{supported}."
        )
    if not rest:
        raise ConfigError(f"--state {location}: the path is empty.")
    return opener(rest)
