"""The state in a local file, next to its journal (`<path>.journal`), backup
(`<path>.backup`) and lock (`<path>.lock`).

Under the lock, each change is a line appended to the journal and flushed to disk
(`runner.state.journal`), so that recording a job costs the same however many the state
holds (issue 11); the journal is folded into the snapshot (compaction: the old snapshot
becomes the backup, the new one replaces it atomically, then the journal is removed) when
the lock is released, by the run that wrote it or by the next one to take the lock. A
reader reads the snapshot and applies the journal (`runner.state.delta`): the same
records either way, whatever step a crash stopped. A write outside the lock (one change,
with the lock taken for it) replaces the snapshot at once. Snapshot writes are atomic
(`runner.fs`): a crash leaves the old or the new state, never a torn one.

A state path that is a symbolic link is written through: the file it points to is
replaced (with its backup and lock beside it), the link stays.

The lock is an `flock` on the lock file, which the kernel releases when its holder exits,
however it exits (SIGKILL included): a dead holder never holds it, and the next run takes
it at once. What a killed holder leaves is its note in the lock file (pid, host, command,
process start); the run that takes the lock next says whose lock it took over. A run that
waits says who holds the lock, whether that process still runs (same host: its pid runs
and started when the note says), and how long it waits. A lock file deleted while held
(which would let a second run in) is noticed before the first create and before every
write: this run locks the new file, or stops if another run has it.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runner import faults
from runner.digest import sha256_hex
from runner.errors import LockError, StateError
from runner.fs import (
    TEMPORARY_SUFFIX,
    FileLock,
    LockRefused,
    NotRegularFile,
    read_regular_file,
    remove_temporaries,
    temporary_prefix,
    write_atomically,
)
from runner.jsonread import DEFAULT_LIMITS
from runner.state.model import State
from runner.state.record import JobRecord
from runner.state.store import (
    LockHolder,
    Snapshot,
    Version,
    check_successor,
    conflict,
    holder_since,
    liveness,
    lock_held,
    stderr,
    wait_for_lock,
)
from runner.times import UTC

_POLL_FIRST = 0.05
_POLL_MAX = 0.5

# What identifies the files as they are: (inode, size, mtime, ctime) of the snapshot and
# (inode, size) of the journal, None for a file that is not there.
_Identity = tuple[tuple[int, ...] | None, tuple[int, ...] | None]


@dataclass(frozen=True)
class _Known:
    """The state as this store last read or wrote it, under the files' `identity` then:
    while the lock is held and the files are as they were, a write need not read them
    again (every writer holds the lock; a file replaced or edited has a new identity)."""

    version: str
    state: State
    identity: _Identity
    snapshot_sha256: str
    snapshot_serial: int
    # The length of the journal's whole lines, if the journal continues the snapshot;
    # None when there is none (or one already folded into the snapshot).
    journal_bytes: int | None


class FileStateStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        write_lock_timeout: float = 30.0,
        warn: Callable[[str], None] = stderr,
    ) -> None:
        self.location = os.fspath(path)
        # Where the state really is: through a symbolic link, its target.
        self.target = os.path.realpath(self.location) if os.path.islink(path) else None
        real = self.location if self.target is None else self.target
        self.path = Path(real)
        self.backup_path = Path(f"{real}.backup")
        self.lock_path = Path(f"{real}.lock")
        self.journal_path = Path(f"{real}.journal")
        # How long `write` waits for the lock when it is called outside `lock()`.
        self.write_lock_timeout = write_lock_timeout
        self._warn = warn
        self._lock: FileLock | None = None
        self._holder: LockHolder | None = None
        self._known: _Known | None = None

    def describe(self) -> str:
        if self.target is None:
            return f"state file {self.location}"
        return f"state file {self.location} (a link to {self.target})"

    def read(self) -> Snapshot | None:
        # Before the content: a file replaced in between has a new identity.
        identity = self._identity()
        data = self._read_bytes()
        if data is None:
            self._known = None
            if self.journal_path.exists():
                raise StateError(
                    f"{self.describe()} does not exist, but its journal {self.journal_path} "
                    "does: the state was removed. Restore it (from version control, or "
                    f"{self.backup_path}); to really start afresh, delete the journal too."
                )
            return None
        sha = sha256_hex(data)
        snapshot = self._parse(data, sha)
        found = None
        if identity[1] is not None:
            # Imported with a journal to read or write: a plan's read has none (issue 11).
            from runner.state.delta import apply
            from runner.state.journal import read as read_journal

            found = read_journal(self.journal_path, where=self._journal_where())
        state, journal_bytes = snapshot, None
        if found is not None and found.header is not None:
            header = found.header
            last = found.deltas[-1].serial if found.deltas else header.base_serial
            if header.lineage != snapshot.lineage or (
                last > snapshot.serial
                and (header.base_serial, header.base_sha256) != (snapshot.serial, sha)
            ):
                raise StateError(
                    f"cannot read {self.describe()}: its journal {self.journal_path} continues "
                    f"another state (serial {header.base_serial} of lineage {header.lineage}) "
                    f"than the file holds (serial {snapshot.serial} of {snapshot.lineage}): the "
                    "file was replaced while the journal had changes not yet folded into it. "
                    "Restore the file the journal continues (its backup, version control), or "
                    "delete the journal to give its changes up; the runner will not overwrite "
                    "either."
                )
            if last > snapshot.serial:
                state = apply(snapshot, found.deltas, where=self.describe())
                journal_bytes = found.valid_bytes
        token = sha if journal_bytes is None else f"{sha}+{journal_bytes}"
        version = str(Version.of(state, token))
        self._known = _Known(version, state, identity, sha, snapshot.serial, journal_bytes)
        return Snapshot(state=state, version=version)

    def _journal_where(self) -> str:
        return f"the journal {self.journal_path} of {self.describe()}"

    def _identity(self) -> _Identity:
        try:
            found = os.stat(self.path)
            snapshot: tuple[int, ...] | None = (
                found.st_ino,
                found.st_size,
                found.st_mtime_ns,
                found.st_ctime_ns,
            )
        except FileNotFoundError:
            snapshot = None
        try:
            found = os.stat(self.journal_path)
            journal_file: tuple[int, ...] | None = (found.st_ino, found.st_size)
        except FileNotFoundError:
            journal_file = None
        return snapshot, journal_file

    def write(self, state: State, *, expected: str | None) -> str:
        if self._lock is not None:
            return self._write_locked(state, expected=expected)
        with self.lock(holder=LockHolder.current(), timeout=self.write_lock_timeout):
            return self._write_locked(state, expected=expected, whole=True)

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
                waiting=lambda remaining: self._warn(self._waiting(lock, remaining)),
            )
            self._take(lock, holder)
        except LockRefused as error:
            lock.release()
            raise LockError(
                f"cannot lock the state lock {self.lock_path}: {error.strerror}. "
                "Keep the state on a local file system that supports flock."
            ) from None
        except NotRegularFile as error:
            lock.release()
            raise LockError(
                f"the state lock {self.lock_path} is {error.what}, not a regular file: it "
                "cannot be locked. Remove it (the runner makes the lock file)."
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
            self._lock, self._holder = lock, holder
            yield
        finally:
            try:
                self._compact()
            finally:
                # `_keep_lock` may have swapped in the lock of a new lock file.
                held, self._lock, self._holder = self._lock, None, None
                self._known = None
                if held is not None:
                    held.release()

    def _compact(self) -> None:
        """Fold the journal into the snapshot, if there is one, while the lock is held:
        the old snapshot becomes the backup, the new one replaces it, the journal goes."""
        if not self.journal_path.is_file():
            return
        try:
            self._keep_lock()
            known = self._known
            if known is None or self._identity() != known.identity:
                self.read()
                known = self._known
            if known is None:
                return
            if known.journal_bytes is not None:
                previous = self._snapshot_bytes()
                if sha256_hex(previous) != known.snapshot_sha256:
                    raise StateError(f"{self.describe()} changed while this run held its lock")
                self._write_snapshot(known.state, previous=previous)
            else:
                from runner.state.journal import remove as remove_journal

                # Folded already: a compaction stopped before it removed the journal.
                remove_journal(self.journal_path)
        except (StateError, LockError, OSError) as error:
            self._warn(
                f"warning: the journal {self.journal_path} was not folded into "
                f"{self.describe()} ({error}); the state reads the same with it, and the next "
                "run that takes the lock folds it."
            )

    def _take(self, lock: FileLock, holder: LockHolder) -> None:
        """Note this run as the holder of `lock`, just taken; say whose lock it took over
        if its last holder ended without releasing it (killed: the kernel released it)."""
        left = LockHolder.from_json(lock.read_note())
        if left is not None and left[0] != holder:
            previous, since = left
            self._warn(
                f"warning: took over the state lock {self.lock_path}: its last holder, "
                f"{holder_since(previous, since, unknown='')}, ended without releasing it "
                f"({liveness(previous)}; killed or crashed). The kernel had released it."
            )
        lock.note(holder.to_json(since=datetime.datetime.now(UTC)))

    def check_writable(self) -> None:
        """The lock is still this run's, the state file may be replaced, and its folder
        takes a new file (a temporary one, removed at once)."""
        self._keep_lock()
        self._refuse_read_only(
            "this run could not record the jobs it submits, so it submits nothing"
        )
        if self.journal_path.exists() and not os.access(self.journal_path, os.W_OK):
            raise StateError(
                f"{self._journal_where()} is read-only: this run could not record the jobs it "
                "submits, so it submits nothing. Make it writable (chmod u+w)."
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            import tempfile

            fd, probe = tempfile.mkstemp(
                dir=self.path.parent,
                prefix=temporary_prefix(self.path),
                suffix=TEMPORARY_SUFFIX,
            )
            os.close(fd)
            os.unlink(probe)
        except OSError as error:
            raise self._unwritable(error) from None

    def _refuse_read_only(
        self,
        consequence: str = "nothing was written",
    ) -> None:
        """A state file without write permission is not replaced (even by root, who may)."""
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return
        except OSError as error:
            raise self._unwritable(error) from None
        if stat.S_ISREG(mode) and mode & 0o222 and os.access(self.path, os.W_OK):
            return
        what = "read-only" if stat.S_ISREG(mode) else "not a regular file"
        raise StateError(
            f"{self.describe()} is {what}: {consequence}. Make it writable (chmod u+w), or "
            "give another --state."
        )

    def _unwritable(self, error: OSError) -> StateError:
        return StateError(
            f"cannot write {self.describe()}: {error.strerror}"
            f"{'' if error.filename is None else f' ({error.filename})'}. This run could not "
            "record the jobs it submits, so it submits nothing: fix the permissions of the "
            "file and its folder, or give another --state."
        )

    def _keep_lock(self) -> None:
        """If the lock file was deleted or replaced while this run held it, lock the one
        at its path now (`LockError` if another run was quicker: it may be writing)."""
        lock, holder = self._lock, self._holder
        if lock is None or holder is None or lock.in_place():
            return
        again = FileLock(self.lock_path)
        try:
            taken = again.try_acquire()
        except OSError as error:
            again.release()
            raise LockError(
                f"the state lock {self.lock_path} was deleted while this run held it, and it "
                f"cannot be made again: {error.strerror}. Nothing more is written."
            ) from None
        if not taken:
            recorded = LockHolder.from_json(again.read_note())
            again.release()
            who = holder_since(
                *(recorded or (None, None)), unknown="another process, which did not say who"
            )
            raise LockError(
                f"the state lock {self.lock_path} was deleted while this run held it, and "
                f"another run has locked it since: {who}. This run stops before it writes; "
                "run it again once that run is done."
            )
        again.note(holder.to_json(since=datetime.datetime.now(UTC)))
        self._lock = again
        lock.release()
        self._warn(
            f"warning: the state lock {self.lock_path} was deleted while this run held it; "
            "this run locked it again. Do not delete the lock file: it is how runs keep out "
            "of each other's way."
        )

    def _waiting(self, lock: FileLock, remaining: float) -> str:
        recorded = LockHolder.from_json(lock.read_note())
        if recorded is None:
            who = "another process, which did not record who it is"
        else:
            who = f"{holder_since(*recorded, unknown='')} ({liveness(recorded[0])})"
        return (
            f"waiting for the state lock {self.lock_path}: it is held by {who}; waiting up "
            f"to {round(remaining, 1):g}s for it (the lock timeout)."
        )

    def _held(self, lock: FileLock, *, timeout: float) -> LockError:
        recorded = LockHolder.from_json(lock.read_note())
        holder, since = (None, None) if recorded is None else recorded
        who = holder_since(holder, since, unknown="another process, which did not record who it is")
        alive = None if holder is None else holder.alive()
        if alive is False:
            # The noted holder is gone, yet the file is locked: another process (one that
            # inherited the descriptor, or on another host with a shared file system).
            who = f"{who} (no longer running: another process keeps the lock file open)"
        return lock_held(
            str(self.lock_path),
            who=who,
            timeout=timeout,
            remedy=(
                "(The lock is released as soon as its holder exits, even if it is killed: "
                "there is nothing to delete.)"
            ),
        )

    def _snapshot_bytes(self) -> bytes:
        # Never waits on a FIFO in the state's place (issue 10): refused by name.
        return read_regular_file(self.path, limit=DEFAULT_LIMITS.max_bytes)

    def _read_bytes(self) -> bytes | None:
        try:
            return self._snapshot_bytes()
        except FileNotFoundError:
            if self.backup_path.exists():
                raise StateError(
                    f"{self.describe()} does not exist, but its backup {self.backup_path} "
                    "does: the state was removed. Restore it (rename the backup, or take it "
                    "from version control); to really start afresh, delete the backup too."
                ) from None
            return None
        except NotRegularFile as error:
            raise StateError(
                f"{self.describe()} is {error.what}, not a regular file: the runner neither "
                "reads nor replaces it. Remove it, or give the state file's path (--state)."
            ) from None
        except OSError as error:
            raise StateError(
                f"cannot read {self.describe()}: {error.strerror}. "
                "Check the path and its permissions; the runner will not overwrite it."
            ) from None

    def _parse(self, data: bytes, sha256: str) -> State:
        if self.backup_path.exists():
            where = f"from {self.backup_path} or from version control"
        else:
            where = f"from version control (there is no backup: {self.backup_path} does not exist)"
        return State.from_json(
            data,
            source=self.location,
            remedy=f"Restore it {where}; the runner will not overwrite it.",
            sha256=sha256,
        )

    def _write_locked(self, state: State, *, expected: str | None, whole: bool = False) -> str:
        """`write` under the lock: a line of the journal, or with `whole` (or a change
        that is not known as one) the snapshot."""
        self._keep_lock()
        self._refuse_read_only()
        known = self._known
        if known is None or known.version != expected or self._identity() != known.identity:
            # What is stored now: a state that cannot be read stops the write here.
            current = self.read()
            if current is None:
                if expected is not None:
                    raise self._conflict(None, state, expected=expected)
            elif expected is None or current.version != expected:
                raise self._conflict(current.state, state, expected=expected)
            known = self._known
        try:
            if known is None:
                return self._write_snapshot(state, previous=None)
            check_successor(known.state.lineage, known.state.serial, state, where=self.describe())
            changes = state.changes_since(known.state)
            if changes is None or whole:
                return self._write_snapshot(state, previous=self._snapshot_bytes())
            return self._append(known, state, changes)
        except OSError as error:
            raise StateError(
                f"cannot write {self.describe()}: {error.strerror}"
                f"{'' if error.filename is None else f' ({error.filename})'}. "
                "The state on disk is the one before this write; fix the cause and run the "
                "command again."
            ) from None

    def _append(self, known: _Known, state: State, changes: dict[str, JobRecord | None]) -> str:
        """Record the change from `known.state` to `state` as a line of the journal."""
        from runner.state.delta import Delta
        from runner.state.journal import Header
        from runner.state.journal import append as append_line

        live = known.journal_bytes is not None
        header = (
            None if live else Header(state.lineage, known.snapshot_serial, known.snapshot_sha256)
        )
        size = append_line(
            self.journal_path,
            header=header,
            delta=Delta.of(state, changes),
            valid_bytes=known.journal_bytes or 0,
        )
        version = str(Version.of(state, f"{known.snapshot_sha256}+{size}"))
        self._known = _Known(
            version, state, self._identity(), known.snapshot_sha256, known.snapshot_serial, size
        )
        return version

    def _write_snapshot(self, state: State, *, previous: bytes | None) -> str:
        """Replace the snapshot by `state` (`previous`, the one it replaces, becomes the
        backup), and remove the journal, which `state` holds."""
        data = state.to_json()
        # Left by a writer that was killed; every writer holds the lock, so none is live.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_temporaries(self.path)
        remove_temporaries(self.backup_path)
        if previous is not None:
            write_atomically(self.backup_path, previous)
            faults.crash_at("backup-written")
        write_atomically(self.path, data)
        faults.crash_at("snapshot-written")
        if self.journal_path.exists():
            from runner.state.journal import remove as remove_journal

            remove_journal(self.journal_path)
        sha = sha256_hex(data)
        version = str(Version.of(state, sha))
        self._known = _Known(version, state, self._identity(), sha, state.serial, None)
        return version

    def _conflict(self, stored: State | None, state: State, *, expected: str | None) -> Exception:
        return conflict(
            self.describe(),
            stored=stored,
            new=state,
            expected=None if expected is None else Version.parse(expected),
            expected_state=expected is not None,
            restore=(
                f" from {self.backup_path} or from version control"
                if self.backup_path.exists()
                else " from version control"
            ),
        )
