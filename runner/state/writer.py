"""The one way the state changes: under the store's lock, each change a compare-and-swap
from the version this writer last read or wrote.

`reconcile` writes through a `StateWriter` as it submits and follows jobs; `status` and
`wait` record what the service said through one (`record_statuses`); so do
`state import`, `forget` and `migrate`.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import StateError
from runner.kinds import kind_of_arn
from runner.state.model import State
from runner.state.record import JobRecord
from runner.state.store import LockBusy, LockHolder, Snapshot, StateStore

if TYPE_CHECKING:
    from runner.backends import JobSummary


class StateWriter:
    """The state as this run last read or wrote it, and the way to change it."""

    def __init__(self, store: StateStore, snapshot: Snapshot | None) -> None:
        self.store = store
        # A state to start from when there is none yet (written only with a change).
        self.state = State.new() if snapshot is None else snapshot.state
        # The version of the state last read or written; None: there is no state yet.
        self.version = None if snapshot is None else snapshot.version
        # The state being written, until the store's answer is noted (`stored`).
        self._writing: State | None = None

    @property
    def exists(self) -> bool:
        """Whether there is a stored state (read, or written by this writer)."""
        return self.version is not None

    def write(self, state: State) -> None:
        """Store `state` in place of the one this writer holds: `StateConflict` if another
        run wrote meanwhile, `StateError` if the reader would not read it back (nothing is
        written then), or if a record's new spec file is outside the repository."""
        changes = state.changes_since(self.state)
        _check_spec_files(
            (
                record
                for key, record in (state.jobs if changes is None else changes).items()
                if record is not None
                and (
                    (before := self.state.jobs.get(key)) is None
                    or before.spec_file != record.spec_file
                )
            ),
            doing=f"refusing to write {self.store.describe()}",
        )
        state.check_readable(where=self.store.describe(), since=self.state)
        self._writing = state
        self.version = self.store.write(state, expected=self.version)
        self.state = state
        self._writing = None

    def stored(self) -> State:
        """The state as stored, as far as this run can tell, when a signal stopped it: the
        one last written, or, if the signal cut a write short (it may land after the store
        wrote and before the writer noted it), the one the store holds now, read again."""
        if self._writing is None:
            return self.state
        try:
            snapshot = self.store.read()
        except Exception:
            # Stopping: a state that cannot be read now leaves those jobs unknown, as the
            # run says; the next run settles them.
            return self.state
        return self.state if snapshot is None else snapshot.state

    def check_ahead(self, records: Iterable[JobRecord]) -> None:
        """Before the first create: prove that the records a run means to write can be
        written, and read back (`StateError` otherwise), and that the store can be written
        under the lock this run holds (`StateStore.check_writable`)."""
        records = list(records)
        if not records:
            # Nothing to submit: what is written later (statuses, digests) proves itself.
            return
        _check_spec_files(records, doing="refusing to submit anything")
        self.state.with_jobs(records).check_readable(where=self.store.describe(), since=self.state)
        self.store.check_writable()


@contextlib.contextmanager
def changing(store: StateStore, *, holder: LockHolder, timeout: float) -> Iterator[StateWriter]:
    """Hold the state lock for the block, and give a writer of the state read under it."""
    with store.lock(holder=holder, timeout=timeout):
        yield StateWriter(store, store.read())


def _check_spec_files(records: Iterable[JobRecord], *, doing: str) -> None:
    for record in records:
        problem = spec_file_problem(record.spec_file)
        if problem is not None:
            raise StateError(
                f"{doing}: the state records each job's spec file relative to the repository "
                f"root, and {record.spec_file} ({record.name}) {problem}. Keep the specs "
                "inside the repository (--specs, personalize-runner.yaml) and name their "
                "files without backslashes."
            )


def spec_file_problem(spec_file: str) -> str | None:
    """What keeps `spec_file` from being a path inside the repository, relative to its
    root with `/` (None: nothing)."""
    if "\\" in spec_file:
        return "has a backslash in its name"
    if spec_file.startswith("/") or (len(spec_file) > 1 and spec_file[1] == ":"):
        return "is an absolute path, outside the repository"
    parts = spec_file.split("/")
    if ".." in parts:
        return "is outside the repository root"
    if "" in parts or "." in parts:
        return "is not a normalized path"
    return None


def with_statuses(
    state: State, summaries: Iterable[JobSummary], *, now: datetime.datetime
) -> State:
    """`state` with what the service said of its jobs (the same state if nothing changed)."""
    changed = []
    for summary in summaries:
        record = state.jobs.get(kind_of_arn(summary.arn).key(summary.name))
        if record is None or record.arn != summary.arn:
            continue
        updated = replace(
            record,
            status=summary.status,
            created_at=summary.created_at or record.created_at,
            updated_at=summary.updated_at or record.updated_at,
            failure_reason=summary.failure_reason,
            status_checked_at=now,
        )
        if updated != record:
            changed.append(updated)
    return state.with_jobs(changed)


def record_statuses(
    store: StateStore,
    summaries: Sequence[JobSummary],
    *,
    holder: LockHolder,
    lock_timeout: float,
    now: datetime.datetime,
    if_busy: Callable[[str], None] | None = None,
) -> State | None:
    """Write what the service said of the recorded jobs, under the lock: `status` and
    `wait` do not hold it while they poll. The state written, or None if none changed.

    With `if_busy`, a lock that is not free within `lock_timeout` is no error: nothing is
    written, and `if_busy` hears why (the holder records the statuses itself when it
    polls); `status --refresh`, which only looks, passes it."""
    if not summaries:
        return None
    try:
        with changing(store, holder=holder, timeout=lock_timeout) as writer:
            if not writer.exists:
                return None
            new = with_statuses(writer.state, summaries, now=now)
            if new is writer.state:
                return None
            writer.write(new)
            return new
    except LockBusy as error:
        if if_busy is None:
            raise
        if_busy(
            f"note: the statuses shown were not written to {store.describe()}: its lock is "
            f"busy ({error.holder}); the run that holds it records them when it polls."
        )
        return None
