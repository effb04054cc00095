"""The state in a local file, next to its backup (`<path>.backup`) and lock (`<path>.lock`).

A write goes to a temporary file in the same directory, is flushed to disk, and replaces
the state with `os.replace`: a crash leaves the old or the new state, never a torn one.
The lock is an `flock` on the lock file, which the kernel releases when its holder exits,
however it exits; the file itself only tells a waiting run who holds it.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from runner.digest import sha256_hex
from runner.errors import LockError, StateError
from runner.state.model import UTC, State, format_time
from runner.state.store import LockHolder, Snapshot, StateConflict, check_successor

_POLL_FIRST = 0.05
_POLL_MAX = 0.5
_TEMPORARY_SUFFIX = ".tmp"


class LocalStateStore:
    def __init__(self, path: str | os.PathLike[str], *, write_lock_timeout: float = 30.0) -> None:
        self.location = os.fspath(path)
        self.path = Path(path)
        self.backup_path = Path(f"{self.location}.backup")
        self.lock_path = Path(f"{self.location}.lock")
        # How long `write` waits for the lock when it is called outside `lock()`.
        self.write_lock_timeout = write_lock_timeout
        self._lock_fd: int | None = None

    def describe(self) -> str:
        return f"state file {self.location}"

    def read(self) -> Snapshot | None:
        data = self._read_bytes()
        if data is None:
            return None
        state = self._parse(data)
        return Snapshot(state=state, version=_version(state.lineage, state.serial, data))

    def write(self, state: State, *, expected: str | None) -> str:
        if self._lock_fd is not None:
            return self._write_locked(state, expected=expected)
        with self.lock(holder=LockHolder.current(), timeout=self.write_lock_timeout):
            return self._write_locked(state, expected=expected)

    @contextlib.contextmanager
    def lock(self, *, holder: LockHolder, timeout: float) -> Iterator[None]:
        if self._lock_fd is not None:
            raise RuntimeError(f"{self.lock_path} is already held by this store")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise LockError(
                f"cannot open the state lock {self.lock_path}: {error.strerror}. "
                "Check that its directory exists and is writable."
            ) from None
        try:
            self._acquire(fd, timeout=timeout)
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.to_json(since=datetime.datetime.now(UTC)), 0)
            self._lock_fd = fd
            try:
                yield
            finally:
                self._lock_fd = None
                # Still locked here: nobody else can have written their name yet.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
        finally:
            # Closing the last descriptor releases the flock.
            os.close(fd)

    def _acquire(self, fd: int, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = _POLL_FIRST
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            except OSError as error:
                raise LockError(
                    f"cannot lock the state lock {self.lock_path}: {error.strerror}. "
                    "Keep the state on a local file system that supports flock."
                ) from None
            else:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._held(fd, timeout=timeout)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, _POLL_MAX)

    def _held(self, fd: int, *, timeout: float) -> LockError:
        recorded = LockHolder.from_json(os.pread(fd, 64 * 1024, 0))
        if recorded is None:
            who = "another process, which did not record who it is"
        else:
            holder, since = recorded
            who = f"{holder.describe()} since {format_time(since)}"
        return LockError(
            f"the state lock {self.lock_path} is held by {who}; gave up after {timeout:g}s. "
            "Another run is using the state: wait for it to finish and run the command again, "
            "or allow a longer lock timeout. (The lock is released as soon as its holder "
            "exits, even if it is killed: there is nothing to delete.)"
        )

    def _read_bytes(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            if self.backup_path.exists():
                raise StateError(
                    f"{self.describe()} does not exist, but its backup {self.backup_path} "
                    "does: the state was removed. Restore it (rename the backup, or take it "
                    "from version control); to really start afresh, delete the backup too."
                ) from None
            return None
        except OSError as error:
            raise StateError(
                f"cannot read {self.describe()}: {error.strerror}. "
                "Check the path and its permissions; the runner will not overwrite it."
            ) from None

    def _parse(self, data: bytes) -> State:
        return State.from_json(
            data,
            source=self.location,
            remedy=(
                f"Restore it from {self.backup_path} or from version control; "
                "the runner will not overwrite it."
            ),
        )

    def _remove_stale_temporaries(self) -> None:
        # Left by a writer that was killed; every writer holds the lock, so none is live.
        prefixes = (_temporary_prefix(self.path), _temporary_prefix(self.backup_path))
        with os.scandir(self.path.parent) as entries:
            for entry in entries:
                if entry.name.startswith(prefixes) and entry.name.endswith(_TEMPORARY_SUFFIX):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def _write_locked(self, state: State, *, expected: str | None) -> str:
        current = self._read_bytes()
        if current is None:
            if expected is not None:
                raise StateConflict(
                    f"{self.describe()} was removed since this run read it. Restore it from "
                    f"{self.backup_path} or from version control, then run the command again."
                )
        else:
            known = None if expected is None else _parse_version(expected)
            if known is None or known[2] != sha256_hex(current):
                # Parsed only now: a state that cannot be read stops the write here.
                stored = self._parse(current)
                if expected is None:
                    raise StateConflict(
                        f"{self.describe()} exists (serial {stored.serial}), but this run "
                        "expected no state: another run created it meanwhile. Run the "
                        "command again to start from it."
                    )
                if stored.lineage != state.lineage:
                    # The graver problem: say that rather than "moved".
                    check_successor(stored.lineage, stored.serial, state, where=self.describe())
                was = "" if known is None else f" from serial {known[1]}"
                raise StateConflict(
                    f"{self.describe()} changed since this run read it: it moved{was} to "
                    f"serial {stored.serial}, written by another run. Run the command again "
                    "to start from the current state."
                )
            check_successor(known[0], known[1], state, where=self.describe())
        data = state.to_json()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._remove_stale_temporaries()
            if current is not None:
                _write_atomically(self.backup_path, current)
            _write_atomically(self.path, data)
        except OSError as error:
            raise StateError(
                f"cannot write {self.describe()}: {error.strerror}"
                f"{'' if error.filename is None else f' ({error.filename})'}. "
                "The state on disk is the one before this write; fix the cause and run the "
                "command again."
            ) from None
        return _version(state.lineage, state.serial, data)


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def _version(lineage: str, serial: int, data: bytes) -> str:
    # The content hash alone decides; lineage and serial ride along so that a write can
    # check its successor without parsing the stored state again.
    return f"{lineage}:{serial}:{sha256_hex(data)}"


def _parse_version(version: str) -> tuple[str, int, str] | None:
    lineage, _, rest = version.partition(":")
    serial, _, digest = rest.partition(":")
    if not (lineage and serial.isdigit() and digest):
        return None
    return lineage, int(serial), digest


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=_temporary_prefix(path), suffix=_TEMPORARY_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as error:
        # Some file systems cannot fsync a directory; the rename is still atomic there.
        if error.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)
