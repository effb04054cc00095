"""`personalize-runner wait [JOB ...]`: poll until the jobs are final.

Only unfinished jobs are polled, as `reconcile` polls them (`runner.reconcile.poller`: one
list page per kind, account and region and poll, a describe only for a job the page leaves
out); every change of status is written to the state under its lock (not held while
polling, so that a reconcile can run meanwhile).
Exit 0 when all are ACTIVE, 1 when any is CREATE FAILED or still running at --timeout.
"""

from __future__ import annotations

import sys

from runner.backends import ACTIVE, CREATE_FAILED, JobSummary
from runner.commands.common import opened_backend
from runner.config import Settings
from runner.errors import ConfigError, ExitStatus
from runner.output.progress import ConsoleListener
from runner.reconcile.poller import SystemClock, follow_jobs, unfinished
from runner.state import LockHolder, open_store
from runner.state.writer import record_statuses

# `wait` follows jobs and records what it sees when the lock is free; it does not wait for
# a run that holds it (that run records the statuses itself).
LOCK_TIMEOUT = 0.0


def run(settings: Settings, *, jobs: list[str], timeout: float) -> int:
    if timeout < 0:
        raise ConfigError(f"--timeout {timeout:g}: give a number of seconds, 0 or more")
    store = open_store(settings.state)
    snapshot = store.read()
    if snapshot is None:
        if jobs:
            raise ConfigError(
                f"no job named {jobs[0]!r} is recorded: there is no state yet "
                f"({store.describe()}); run `personalize-runner reconcile` first"
            )
        sys.stdout.write("No jobs recorded.\n")
        return ExitStatus.OK
    state = snapshot.state
    missing = [name for name in jobs if name not in state.jobs]
    if missing:
        raise ConfigError(
            f"no job named {', '.join(repr(name) for name in missing)} is recorded in "
            f"{store.describe()}; `personalize-runner status` lists the recorded jobs"
        )
    names = list(dict.fromkeys(jobs)) or sorted(state.jobs)
    pending = unfinished(state, names)
    failed = [name for name in names if state.jobs[name].status == CREATE_FAILED]
    clock = SystemClock()
    listener = ConsoleListener(sys.stdout, show_plan=False)

    busy: list[str] = []

    def once(note: str) -> None:
        if not busy:
            busy.append(note)
            print(note, file=sys.stderr)

    def on_update(summaries: list[JobSummary]) -> None:
        record_statuses(
            store,
            summaries,
            holder=LockHolder.current(),
            lock_timeout=LOCK_TIMEOUT,
            now=clock.now(),
            if_busy=once,
        )

    left: tuple[str, ...] = ()
    if pending:
        try:
            with opened_backend(settings) as backend:
                last, left = follow_jobs(
                    backend,
                    pending,
                    clock=clock,
                    timeout=timeout,
                    listener=listener,
                    on_update=on_update,
                )
        finally:
            listener.close()
        failed += [name for name, summary in last.items() if summary.status == CREATE_FAILED]
    active = len(names) - len(failed) - len(left)
    parts = [f"{active} {ACTIVE}"]
    if failed:
        parts.append(f"{len(failed)} {CREATE_FAILED} ({', '.join(sorted(failed))})")
    if left:
        parts.append(f"{len(left)} still running after {timeout:g}s ({', '.join(left)})")
    sys.stdout.write(f"{'; '.join(parts)}.\n")
    return ExitStatus.ERROR if failed or left else ExitStatus.OK
