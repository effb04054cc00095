"""Where the state lives: the protocol every store implements, and what they share.

A store reads and writes whole states with compare-and-swap on a version token, and
provides the exclusive lock a `reconcile` holds from start to end. The token is
`<lineage>:<serial>:<token>`, where only the store's own token decides (a content hash
for a local file; an ETag for S3): lineage and serial ride along so that a write can
check that it continues the stored history without reading the stored state again.
The conflicts a write can meet, and the loop that waits for a lock, are written here once.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from runner.errors import LockError, StateError
from runner.jsonread import Limits, parse
from runner.state.model import State
from runner.times import UTC, format_time


class StateConflict(StateError):
    """The stored state is not the one this run read: another run wrote it, or it belongs
    to another lineage. Writing would lose that run's records, so the write is refused."""


class StoreTimedOut(StateError):
    """A call to the state store got no answer before the run's deadline (`--timeout`):
    a write it cut short may or may not have been made (the state reads as before it, or
    as after it)."""


@dataclass(frozen=True)
class Snapshot:
    state: State
    # Opaque to callers: give it back as `write(expected=...)`. A string, so that a saved
    # plan can carry it (`reconcile --plan` applies only if the state has not moved).
    version: str


@dataclass(frozen=True)
class Version:
    """A version token, parsed."""

    lineage: str
    serial: int
    # The store's own: what decides whether the stored state moved.
    token: str

    @classmethod
    def of(cls, state: State, token: str) -> Version:
        return cls(state.lineage, state.serial, token)

    @classmethod
    def parse(cls, text: str) -> Version | None:
        lineage, _, rest = text.partition(":")
        serial, _, token = rest.partition(":")
        if not (lineage and serial.isdigit() and token):
            return None
        return cls(lineage, int(serial), token)

    def __str__(self) -> str:
        return f"{self.lineage}:{self.serial}:{self.token}"


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or wants) the state lock, for the message of whoever waits for it."""

    pid: int
    host: str
    command: str
    # The CI run, when there is one: its URL on GitHub Actions.
    ci_run: str | None = None
    # Which process `pid` is on `host` (`process_identity`): a pid that is reused by
    # another process after its holder died is not taken for the holder.
    started: str | None = None

    @classmethod
    def current(
        cls, *, command: str | None = None, environ: Mapping[str, str] | None = None
    ) -> LockHolder:
        """This process; `command` defaults to its command line."""
        import shlex
        import socket

        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            command=shlex.join(sys.argv) if command is None else command,
            ci_run=_ci_run(os.environ if environ is None else environ),
            started=process_identity(os.getpid()),
        )

    def document(self, *, since: datetime.datetime) -> dict[str, object]:
        """What a lock records of its holder (a lock object adds its own keys)."""
        return {
            "pid": self.pid,
            "host": self.host,
            "command": self.command,
            "ci_run": self.ci_run,
            "started": self.started,
            "since": format_time(since),
        }

    def to_json(self, *, since: datetime.datetime) -> bytes:
        return (json.dumps(self.document(since=since), sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> tuple[LockHolder, datetime.datetime] | None:
        """The holder recorded in a lock file, or None if it records none (or is garbled)."""
        try:
            document = parse(data, limits=_LOCK_LIMITS)
            started = document.get("started")
            holder = cls(
                pid=int(document["pid"]),
                host=str(document["host"]),
                command=str(document["command"]),
                ci_run=None if document.get("ci_run") is None else str(document["ci_run"]),
                started=started if isinstance(started, str) else None,
            )
            since = datetime.datetime.fromisoformat(document["since"]).astimezone(UTC)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return holder, since

    def describe(self) -> str:
        text = f"pid {self.pid} on {self.host} ({self.command})"
        return text if self.ci_run is None else f"{text}, CI run {self.ci_run}"

    def alive(self) -> bool | None:
        """Whether the holder still runs: None when this process cannot tell (another
        host, another pid namespace, no /proc)."""
        import socket

        if self.host != socket.gethostname():
            return None
        ours = process_identity(os.getpid())
        if self.started is not None:
            recorded = self.started.split(" ")
            if ours is None or len(recorded) != 3 or recorded[:2] != ours.split(" ")[:2]:
                # Another boot, another pid namespace (a container), or a garbled note.
                return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        except OverflowError:
            return False
        if self.started is None:
            return True
        # The pid runs: the holder only if it is the same process (not a reused pid). The
        # boot and the pid namespace are this process's (checked above): the start time says.
        stat = _stat(self.pid)
        if stat is None:
            return None
        state, started = stat
        # A zombie (dead, not yet reaped by its parent) runs no more.
        return state not in ("Z", "X") and started == self.started.split(" ")[2]


# A lock's note is a few hundred bytes.
_LOCK_LIMITS = Limits(max_bytes=64 * 1024, max_depth=4)


def process_identity(pid: int) -> str | None:
    """Which process `pid` is: the boot, the pid namespace and its start time (in clock
    ticks since boot, /proc/<pid>/stat field 22), or None where there is no /proc (or it
    may not be read)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as stream:
            boot = stream.read().strip()
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None
    stat = _stat(pid)
    if stat is None or not boot or " " in namespace:
        return None
    return f"{boot} {namespace} {stat[1]}"


def _stat(pid: int) -> tuple[str, str] | None:
    """The state of `pid` (field 3: R, S, Z for a zombie, …) and when it started, in clock
    ticks since boot (field 22), from /proc/<pid>/stat, which anyone may read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stream:
            stat = stream.read()
    except OSError:
        return None
    # The command (field 2) is in parentheses and may hold spaces and parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    return (fields[0], fields[19]) if len(fields) >= 20 else None


def liveness(holder: LockHolder) -> str:
    """What a waiting run can say of whether `holder` runs, for its messages."""
    alive = holder.alive()
    if alive is None:
        return "on another host: this run cannot check whether it runs"
    return "running" if alive else "no longer running"


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

        A lock whose holder is gone is taken over, with a warning. Raises `LockBusy`,
        naming the holder and since when, if it is not free within `timeout` seconds
        (after saying, on stderr, who holds it and how long this run waits). While it is
        held, `write` from this store needs no other lock.
        """

    def check_writable(self) -> None:
        """Under the lock, before the first create: `StateError` (or `LockError`) unless
        a write would be possible now (permissions, the lock still this run's). Writes
        nothing that another run could read as the state."""


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


def conflict(
    where: str,
    *,
    stored: State | None,
    new: State,
    expected: Version | None,
    expected_state: bool,
    restore: str,
) -> StateConflict:
    """Why `new` cannot replace the state stored at `where`, which is not the version
    `expected` this run read (`expected_state`: the run read a state at all).

    `stored` is what is stored now (None: nothing); `restore` says where to get a removed
    state back: " from <backup>", " (an earlier version ...)".
    """
    if stored is None:
        return StateConflict(
            f"{where} was removed since this run read it. Restore it{restore}, then run the "
            "command again."
        )
    if not expected_state:
        return StateConflict(
            f"{where} exists (serial {stored.serial}), but this run expected no state: another "
            "run created it meanwhile. Run the command again to start from it."
        )
    if stored.lineage != new.lineage:
        # The graver problem: say that rather than "moved".
        try:
            check_successor(stored.lineage, stored.serial, new, where=where)
        except StateConflict as error:
            return error
    was = "" if expected is None else f" from serial {expected.serial}"
    return StateConflict(
        f"{where} changed since this run read it: it moved{was} to serial {stored.serial}, "
        "written by another run. Run the command again to start from the current state."
    )


def wait_for_lock(
    try_acquire: Callable[[], bool],
    *,
    timeout: float,
    first: float,
    most: float,
    gave_up: Callable[[], LockError],
    waiting: Callable[[float], None] | None = None,
) -> None:
    """Call `try_acquire` until it takes the lock, backing off from `first` to `most`
    seconds between tries; after `timeout` seconds, raise what `gave_up` says. `waiting`
    is told once, when the first try failed, how many seconds are left to wait."""
    deadline = time.monotonic() + timeout
    delay = first
    told = False
    while not try_acquire():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise gave_up()
        if not told and waiting is not None:
            told = True
            waiting(remaining)
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, most)


class LockBusy(LockError):
    """The lock stayed held by a live holder (or one this run cannot check) until the
    timeout."""

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        # Who holds it, and since when.
        self.holder = holder


def lock_held(lock: str, *, who: str, timeout: float, remedy: str) -> LockBusy:
    """The lock `lock` is still held by `who` after `timeout` seconds."""
    return LockBusy(
        f"the state lock {lock} is held by {who}; gave up after {timeout:g}s. Another run is "
        "using the state: wait for it to finish and run the command again, or allow a longer "
        f"lock timeout. {remedy}",
        holder=who,
    )


def stderr(message: str) -> None:
    """Where the stores say what they do about a lock: the run's own output is elsewhere."""
    print(message, file=sys.stderr, flush=True)


def holder_since(
    holder: LockHolder | None, since: datetime.datetime | None, *, unknown: str
) -> str:
    """Who holds a lock, and since when, as a lock's messages say it."""
    if holder is None:
        return unknown
    return holder.describe() if since is None else f"{holder.describe()} since {format_time(since)}"
