"""`personalize-runner wait [JOB ...]`: poll until the jobs are final.

Only unfinished jobs are polled, as `reconcile` polls them (`runner.reconcile.poller`: one
list page per kind, account and region and poll, a describe only for a job the page leaves
out); every change of status is written to the state under its lock (not held while
polling, so that a reconcile can run meanwhile).
`--timeout` bounds the whole command: the polling, and every call to the service and to the
state store (a store that does not answer in time ends it, exit 1, naming the call).
Exit 0 when all are ACTIVE, 1 when any is CREATE FAILED, still running at --timeout,
vanished at the service or in a status no batch job has (those two are not followed further
nor recorded: issue 10).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from runner.backends import ACTIVE, CREATE_FAILED, KNOWN_STATUSES, VANISHED, JobSummary
from runner.commands.common import opened_backend
from runner.config import Settings
from runner.errors import ConfigError, ExitStatus
from runner.kinds import KINDS, job_order, kind_of_arn
from runner.output.progress import ConsoleListener
from runner.reconcile.poller import SystemClock, follow_jobs, unfinished
from runner.state import LockHolder, State, open_store
from runner.state.writer import record_statuses

# `wait` follows jobs and records what it sees when the lock is free; it does not wait for
# a run that holds it (that run records the statuses itself).
LOCK_TIMEOUT = 0.0


def _shown(state: State, keys: Iterable[str]) -> str:
    """The jobs of `keys` for people: `promo, promo [inference]`."""
    records = sorted((state.jobs[key] for key in keys), key=lambda r: job_order(r.name, r.kind))
    return ", ".join(KINDS[record.kind].display(record.name) for record in records)


def _keys(state: State, given: str) -> list[str]:
    """The recorded jobs a JOB argument names: every job of that name, of any kind, or the
    one of a key with its kind (`batch-inference-job/<name>`, `JobKind.key`)."""
    if "/" in given:
        return [given] if given in state.jobs else []
    return sorted(key for key, record in state.jobs.items() if record.name == given)


def run(settings: Settings, *, jobs: list[str], timeout: float) -> int:
    clock = SystemClock()
    # One deadline for the command: the state store's calls, the service's, the polling.
    deadline = clock.monotonic() + timeout
    store = open_store(settings.state, deadline=deadline)
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
    keys = {given: _keys(state, given) for given in jobs}
    missing = [given for given, found in keys.items() if not found]
    if missing:
        raise ConfigError(
            f"no job named {', '.join(repr(name) for name in missing)} is recorded in "
            f"{store.describe()}; `personalize-runner status` lists the recorded jobs"
        )
    names = list(dict.fromkeys(key for found in keys.values() for key in found)) or sorted(
        state.jobs
    )
    pending = unfinished(state, names)
    failed = [name for name in names if state.jobs[name].status == CREATE_FAILED]
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
    last: dict[str, JobSummary] = {}
    if pending:
        try:
            # `--timeout` bounds the calls too (a service that does not answer, issue 10).
            with opened_backend(settings, deadline=deadline) as backend:
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
    # Dropped by the poller (issue 10): the service no longer knows them, or gives them a
    # status no batch job has; not followed further, not recorded.
    vanished = sorted(name for name, summary in last.items() if summary.status == VANISHED)
    strange = [
        f"{kind_of_arn(summary.arn).display(summary.name)}: {summary.status}"
        for _, summary in sorted(last.items())
        if summary.status not in KNOWN_STATUSES and summary.status != VANISHED
    ]
    active = len(names) - len(failed) - len(left) - len(vanished) - len(strange)
    parts = [f"{active} {ACTIVE}"]
    if failed:
        parts.append(f"{len(failed)} {CREATE_FAILED} ({_shown(state, failed)})")
    if vanished:
        parts.append(f"{len(vanished)} vanished at the service ({_shown(state, vanished)})")
    if strange:
        parts.append(f"{len(strange)} in a status no batch job has ({', '.join(strange)})")
    if left:
        parts.append(f"{len(left)} still running after {timeout:g}s ({_shown(state, left)})")
    sys.stdout.write(f"{'; '.join(parts)}.\n")
    return ExitStatus.ERROR if failed or left or vanished or strange else ExitStatus.OK
