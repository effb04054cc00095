"""A run of `reconcile`: the only code that changes the service and the state.

`reconcile` holds the state lock from start to end. Under it, it reads the state, loads
the specs (any finding: nothing is submitted), makes the plan against the state and the
service, and carries it out: jobs are submitted or adopted (`submit`), at most a kind's
quota (5) of them pending or in progress per account and region (`scheduler`), their
statuses polled by list pages (`poller`). `--timeout` is one deadline for the whole run: the
lock wait, every call to the service (each one's connect and read timeouts and retries end
before it) and the polling. Jobs that it leaves no quota slot, or no time, for are deferred:
the run exits 3 and the next run submits them; a create it cuts short has an unknown
outcome, settled by adoption on the next run.

A record's `spec_digest` is the spec *file*'s digest (`JobSpec.file_digest`) when the job
was recorded, or when a later run last found the file with its spec unchanged; with
`spec_index` and `spec_documents` it tells a later run that it need not parse the file
(`planner.recorded_files`). Whether the job's spec changed is decided by `request_digest`,
the digest of the exact request sent.

Polling (while slots are wanted, and with `--wait`) is the `poller`'s: per kind, account
and region, one poll at a time, each one list page plus a describe per job of this run in
flight that the page does not show; polls of a region at least 2 s apart, at most 60 s
while jobs are in flight, a twentieth of the oldest one's age in between.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner import signals
from runner.backends import CREATE_PENDING, Backend, DeadlineExceeded
from runner.errors import BackendError, PlanError
from runner.kinds import job_order
from runner.parallel import DESCRIBE_CONCURRENCY
from runner.planner import Change, Plan, make_plan
from runner.reconcile.ledger import Ledger
from runner.reconcile.poller import POLL_FIRST, POLL_MAX, Clock, SystemClock
from runner.reconcile.report import Listener, Result, RunReport, SilentListener
from runner.reconcile.scheduler import Scheduler
from runner.reconcile.submit import Submitter
from runner.recurring import at
from runner.saved_plan import check_saved_plan, plan_differences
from runner.spec import LoadResult
from runner.state import LockHolder, State, StateStore
from runner.state.writer import StateWriter


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    wait: bool = False
    # Seconds the run may spend waiting for quota slots and for jobs; None: no limit.
    timeout: float | None = None
    saved_plan: Plan | None = None
    # The saved plan's document as read: it must be the plan made now (`plan_differences`).
    saved_plan_document: Mapping[str, Any] | None = None
    git_commit: str | None = None
    # Jobs in flight per kind, account and region; None: the kind's quota.
    max_in_flight: int | None = None
    # Quotas set in `personalize-runner.yaml` (`quotas:`), by kind name, in place of the
    # kinds' defaults.
    quotas: Mapping[str, int] = field(default_factory=dict)
    poll_first: float = POLL_FIRST
    poll_max: float = POLL_MAX
    # The instant recurring specs' due periods are found at (`--now`); None: the clock.
    now: datetime.datetime | None = None
    # Describes and tag listings at once per account and region (`concurrency:`).
    describe_concurrency: int = DESCRIBE_CONCURRENCY


def reconcile(
    *,
    store: StateStore,
    backend: Backend,
    load: Callable[[State | None], LoadResult],
    options: Options,
    holder: LockHolder,
    lock_timeout: float,
    clock: Clock | None = None,
    listener: Listener | None = None,
) -> RunReport:
    """Carry out the plan for the specs `load` returns; see the module's docstring."""
    clock = clock or SystemClock()
    listener = listener or SilentListener()
    from runner.remote import fetch_remote_view
    from runner.spec.checks import check_against_state

    # One deadline for the whole run (`--timeout`, issue 10): the lock wait, the calls (the
    # backend bounds each one, retries included, by the same deadline), the polling.
    deadline = None if options.timeout is None else clock.monotonic() + options.timeout
    if options.timeout is not None:
        lock_timeout = min(lock_timeout, options.timeout)
    with store.lock(holder=holder, timeout=lock_timeout):
        snapshot = store.read()
        state = None if snapshot is None else snapshot.state
        loaded, recurring = at(load(state), options.now or clock.now())
        findings = list(loaded.findings)
        if not findings and state is not None:
            findings += check_against_state(loaded.specs, state)
        if findings:
            return RunReport(
                findings=tuple(sorted(findings, key=lambda finding: finding.sort_key)),
                dry_run=options.dry_run,
                state_serial=None if state is None else state.serial,
            )
        if options.saved_plan is not None:
            problems = check_saved_plan(
                options.saved_plan,
                loaded.specs,
                snapshot,
                unchanged_files=loaded.unchanged_files,
            )
            if problems:
                raise PlanError(
                    "the saved plan no longer applies: "
                    + "; ".join(problems)
                    + ". Make and review a new plan (personalize-runner plan --out FILE), "
                    "then apply that one."
                )
        # What the remote view describes, that adoption need not ask again (issue 11).
        described: dict[Any, Any] = {}
        try:
            remote = fetch_remote_view(
                backend,
                loaded.specs,
                state,
                concurrency=options.describe_concurrency,
                described=described,
            )
            for note in remote.notes:
                listener.note(f"warning: {note}")
        except DeadlineExceeded as error:
            raise BackendError(
                f"{error}: the run's deadline (--timeout {options.timeout:g}s) passed while "
                "asking the service what it knows of the specs' jobs; nothing was submitted. "
                "Run again, with a longer --timeout if the service is slow."
            ) from None
        plan = make_plan(
            loaded.specs,
            snapshot,
            remote,
            unchanged_files=loaded.unchanged_files,
            recurring=recurring,
        )
        if options.saved_plan_document is not None:
            # Applied only if it is the plan made now from these specs and this state, the
            # way it was made: an edited saved plan is not what was reviewed (issue 10).
            made = plan
            if not options.saved_plan_document.get("refreshed", True):
                made = make_plan(
                    loaded.specs,
                    snapshot,
                    unchanged_files=loaded.unchanged_files,
                    recurring=recurring,
                )
            differences = plan_differences(options.saved_plan_document, made)
            if differences:
                raise PlanError(
                    "the saved plan is not the plan made now from the same specs and state "
                    "(was it edited?): "
                    + "; ".join(differences)
                    + ". Nothing was submitted. Make and review a new plan "
                    "(personalize-runner plan --out FILE), then apply that one."
                )
        listener.planned(plan)
        serial = None if state is None else state.serial
        if options.dry_run or plan.has_conflicts:
            return RunReport(plan=plan, dry_run=options.dry_run, state_serial=serial)
        ledger = Ledger(
            writer=StateWriter(store, snapshot),
            clock=clock,
            listener=listener,
            git_commit=options.git_commit,
            waiting=options.wait,
        )
        submitter = Submitter(
            backend=backend,
            specs={spec.key: spec for spec in loaded.specs},
            ledger=ledger,
            timeout=options.timeout,
            concurrency=options.describe_concurrency,
            described=described,
        )
        scheduler = Scheduler(
            backend=backend,
            submitter=submitter,
            ledger=ledger,
            clock=clock,
            deadline=deadline,
            wait=options.wait,
            max_in_flight=options.max_in_flight,
            quotas=options.quotas,
            poll_first=options.poll_first,
            poll_max=options.poll_max,
        )
        to_submit = plan.of(Change.CREATE, Change.ADOPT)
        # Before the first create: the records can be written and read back (issue 10).
        ledger.writer.check_ahead(
            ledger.new_record(spec, spec.job_arn, recorded_by="created", status=CREATE_PENDING)
            for spec in (submitter.specs[job.key] for job in to_submit)
        )
        try:
            unfinished = scheduler.carry_out(to_submit, busy=remote.in_flight)
        except signals.Interrupted as error:
            raise signals.interrupted(error, unsettled=_unsettled(submitter, ledger)) from None
        ledger.record_spec_files(loaded.specs)
        return RunReport(
            plan=plan,
            outcomes=tuple(
                sorted(
                    ledger.outcomes.values(),
                    key=lambda outcome: job_order(outcome.name, outcome.kind.name),
                )
            ),
            waited=options.wait,
            unfinished=unfinished,
            state_serial=ledger.writer.state.serial if ledger.writer.exists else serial,
        )


def _unsettled(submitter: Submitter, ledger: Ledger) -> set[str]:
    """The jobs whose create was sent and whose outcome is neither recorded nor known."""
    known = {
        name for name, outcome in ledger.outcomes.items() if outcome.result is not Result.UNKNOWN
    }
    # What the store holds: a signal may land between its write and the writer's note.
    return submitter.sent - known - set(ledger.writer.stored().jobs)
