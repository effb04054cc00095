"""The state: every batch segment job the runner submitted or adopted, and where it is kept.

`open_store` opens the store a `--state` names; each store is imported when opened, so
that e.g. `lint` never imports boto3. Every change goes through `runner.state.writer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from runner.errors import ConfigError
from runner.state.codec import FORMAT_VERSION
from runner.state.model import State
from runner.state.record import JobRecord, RecordedBy, new_record
from runner.state.store import LockHolder, Snapshot, StateConflict, StateStore

__all__ = [
    "FORMAT_VERSION",
    "STORES",
    "JobRecord",
    "LockHolder",
    "RecordedBy",
    "Snapshot",
    "State",
    "StateConflict",
    "StateStore",
    "new_record",
    "open_store",
]


def _open_file(location: str, *, deadline: float | None = None) -> StateStore:
    from runner.state.file import FileStateStore

    # Local calls: the lock wait is the store's only wait, bounded by its timeout.
    return FileStateStore(location)


def _open_s3(location: str, *, deadline: float | None = None) -> StateStore:
    from runner.state.s3 import open_s3_store

    return open_s3_store(location, deadline=deadline)


class Opener(Protocol):
    def __call__(self, location: str, *, deadline: float | None = None) -> StateStore: ...


# A URL scheme (a plain path is "file") to the store that opens it, given what follows the
# scheme and the run's deadline (a `time.monotonic()` instant: `--timeout`), that every
# call to a remote store ends before (`runner.deadline`).
STORES: Mapping[str, Opener] = {
    "file": _open_file,
    "s3": _open_s3,
}


def open_store(location: str, *, deadline: float | None = None) -> StateStore:
    """The store for `--state`: a local path, or an `s3://bucket/key` URL; `deadline`
    bounds every call it makes (`STORES`)."""
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
    return opener(rest, deadline=deadline)
