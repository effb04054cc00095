"""Where the local service keeps its jobs: in memory, or in a folder shared by processes."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from runner.errors import BackendError
from runner.fs import FileLock, read_regular_file, write_atomically

FORMAT_VERSION = 1
# Far more than the service's own quotas let an account keep.
MAX_STATE_BYTES = 1024 * 1024 * 1024

# The service's whole state: {"formatVersion": 1, "jobs": [{"job": {...}, "tags": [...]}]}
State = dict[str, Any]


def empty_state() -> State:
    return {"formatVersion": FORMAT_VERSION, "jobs": []}


class JobStore(Protocol):
    def transaction(self) -> contextlib.AbstractContextManager[State]:
        """The state, exclusively; what the block leaves in it is saved when it exits."""


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = empty_state()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._lock:
            state = json.loads(json.dumps(self._state))
            yield state
            self._state = state


class FolderStore:
    """`<folder>/jobs.json`, read and written under an exclusive `flock` on `jobs.lock`.

    Writes go to a temporary file that replaces `jobs.json`, so a crash leaves the old or
    the new state, never a torn one.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "jobs.json"
        # flock excludes other processes; threads of this one also queue here.
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            lock = FileLock(self.folder / "jobs.lock")
            try:
                lock.acquire()
            except OSError as error:
                lock.release()
                why = f"its lock {lock.path}: {error.strerror}"
                raise self._unreadable(why) from None
            try:
                state = self._read()
                before = json.dumps(state, sort_keys=True)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    self._write(state)
            finally:
                lock.release()

    def _read(self) -> State:
        try:
            # Never waits on a FIFO in the file's place (issue 10): refused by name.
            text = read_regular_file(self.path, limit=MAX_STATE_BYTES).decode("utf-8")
        except FileNotFoundError:
            return empty_state()
        except OSError as error:
            raise self._unreadable(error.strerror or str(error)) from error
        try:
            state = json.loads(text)
        except json.JSONDecodeError as error:
            raise self._unreadable(f"not valid JSON ({error})") from error
        if not isinstance(state, dict) or not isinstance(state.get("jobs"), list):
            raise self._unreadable("not a local service state")
        if state.get("formatVersion") != FORMAT_VERSION:
            raise self._unreadable(
                f"format version {state.get('formatVersion')!r}, this runner reads "
                f"version {FORMAT_VERSION}"
            )
        return state

    def _unreadable(self, why: str) -> BackendError:
        return BackendError(
            f"The local service's state {self.path} cannot be read: {why}. "
            f"Move the folder {self.folder.parent} away to start with an empty local service."
        )

    def _write(self, state: State) -> None:
        content = json.dumps(state, indent=2, sort_keys=True) + "\n"
        write_atomically(self.path, content.encode())
