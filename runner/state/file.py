"""The state in a local file, next to its backup (`<path>.backup`) and lock (`<path>.lock`).

Writes are atomic (`runner.fs`): a crash leaves the old or the new state, never a torn
one. The lock is an `flock` on the lock file, which the kernel releases when its holder
exits, however it exits; the file itself only tells a waiting run who holds it.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from pathlib import Path

from runner.digest import sha256_hex
from runner.errors import LockError, StateError
from runner.fs import FileLock, LockRefused, remove_temporaries, write_atomically
from runner.state.model import State
from runner.state.store import (
    LockHolder,
    Snapshot,
    Version,
    check_successor,
    conflict,
    holder_since,
    lock_held,
    wait_for_lock,
)
from runner.times import UTC

_POLL_FIRST = 0.05
_POLL_MAX = 0.5


class FileStateStore:
    def __init__(self, path: str | os.PathLike[str], *, write_lock_timeout: float = 30.0) -> None:
        self.location = os.fspath(path)
        self.path = Path(path)
        self.backup_path = Path(f"{self.location}.backup")
        self.lock_path = Path(f"{self.location}.lock")
        # How long `write` waits for the lock when it is called outside `lock()`.
        self.write_lock_timeout = write_lock_timeout
        self._lock: FileLock | None = None

    def describe(self) -> str:
        return f"state file {self.location}"

    def read(self) -> Snapshot | None:
        data = self._read_bytes()
        if data is None:
            return None
        state = self._parse(data)
        return Snapshot(state=state, version=str(Version.of(state, sha256_hex(data))))

    def write(self, state: State, *, expected: str | None) -> str:
        if self._lock is not None:
            return self._write_locked(state, expected=expected)
        with self.lock(holder=LockHolder.current(), timeout=self.write_lock_timeout):
            return self._write_locked(state, expected=expected)

    @contextlib.contextmanager
    def lock(self, *, holder: LockHolder, timeout: float) -> Iterator[None]:
        if self._lock is not None:
            raise RuntimeError(f"{self.lock_path} is already held by this store")
        lock = FileLock(self.lock_path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            wait_for_lock(
                lock.try_acquire,
                timeout=timeout,
                first=_POLL_FIRST,
                most=_POLL_MAX,
                gave_up=lambda: self._held(lock, timeout=timeout),
            )
        except LockRefused as error:
            lock.release()
            raise LockError(
                f"cannot lock the state lock {self.lock_path}: {error.strerror}. "
                "Keep the state on a local file system that supports flock."
            ) from None
        except OSError as error:
            lock.release()
            raise LockError(
                f"cannot open the state lock {self.lock_path}: {error.strerror}. "
                "Check that its directory exists and is writable."
            ) from None
        except BaseException:
            lock.release()
            raise
        try:
            lock.note(holder.to_json(since=datetime.datetime.now(UTC)))
            self._lock = lock
            yield
        finally:
            self._lock = None
            lock.release()

    def _held(self, lock: FileLock, *, timeout: float) -> LockError:
        recorded = LockHolder.from_json(lock.read_note())
        holder, since = (None, None) if recorded is None else recorded
        return lock_held(
            str(self.lock_path),
            who=holder_since(
                holder, since, unknown="another process, which did not record who it is"
            ),
            timeout=timeout,
            remedy=(
                "(The lock is released as soon as its holder exits, even if it is killed: "
                "there is nothing to delete.)"
            ),
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

    def _write_locked(self, state: State, *, expected: str | None) -> str:
        current = self._read_bytes()
        known = None if expected is None else Version.parse(expected)
        if current is None:
            if expected is not None:
                raise self._conflict(None, state, expected=expected)
        elif known is None or known.token != sha256_hex(current):
            # Parsed only now: a state that cannot be read stops the write here.
            raise self._conflict(self._parse(current), state, expected=expected)
        else:
            check_successor(known.lineage, known.serial, state, where=self.describe())
        data = state.to_json()
        try:
            # Left by a writer that was killed; every writer holds the lock, so none is live.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            remove_temporaries(self.path)
            remove_temporaries(self.backup_path)
            if current is not None:
                write_atomically(self.backup_path, current)
            write_atomically(self.path, data)
        except OSError as error:
            raise StateError(
                f"cannot write {self.describe()}: {error.strerror}"
                f"{'' if error.filename is None else f' ({error.filename})'}. "
                "The state on disk is the one before this write; fix the cause and run the "
                "command again."
            ) from None
        return str(Version.of(state, sha256_hex(data)))

    def _conflict(self, stored: State | None, state: State, *, expected: str | None) -> Exception:
        return conflict(
            self.describe(),
            stored=stored,
            new=state,
            expected=None if expected is None else Version.parse(expected),
            expected_state=expected is not None,
            restore=f" from {self.backup_path} or from version control",
        )
