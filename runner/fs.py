"""Files that other processes read or share: atomic writes, and exclusive locks.

A write goes to a temporary file in the same directory, is flushed to disk, and replaces
the file with `os.replace`, then the directory is flushed: a crash leaves the old content
or the new, never a torn file. A lock is an `flock` on a lock file, which the kernel
releases when its holder exits, however it exits; the file itself only carries a note
that says who holds it, for whoever waits. A child process forked while a lock is held
closes its copy of the lock file at once, so that a lock never outlives its holder in a
child that goes on running (`os.register_at_fork`).

The runner's own files (specs, configuration, state with its journal and lock, saved
plans, `--out` and `--report`, the local service's) are opened with `open_regular`: a
FIFO, a socket or a device in their place is refused by name (`NotRegularFile`), never
opened in a way that waits (opening a FIFO waits for its other end forever; issue 10).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from weakref import WeakSet

TEMPORARY_SUFFIX = ".tmp"
_NEW_FILE_MODE = 0o644
# More than any note a holder writes.
_NOTE_LIMIT = 64 * 1024


# O_NONBLOCK: a FIFO opens at once (or fails, for writing without a reader) instead of
# waiting for its other end; it has no effect on regular files, which are all we keep open.
_NO_WAIT = os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)
_CHUNK = 64 * 1024


def describe_mode(mode: int) -> str:
    """What a file that is not a regular one is, for people: `a named pipe (FIFO)`."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


class NotRegularFile(OSError):
    """The path is a FIFO, a socket, a device or a folder where a file is read or written:
    it is not opened (or no longer read), nothing is written to it."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        self.mode = mode
        self.what = describe_mode(mode)
        super().__init__(errno.EINVAL, f"{self.what}, not a regular file", os.fspath(path))

    def __str__(self) -> str:
        return f"{self.filename} is {self.what}, not a regular file"


class FileTooLarge(OSError):
    """The file holds more than the reader's limit (`read_regular_file`)."""

    def __init__(self, path: str | os.PathLike[str], limit: int) -> None:
        self.limit = limit
        super().__init__(
            errno.EFBIG, f"larger than the {limit:,} bytes this reader accepts", os.fspath(path)
        )

    def __str__(self) -> str:
        return f"{self.filename} is {self.strerror}"


def open_regular(path: str | os.PathLike[str], flags: int = os.O_RDONLY, mode: int = 0o644) -> int:
    """A descriptor of the regular file at `path` (`flags` as for `os.open`: O_CREAT makes
    one), or `NotRegularFile` for anything else there, which is closed at once."""
    try:
        fd = os.open(path, flags | _NO_WAIT, mode)
    except OSError as error:
        # ENXIO: a FIFO opened for writing that nobody reads; EISDIR: a folder.
        if error.errno in (errno.ENXIO, errno.EISDIR):
            try:
                found = os.stat(path).st_mode
            except OSError:
                raise error from None
            if not stat.S_ISREG(found):
                raise NotRegularFile(path, found) from None
        raise
    try:
        found = os.fstat(fd).st_mode
        if not stat.S_ISREG(found):
            raise NotRegularFile(path, found)
    except BaseException:
        os.close(fd)
        raise
    return fd


def cache_home() -> Path:
    """The runner's folder of this user's caches (`$XDG_CACHE_HOME/personalize-runner`,
    by default `~/.cache/personalize-runner`): never in a repository."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "personalize-runner"


def read_regular_file(path: str | os.PathLike[str], *, limit: int) -> bytes:
    """The bytes of the regular file at `path`: `NotRegularFile` if it is something else
    (never waited on), `FileTooLarge` if it holds more than `limit` bytes, `OSError` if it
    cannot be read (`FileNotFoundError` if there is none)."""
    # Plain reads of a chunk: a buffered `read(limit + 1)` costs an allocation of the
    # limit per file, most of the time of reading 10,000 small specs.
    fd = open_regular(path)
    chunks: list[bytes] = []
    size = 0
    try:
        expected = os.fstat(fd).st_size
        # The first read asks for all of it (a 6 MB state in one call, not a hundred).
        want = min(max(expected, _CHUNK), limit + 1)
        while size <= limit:
            chunk = os.read(fd, want)
            want = _CHUNK
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size == expected:
                # All of a regular file: no need to ask again for its end.
                break
    finally:
        os.close(fd)
    if size > limit:
        raise FileTooLarge(path, limit)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def refuse_special(path: str | os.PathLike[str]) -> None:
    """`NotRegularFile` if something other than a regular file is at `path` (through a
    link); nothing there, or a regular file, is fine."""
    try:
        found = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(found):
        raise NotRegularFile(path, found)


def write_regular_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to the file at `path` (made if missing; through a link), refusing
    anything but a regular file there (`NotRegularFile`) before it writes a byte."""
    fd = open_regular(path, os.O_WRONLY | os.O_CREAT)
    try:
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def temporary_prefix(path: Path) -> str:
    """How the names of `path`'s temporary files start (they end in `TEMPORARY_SUFFIX`)."""
    return f".{path.name}."


def write_atomically(path: Path, content: bytes | Callable[[BinaryIO], object]) -> None:
    """Replace `path` by `content` (bytes, or a function that writes to the stream),
    creating its directory if need be. The file keeps its permissions (a new one: 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        found = path.stat().st_mode
    except FileNotFoundError:
        mode = _NEW_FILE_MODE
    else:
        # Not replaced: what made a FIFO or a device there is not ours to undo.
        if not stat.S_ISREG(found):
            raise NotRegularFile(path, found)
        mode = found & 0o777
    # Imported here: `tempfile` costs 8 ms of the start-up of commands that write nothing.
    import tempfile

    fd, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=temporary_prefix(path), suffix=TEMPORARY_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def remove_temporaries(path: Path) -> None:
    """Remove the temporary files a killed writer of `path` left. Only while holding the
    lock that every writer of `path` holds: otherwise one may be live."""
    prefix = temporary_prefix(path)
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(TEMPORARY_SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


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


class LockRefused(OSError):
    """The file system refused `flock` on the lock file (not: another process holds it)."""


# The locks this process has open, for `_close_in_child`.
_OPEN_LOCKS: WeakSet[FileLock] = WeakSet()


def _close_in_child() -> None:
    """In a forked child: close the lock files (the parent's flock stays: it is released
    only when every copy of the descriptor is closed, or by the parent)."""
    for lock in list(_OPEN_LOCKS):
        lock._forget()


os.register_at_fork(after_in_child=_close_in_child)


class FileLock:
    """An exclusive `flock` on `path` (created if missing), with a note for waiters.

    Not reentrant, and not meant to be shared between threads.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._locked = False
        self._noted = False
        _OPEN_LOCKS.add(self)

    @property
    def held(self) -> bool:
        return self._locked

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False if another holder has it.

        `OSError` if the lock file cannot be opened, `LockRefused` if it cannot be locked.
        """
        return self._lock(fcntl.LOCK_EX | fcntl.LOCK_NB)

    def acquire(self) -> None:
        """Take the lock, waiting for as long as its holder keeps it."""
        self._lock(fcntl.LOCK_EX)

    def note(self, data: bytes) -> None:
        """Say who holds the lock; cleared on release. Only while holding it."""
        if self._fd is None or not self._locked:
            raise RuntimeError(f"{self.path} is not held")
        fd = self._fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        self._noted = True

    def read_note(self) -> bytes:
        """What the holder wrote (empty if nothing); the lock file must be open."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not open")
        return os.pread(self._fd, _NOTE_LIMIT, 0)

    def in_place(self) -> bool:
        """Whether the file this lock holds is still the one at its path (it was not
        deleted or replaced since: a run that locks the path then would not wait)."""
        if self._fd is None:
            return False
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            return False
        held = os.fstat(self._fd)
        return (held.st_dev, held.st_ino) == (here.st_dev, here.st_ino)

    def _forget(self) -> None:
        fd, self._fd = self._fd, None
        self._locked = self._noted = False
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def release(self) -> None:
        """Clear the note, let go and close the lock file (closing releases the flock)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if self._noted:
                # Still locked here: nobody else can have written their note yet.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
        finally:
            self._locked = self._noted = False
            os.close(fd)

    def _lock(self, operation: int) -> bool:
        while True:
            if self._fd is None:
                self._fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(self._fd, operation)
            except BlockingIOError:
                return False
            except OSError as error:
                raise LockRefused(error.errno, error.strerror, os.fspath(self.path)) from None
            self._locked = True
            if self.in_place():
                return True
            # Deleted or replaced between the open and the flock: lock the file there now.
            self._forget()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[FileLock]:
    """Hold the lock on `path` for the block, waiting for it as long as it takes."""
    lock = FileLock(path)
    try:
        lock.acquire()
        yield lock
    finally:
        lock.release()
