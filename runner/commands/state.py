"""`personalize-runner state …`: look at the recorded jobs and repair the state by hand.

`list` and `show` read; `import` adopts an existing job after checking it against its spec;
`forget` removes a record; `migrate` copies a local state into S3 once; `unlock` removes
the lock of a run that died. Every change is a compare-and-swap under the state lock.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from runner.config import Settings
from runner.errors import ConfigError, ExitStatus, LockError, StateError, UserError
from runner.output.writers import writer
from runner.state import JobRecord, LockHolder, Snapshot, State, StateStore, open_store
from runner.state.writer import StateWriter, changing
from runner.times import UTC

if TYPE_CHECKING:
    from runner.backends import Backend, JobDescription
    from runner.spec import JobSpec
    from runner.state.s3 import LockInfo

Confirm = Callable[[str], bool]


class ImportMismatch(UserError):
    """The job at the service is not the one its spec asks for."""


@runtime_checkable
class _RemovableLock(Protocol):
    """A store whose lock is an object that outlives a run that dies (S3)."""

    def lock_info(self) -> LockInfo | None: ...

    def unlock(self, lock_id: str) -> LockInfo: ...


def ask(question: str) -> bool:
    """Ask on stderr, read the answer from stdin: yes only on `y` or `yes`."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def list_jobs(settings: Settings, *, output_format: str = "text") -> int:
    store = open_store(settings.state)
    snapshot = store.read()
    render = writer("state list", output_format)
    sys.stdout.write(render(store, None if snapshot is None else snapshot.state))
    return ExitStatus.OK


def show(settings: Settings, *, job: str, output_format: str = "text") -> int:
    store = open_store(settings.state)
    record = _record(store, _state(store.read()), job)
    sys.stdout.write(writer("state show", output_format)(record))
    return ExitStatus.OK


def import_job(
    settings: Settings,
    *,
    job: str,
    lock_timeout: float = 60.0,
    backend: Backend | None = None,
) -> int:
    spec = _find_spec(settings, job)
    store = open_store(settings.state)
    _check_not_recorded(store, _state(store.read()), job)
    with contextlib.ExitStack() as stack:
        if backend is None:
            from runner.commands.common import opened_backend

            backend = stack.enter_context(opened_backend(settings))
        description, differences = _check_job(backend, spec)
    if differences:
        lines = "\n".join(f"  {line}" for line in differences)
        raise ImportMismatch(
            f"cannot import {job}: the job {description.summary.arn} differs from its spec "
            f"{spec.location}:\n{lines}\nJobs cannot be changed: restore the spec to what the "
            "job was created with, or give the spec a new jobName (reconcile then submits it)."
        )
    from runner.commands.common import git_commit
    from runner.state import new_record

    summary = description.summary
    record = new_record(
        spec,
        summary.arn,
        recorded_by="imported",
        status=summary.status,
        description=description,
        git_commit=git_commit(settings.root),
        now=datetime.datetime.now(UTC),
    )
    command = f"personalize-runner state import {job}"
    with _changing(store, command=command, timeout=lock_timeout) as change:
        _check_not_recorded(store, change.state if change.exists else None, job)
        change.write(change.state.with_job(record))
    print(f"Imported {job} ({summary.arn}, {summary.status}) into {store.describe()}.")
    return ExitStatus.OK


def forget(
    settings: Settings,
    *,
    job: str,
    yes: bool = False,
    lock_timeout: float = 60.0,
    confirm: Confirm = ask,
) -> int:
    store = open_store(settings.state)
    record = _record(store, _state(store.read()), job)
    question = (
        f"Forget {job} ({record.arn}, {record.status})? The job itself stays at the service; "
        "while its spec exists, reconcile will find it by name and adopt it again."
    )
    if not yes and not confirm(question):
        print("Nothing forgotten.", file=sys.stderr)
        return ExitStatus.ERROR
    command = f"personalize-runner state forget {job}"
    with _changing(store, command=command, timeout=lock_timeout) as change:
        record = _record(store, change.state if change.exists else None, job)
        change.write(change.state.without_job(job))
    print(f"Forgot {job} ({record.arn}) in {store.describe()}.")
    return ExitStatus.OK


def migrate(settings: Settings, *, to: str, lock_timeout: float = 60.0) -> int:
    if "://" not in to:
        raise ConfigError(
            f"state migrate --to {to}: give the new location as s3://bucket/key; the state "
            "is copied from --state (a local file)."
        )
    source = open_store(settings.state)
    target = open_store(to)
    if target.location == source.location or "://" in source.location:
        raise ConfigError(
            f"state migrate: --state {settings.state} must be a local state file, to be copied "
            f"to {to}."
        )
    command = f"personalize-runner state migrate --to {to}"
    # The source stays locked until the copy is written: no run changes it meanwhile.
    with _changing(source, command=command, timeout=lock_timeout) as copied:
        if not copied.exists:
            raise StateError(
                f"state migrate: {source.describe()} does not exist: there is nothing to copy. "
                "Give the local state with --state."
            )
        existing = target.read()
        if existing is not None:
            raise StateError(
                f"state migrate: {target.describe()} exists already (serial "
                f"{existing.state.serial}, lineage {existing.state.lineage}): refusing to "
                "overwrite it. It was migrated already, or another state lives there; use it "
                "with --state, or pick another key."
            )
        with _changing(target, command=command, timeout=lock_timeout) as new:
            # Compare-and-swap from no state: a state created since is not overwritten.
            new.write(copied.state)
    state = copied.state
    count = len(state.jobs)
    print(
        f"Copied {source.describe()} (serial {state.serial}, {count} "
        f"job{'' if count == 1 else 's'}) to {target.describe()}.\n"
        f"Use it from now on: set `state: {to}` in personalize-runner.yaml (or pass "
        f"--state {to}), then remove {source.location}, which is no longer updated."
    )
    return ExitStatus.OK


def unlock(settings: Settings, *, lock_id: str, yes: bool = False, confirm: Confirm = ask) -> int:
    store = open_store(settings.state)
    if not isinstance(store, _RemovableLock):
        raise LockError(
            f"{store.describe()} is locked with flock, which the system releases as soon as "
            "the run holding it exits, however it exits: there is no lock to remove."
        )
    current = store.lock_info()
    if current is None:
        raise LockError(f"{store.describe()} is not locked: there is nothing to remove.")
    if current.lock_id == lock_id and not yes:
        question = (
            f"Remove the lock {lock_id} of {store.describe()}, held by {current.describe()}? "
            "Do this only if that run is no longer running: two runs at once could submit "
            "a job twice."
        )
        if not confirm(question):
            print("The lock stays.", file=sys.stderr)
            return ExitStatus.ERROR
    removed = store.unlock(lock_id)
    print(f"Removed the lock {lock_id} of {store.describe()} (held by {removed.describe()}).")
    return ExitStatus.OK


def _find_spec(settings: Settings, job: str) -> JobSpec:
    from runner.commands.common import load

    result = load(settings)
    for spec in result.specs:
        # A job of another kind than batch segment jobs is named by its key:
        # `batch-inference-job/<jobName>` (`JobKind.key`).
        if spec.key == job:
            return spec
    problems = ""
    if result.findings:
        problems = (
            f" ({len(result.findings)} finding{'' if len(result.findings) == 1 else 's'} in "
            "the specs: run `personalize-runner lint`, the spec may be among them)"
        )
    raise StateError(
        f"cannot import {job}: no valid spec under {settings.specs} has jobName {job}"
        f"{problems}. A job is imported against its spec: write the spec first, with the "
        "parameters the job was created with."
    )


def _check_job(backend: Backend, spec: JobSpec) -> tuple[JobDescription, list[str]]:
    """The job at the service, and how it differs from `spec` (as `reconcile` adopts)."""
    from runner.backends import KNOWN_STATUSES, ResourceNotFound, ServiceError
    from runner.planner import request_differences

    arn = spec.job_arn
    try:
        description = backend.describe_job(spec.kind, arn)
        tags = backend.list_tags(arn) if spec.request.get("tags") else []
    except ResourceNotFound:
        raise StateError(
            f"cannot import {spec.job_name}: there is no job {arn} at the {backend.name} "
            f"backend (account {spec.account}, region {spec.region}). Nothing to import: "
            "`reconcile` submits it."
        ) from None
    except ServiceError as error:
        raise StateError(
            f"cannot import {spec.job_name}: describing {arn} failed: {error}"
        ) from None
    status = description.summary.status
    if status not in KNOWN_STATUSES:
        # Never recorded as if it were right (issue 10).
        raise StateError(
            f"cannot import {spec.job_name}: the service reports its status as {status!r}, "
            "which no batch job has; try again later"
        )
    differences = request_differences(
        spec.kind,
        spec.request,
        description.request,
        [(tag["tagKey"], tag["tagValue"]) for tag in tags],
    )
    return description, differences


def _check_not_recorded(store: StateStore, state: State | None, job: str) -> None:
    if state is not None and job in state.jobs:
        record = state.jobs[job]
        raise StateError(
            f"{job} is recorded already in {store.describe()} ({record.arn}, "
            f"{record.recorded_by}): there is nothing to import."
        )


def _record(store: StateStore, state: State | None, job: str) -> JobRecord:
    if state is None:
        raise StateError(f"{store.describe()} does not exist: no job is recorded.")
    record = state.jobs.get(job)
    if record is None:
        close = difflib.get_close_matches(job, list(state.jobs), n=1)
        hint = f" Did you mean {close[0]}?" if close else " `state list` shows the recorded jobs."
        raise StateError(f"{store.describe()} has no job {job}.{hint}")
    return record


def _changing(
    store: StateStore, *, command: str, timeout: float
) -> contextlib.AbstractContextManager[StateWriter]:
    """The state lock, and the writer every change goes through (as `reconcile`'s)."""
    return changing(store, holder=LockHolder.current(command=command), timeout=timeout)


def _state(snapshot: Snapshot | None) -> State | None:
    return None if snapshot is None else snapshot.state
