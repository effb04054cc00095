"""The reconciler: the only code that changes the service and the state.

`reconcile` holds the state lock from start to end. Under it, it reads the state, loads
the specs (any finding: nothing is submitted), makes the plan against the state and the
service, and carries it out:

- each `create` is submitted with `CreateBatchSegmentJob`, and the state is written right
  after every successful create, so that a crash loses at most the job being submitted;
- `ResourceAlreadyExistsException` (our own earlier attempt whose answer was lost, or a
  run killed before it wrote the state) means: describe the job and adopt it when its
  parameters and tags match the spec, report a conflict when they do not;
- at most 5 jobs per account and region are pending or in progress. The run keeps at most
  5 of its own in flight per region, and on `LimitExceededException` waits for slots
  (polling its jobs with backoff) instead of failing. Jobs that the deadline
  (`--timeout`) leaves no slot for are *deferred*: the run exits 3 and the next run
  submits them;
- throttling and 5xx answers are retried by botocore; a create that still gets no answer
  has an unknown outcome: it is reported and not recorded, and the next run's create gets
  `ResourceAlreadyExistsException` and adopts the job if it was created;
- a job the service refuses (invalid input, a missing solution version) is reported and
  does not stop the others.

A record's `spec_digest` is the spec *file*'s digest (`JobSpec.file_digest`): whether a
file changed at all. Whether the job's spec changed is decided by `request_digest`, the
digest of the exact request sent.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from runner.backends import (
    CREATE_FAILED,
    CREATE_PENDING,
    FINAL_STATUSES,
    Backend,
    JobDescription,
    JobSummary,
    LimitExceeded,
    ResourceAlreadyExists,
    ServiceError,
    Throttled,
    Unavailable,
    normalize_status,
)
from runner.errors import ExitStatus, PlanError, StateError
from runner.findings import Finding
from runner.planner import (
    Change,
    Plan,
    PlannedJob,
    Scope,
    check_saved_plan,
    make_plan,
    request_differences,
)
from runner.spec import JobSpec, LoadResult
from runner.state import JobRecord, LockHolder, RecordedBy, State, StateStore

# Batch segment jobs pending or in progress per account and region (not adjustable).
MAX_IN_FLIGHT_PER_REGION = 5
POLL_FIRST = 2.0
POLL_MAX = 60.0
POLL_BACKOFF = 1.5


class Clock(Protocol):
    def now(self) -> datetime.datetime:
        """The time, aware, for the records."""

    def monotonic(self) -> float:
        """Seconds, for deadlines."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Result(StrEnum):
    CREATED = "created"
    ADOPTED = "adopted"
    # The service refused the job.
    FAILED = "failed"
    # A job of that name exists at the service with other parameters.
    CONFLICT = "conflict"
    # The create got no answer: the job may or may not exist; the next run settles it.
    UNKNOWN = "unknown"
    # No quota slot before the deadline: the next run submits it.
    DEFERRED = "deferred"


@dataclass(frozen=True)
class Outcome:
    name: str
    result: Result
    reason: str
    partition: str
    region: str
    account: str
    spec_file: str
    arn: str | None = None
    # The last known status, for created and adopted jobs.
    status: str | None = None
    failure_reason: str | None = None


class Listener(Protocol):
    """What a run tells while it goes: the commands show it to people."""

    def planned(self, plan: Plan) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...

    def note(self, message: str) -> None:
        """Something worth a line: waiting for quota slots, a poll that failed."""

    def status_changed(self, summary: JobSummary) -> None: ...

    def polled(self, *, final: int, total: int) -> None:
        """One round of polling is done: `final` of `total` jobs are final."""


class SilentListener:
    def planned(self, plan: Plan) -> None:
        pass

    def outcome(self, outcome: Outcome) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def status_changed(self, summary: JobSummary) -> None:
        pass

    def polled(self, *, final: int, total: int) -> None:
        pass


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    wait: bool = False
    # Seconds the run may spend waiting for quota slots and for jobs; None: no limit.
    timeout: float | None = None
    saved_plan: Plan | None = None
    git_commit: str | None = None
    max_in_flight: int = MAX_IN_FLIGHT_PER_REGION
    poll_first: float = POLL_FIRST
    poll_max: float = POLL_MAX


@dataclass(frozen=True)
class RunReport:
    findings: tuple[Finding, ...] = ()
    # None when findings stopped the run before planning.
    plan: Plan | None = None
    outcomes: tuple[Outcome, ...] = ()
    dry_run: bool = False
    waited: bool = False
    # Submitted jobs still unfinished when `--wait` reached the deadline.
    unfinished: tuple[str, ...] = ()
    state_serial: int | None = None

    def of(self, *results: Result) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.result in results)

    @property
    def exit_status(self) -> int:
        if self.findings or (self.plan is not None and self.plan.has_conflicts):
            return ExitStatus.ERROR
        if self.of(Result.FAILED, Result.CONFLICT, Result.UNKNOWN) or self.unfinished:
            return ExitStatus.ERROR
        if any(outcome.status == CREATE_FAILED for outcome in self.outcomes):
            return ExitStatus.ERROR
        if self.of(Result.DEFERRED):
            return ExitStatus.DEFERRED
        return ExitStatus.OK


def reconcile(
    *,
    store: StateStore,
    backend: Backend,
    load: Callable[[], LoadResult],
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

    with store.lock(holder=holder, timeout=lock_timeout):
        deadline = None if options.timeout is None else clock.monotonic() + options.timeout
        snapshot = store.read()
        state = None if snapshot is None else snapshot.state
        loaded = load()
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
            problems = check_saved_plan(options.saved_plan, loaded.specs, snapshot)
            if problems:
                raise PlanError(
                    "the saved plan no longer applies: "
                    + "; ".join(problems)
                    + ". Make and review a new plan (personalize-runner plan --out FILE), "
                    "then apply that one."
                )
        remote = fetch_remote_view(backend, loaded.specs, state)
        plan = make_plan(loaded.specs, snapshot, remote)
        listener.planned(plan)
        serial = None if state is None else state.serial
        if options.dry_run or plan.has_conflicts:
            return RunReport(plan=plan, dry_run=options.dry_run, state_serial=serial)
        run = _Run(
            store=store,
            backend=backend,
            state=state or State.new(),
            version=None if snapshot is None else snapshot.version,
            specs={spec.job_name: spec for spec in loaded.specs},
            options=options,
            clock=clock,
            listener=listener,
            deadline=deadline,
        )
        run.submit(plan.of(Change.CREATE, Change.ADOPT))
        unfinished: tuple[str, ...] = ()
        if options.wait:
            unfinished = run.wait()
        return RunReport(
            plan=plan,
            outcomes=tuple(sorted(run.outcomes.values(), key=lambda outcome: outcome.name)),
            waited=options.wait,
            unfinished=unfinished,
            state_serial=run.state.serial if run.version is not None else serial,
        )


class _Run:
    def __init__(
        self,
        *,
        store: StateStore,
        backend: Backend,
        state: State,
        version: str | None,
        specs: Mapping[str, JobSpec],
        options: Options,
        clock: Clock,
        listener: Listener,
        deadline: float | None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.state = state
        self.version = version
        self.specs = specs
        self.options = options
        self.clock = clock
        self.listener = listener
        self.deadline = deadline
        self.outcomes: dict[str, Outcome] = {}
        # This run's jobs that are pending or in progress, per scope: name → ARN.
        self.in_flight: dict[Scope, dict[str, str]] = {}

    # Submitting

    def submit(self, jobs: Sequence[PlannedJob]) -> None:
        queues: dict[Scope, list[PlannedJob]] = {}
        for job in jobs:
            queues.setdefault(job.scope, []).append(job)
        delay = self.options.poll_first
        # Scopes that answered LimitExceeded since the last wait: their slots are taken by
        # jobs that are not this run's.
        full: set[Scope] = set()
        while any(queues.values()):
            progressed = False
            for scope, queue in queues.items():
                while queue and scope not in full and self._has_slot(scope):
                    job = queue[0]
                    if job.change is Change.ADOPT:
                        self._adopt(job, reason="existed at the service")
                    elif not self._create(job):
                        full.add(scope)
                        break
                    queue.pop(0)
                    progressed = True
            if progressed:
                delay = self.options.poll_first
                continue
            if not any(queues.values()):
                break
            if self._past_deadline():
                for queue in queues.values():
                    for job in queue:
                        self._defer(job)
                return
            waiting = [scope for scope, queue in queues.items() if queue]
            self.listener.note(
                "waiting for quota slots in "
                + ", ".join(f"{region} ({account})" for _, region, account in waiting)
                + f": at most {self.options.max_in_flight} batch segment jobs may be pending "
                "or in progress per region"
            )
            self._sleep(delay)
            delay = min(delay * POLL_BACKOFF, self.options.poll_max)
            full.clear()
            self._poll_in_flight()

    def _has_slot(self, scope: Scope) -> bool:
        return len(self.in_flight.get(scope, {})) < self.options.max_in_flight

    def _create(self, job: PlannedJob) -> bool:
        """Submit `job`; False when the quota refused it (try again later)."""
        spec = self.specs[job.name]
        try:
            arn = self.backend.create_job(spec.request)
        except ResourceAlreadyExists:
            self._adopt(job, reason="already existed at the service (an earlier attempt)")
            return True
        except LimitExceeded:
            return False
        except (Throttled, Unavailable) as error:
            self._finish(
                job,
                Result.UNKNOWN,
                f"the service did not answer ({error}): the job may or may not have been "
                "created; the next reconcile adopts it if it was, or submits it",
            )
            return True
        except ServiceError as error:
            self._finish(job, Result.FAILED, f"the service refused the job: {error}")
            return True
        record = self._new_record(spec, arn, recorded_by="created", status=CREATE_PENDING)
        self._record(record, created=True)
        self.in_flight.setdefault(job.scope, {})[job.name] = arn
        self._finish(job, Result.CREATED, "submitted", arn=arn, status=CREATE_PENDING)
        return True

    def _adopt(self, job: PlannedJob, *, reason: str) -> None:
        spec = self.specs[job.name]
        arn = job_arn(spec)
        try:
            description = self.backend.describe_job(arn)
            tags = self.backend.list_tags(arn)
        except ServiceError as error:
            self._finish(
                job,
                Result.UNKNOWN,
                f"{reason}, but describing it failed ({error}); the next reconcile tries again",
                arn=arn,
            )
            return
        differences = request_differences(
            spec.request,
            description.request,
            [(tag["tagKey"], tag["tagValue"]) for tag in tags],
        )
        if differences:
            self._finish(
                job,
                Result.CONFLICT,
                "a job of this name exists at the service with other parameters ("
                + "; ".join(differences)
                + "); give this spec another jobName",
                arn=arn,
                status=description.summary.status,
            )
            return
        summary = description.summary
        record = self._new_record(
            spec,
            summary.arn,
            recorded_by="adopted",
            status=normalize_status(summary.status),
            description=description,
        )
        self._record(record, created=False)
        if record.status not in FINAL_STATUSES:
            self.in_flight.setdefault(job.scope, {})[job.name] = record.arn
        self._finish(
            job,
            Result.ADOPTED,
            f"{reason} with the same parameters: recorded, not submitted again",
            arn=record.arn,
            status=record.status,
            failure_reason=record.failure_reason,
        )

    def _defer(self, job: PlannedJob) -> None:
        self._finish(
            job,
            Result.DEFERRED,
            f"not submitted: no quota slot in {job.region} before the deadline "
            f"(--timeout {self.options.timeout:g}s); the next reconcile submits it",
        )

    def _new_record(
        self,
        spec: JobSpec,
        arn: str,
        *,
        recorded_by: RecordedBy,
        status: str,
        description: JobDescription | None = None,
    ) -> JobRecord:
        now = self.clock.now()
        summary = None if description is None else description.summary
        return JobRecord(
            name=spec.job_name,
            arn=arn,
            partition=spec.partition,
            region=spec.region,
            account=spec.account,
            spec_file=spec.file,
            spec_digest=spec.file_digest,
            request_digest=spec.request_digest,
            git_commit=self.options.git_commit,
            submitted_at=(summary.created_at if summary and summary.created_at else now),
            recorded_by=recorded_by,
            status=status,
            created_at=None if summary is None else summary.created_at,
            updated_at=None if summary is None else summary.updated_at,
            failure_reason=None if summary is None else summary.failure_reason,
            status_checked_at=None if summary is None else now,
        )

    def _record(self, record: JobRecord, *, created: bool) -> None:
        state = self.state.with_job(record)
        try:
            self.version = self.store.write(state, expected=self.version)
        except StateError as error:
            what = "was created" if created else "exists"
            raise type(error)(
                f"{error} The job {record.name} {what} at the service ({record.arn}) but "
                "is not recorded: the next reconcile adopts it."
            ) from None
        self.state = state

    def _finish(self, job: PlannedJob, result: Result, reason: str, **fields: str | None) -> None:
        outcome = Outcome(
            name=job.name,
            result=result,
            reason=reason,
            partition=job.partition,
            region=job.region,
            account=job.account,
            spec_file=job.spec_file,
            **fields,
        )
        self.outcomes[job.name] = outcome
        self.listener.outcome(outcome)

    # Following

    def _poll_in_flight(self) -> None:
        jobs = {name: arn for scope in self.in_flight.values() for name, arn in scope.items()}
        summaries = self._describe(jobs)
        for scope in self.in_flight.values():
            for name in list(scope):
                summary = summaries.get(name)
                if summary is not None and summary.status in FINAL_STATUSES:
                    del scope[name]

    def _describe(self, jobs: Mapping[str, str]) -> dict[str, JobSummary]:
        summaries, errors = describe_jobs(self.backend, jobs)
        for name, error in sorted(errors.items()):
            self.listener.note(f"{name}: could not get its status ({error}); trying again later")
        changed = [
            summary
            for name, summary in summaries.items()
            if self.state.jobs[name].status != summary.status
        ]
        for summary in changed:
            self.listener.status_changed(summary)
        new = with_statuses(self.state, summaries.values(), now=self.clock.now())
        if new is not self.state and changed:
            self.version = self.store.write(new, expected=self.version)
            self.state = new
        for name, summary in summaries.items():
            outcome = self.outcomes.get(name)
            if outcome is not None:
                self.outcomes[name] = replace(
                    outcome, status=summary.status, failure_reason=summary.failure_reason
                )
        return summaries

    def wait(self) -> tuple[str, ...]:
        """Follow this run's created and adopted jobs until final; the unfinished ones
        when the deadline comes first."""
        pending = {
            outcome.name: outcome.arn
            for outcome in self.outcomes.values()
            if outcome.result in (Result.CREATED, Result.ADOPTED)
            and outcome.arn is not None
            and outcome.status not in FINAL_STATUSES
        }
        total = len(pending)
        delay = self.options.poll_first
        while pending:
            summaries = self._describe(pending)
            for name, summary in summaries.items():
                if summary.status in FINAL_STATUSES:
                    del pending[name]
            self.listener.polled(final=total - len(pending), total=total)
            if not pending or self._past_deadline():
                break
            self._sleep(delay)
            delay = min(delay * POLL_BACKOFF, self.options.poll_max)
        return tuple(sorted(pending))

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.clock.monotonic() >= self.deadline

    def _sleep(self, seconds: float) -> None:
        if self.deadline is not None:
            seconds = max(0.0, min(seconds, self.deadline - self.clock.monotonic()))
        self.clock.sleep(seconds)


def job_arn(spec: JobSpec) -> str:
    """The ARN the service gives the spec's job."""
    return (
        f"arn:{spec.partition}:personalize:{spec.region}:{spec.account}:"
        f"batch-segment-job/{spec.job_name}"
    )


def describe_jobs(
    backend: Backend, jobs: Mapping[str, str]
) -> tuple[dict[str, JobSummary], dict[str, ServiceError]]:
    """One `DescribeBatchSegmentJob` per job (name → ARN): the summaries, and the errors."""
    summaries: dict[str, JobSummary] = {}
    errors: dict[str, ServiceError] = {}
    for name, arn in jobs.items():
        try:
            summary = backend.describe_job(arn).summary
        except ServiceError as error:
            errors[name] = error
        else:
            summaries[name] = replace(summary, status=normalize_status(summary.status))
    return summaries, errors


def with_statuses(
    state: State, summaries: Iterable[JobSummary], *, now: datetime.datetime
) -> State:
    """`state` with what the service said of its jobs (the same state if nothing changed)."""
    changed = []
    for summary in summaries:
        record = state.jobs.get(summary.name)
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


def unfinished(state: State, names: Sequence[str] = ()) -> dict[str, str]:
    """The recorded jobs (all, or those named) not in a final status: name → ARN."""
    records = [state.jobs[name] for name in names] if names else list(state.jobs.values())
    return {
        record.name: record.arn
        for record in records
        if normalize_status(record.status) not in FINAL_STATUSES
    }


def record_statuses(
    store: StateStore,
    summaries: Sequence[JobSummary],
    *,
    holder: LockHolder,
    lock_timeout: float,
    now: datetime.datetime,
) -> State | None:
    """Write what the service said of the recorded jobs, under the lock: `status` and
    `wait` do not hold it while they poll. The state written, or None if none changed."""
    if not summaries:
        return None
    with store.lock(holder=holder, timeout=lock_timeout):
        snapshot = store.read()
        if snapshot is None:
            return None
        new = with_statuses(snapshot.state, summaries, now=now)
        if new is snapshot.state:
            return None
        store.write(new, expected=snapshot.version)
        return new


def follow_jobs(
    backend: Backend,
    jobs: Mapping[str, str],
    *,
    clock: Clock,
    timeout: float | None,
    listener: Listener,
    on_update: Callable[[list[JobSummary]], None],
    poll_first: float = POLL_FIRST,
    poll_max: float = POLL_MAX,
) -> tuple[dict[str, JobSummary], tuple[str, ...]]:
    """Poll `jobs` (name → ARN, unfinished) with backoff until all are final or `timeout`
    passes: the last summaries, and the names still unfinished. Never describes a job
    again once it is final; `on_update` gets every change of status."""
    deadline = None if timeout is None else clock.monotonic() + timeout
    pending = dict(jobs)
    last: dict[str, JobSummary] = {}
    delay = poll_first
    reported: set[str] = set()
    while pending:
        summaries, errors = describe_jobs(backend, pending)
        for name, error in sorted(errors.items()):
            if name not in reported:
                reported.add(name)
                listener.note(f"{name}: could not get its status ({error}); trying again")
        changed = []
        for name, summary in summaries.items():
            before = last.get(name)
            if before is None or before.status != summary.status:
                changed.append(summary)
                listener.status_changed(summary)
            last[name] = summary
            if summary.status in FINAL_STATUSES:
                del pending[name]
        if changed:
            on_update(changed)
        listener.polled(final=len(jobs) - len(pending), total=len(jobs))
        if not pending:
            break
        remaining = None if deadline is None else deadline - clock.monotonic()
        if remaining is not None and remaining <= 0:
            break
        clock.sleep(delay if remaining is None else min(delay, remaining))
        delay = min(delay * POLL_BACKOFF, poll_max)
    return last, tuple(sorted(pending))
