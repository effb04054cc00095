"""`personalize-runner status`: the recorded jobs and their last known status.

With --refresh, the jobs that are not final are polled as `reconcile` polls them (one
list page per kind, account and region, a describe only for a job the page leaves out;
never a final job) and what the service says is written to the state, under its lock; if
another run holds the lock, the statuses are shown and not written (status exits 0).
`--timeout` (60 s) bounds the refresh, every call to the service and to the state store and
their retries included: a service that does not answer leaves the statuses as recorded,
with a note; a store that does not answer in time ends the command (exit 1), the statuses
learnt shown and said not to be written.
"""

from __future__ import annotations

import datetime
import sys
import time

from runner.commands.common import opened_backend
from runner.config import Settings
from runner.errors import ExitStatus
from runner.output.terminal import wants_color
from runner.output.writers import writer
from runner.reconcile.poller import dropped_note, listing_failed, poll_all, unfinished
from runner.state import LockHolder, State, open_store
from runner.state.store import StoreTimedOut
from runner.state.writer import record_statuses, with_statuses

# `status` only looks: it records what it learnt if the lock is free, and does not wait
# for a run that holds it (that run records the statuses itself).
LOCK_TIMEOUT = 0.0
# What `--refresh` may spend asking the service (`--timeout`): every call, its retries
# included, ends before it; a job whose answer did not come in time keeps its status.
REFRESH_TIMEOUT = 60.0


def run(
    settings: Settings, *, refresh: bool, output_format: str, timeout: float = REFRESH_TIMEOUT
) -> int:
    # With --refresh, one deadline for the command: the state store's calls and the
    # service's (their timeouts and retries).
    deadline = time.monotonic() + timeout if refresh else None
    store = open_store(settings.state, deadline=deadline)
    snapshot = store.read()
    state = None if snapshot is None else snapshot.state
    if refresh and state is not None:
        jobs = unfinished(state)
        if jobs:
            with opened_backend(settings, deadline=deadline) as backend:
                polled = poll_all(backend, jobs)
            for group, error in polled.failed.items():
                sys.stderr.write(f"{listing_failed(group, error)}\n")
            for name, error in sorted(polled.errors.items()):
                sys.stderr.write(f"{name}: could not get its status: {error}\n")
            for name, summary in sorted(polled.dropped.items()):
                sys.stderr.write(f"{dropped_note(name, summary)}\n")
            now = _now()
            try:
                written = record_statuses(
                    store,
                    [polled.seen[name] for name in sorted(polled.seen)],
                    holder=LockHolder.current(),
                    lock_timeout=LOCK_TIMEOUT,
                    now=now,
                    if_busy=lambda note: print(note, file=sys.stderr),
                )
            except StoreTimedOut as error:
                # The store did not answer in time (issue 10): what the service said is
                # shown, and the next refresh records it.
                state = with_statuses(state, polled.seen.values(), now=now)
                _show(state, output_format)
                sys.stderr.write(
                    f"error: the statuses shown were not written to {store.describe()}: {error}\n"
                )
                return ExitStatus.ERROR
            state = written or state
    _show(state, output_format)
    return ExitStatus.OK


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _show(state: State | None, output_format: str) -> None:
    sys.stdout.write(writer("status", output_format)(state, color=wants_color(sys.stdout)))
