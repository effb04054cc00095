"""The reconciler: the only code that changes the service and the state.

`reconcile` holds the state lock from start to end. Under it, it reads the state, loads
the specs (any finding: nothing is submitted), makes the plan against the state and the
service, and carries it out:

- each `create` is submitted with `CreateBatchSegmentJob`, and the state is written right
  after every successful create, so that a crash loses at most the job being submitted;
- `ResourceAlreadyExistsException` (our own earlier attempt whose answer was lost, or a
  run killed before it wrote the state) means: describe the job and adopt it when its
  parameters and tags match the spec, report a conflict when they do not;
- at most 5 jobs per account and region are pending or in progress. Each account and
  region is served on its own, all at once: a slot is filled as soon as a poll shows it
  free, counting the jobs in flight that the service lists, this run's or not, so that
  `LimitExceededException` is rare (and, when it comes, means: wait for the next poll).
  Jobs that the deadline (`--timeout`) leaves no slot for are *deferred*: the run exits 3
  and the next run submits them;
- throttling and 5xx answers are retried by botocore; a create that still gets no answer
  has an unknown outcome: it is reported and not recorded, and the next run's create gets
  `ResourceAlreadyExistsException` and adopts the job if it was created;
- a job the service refuses (invalid input, a missing solution version) is reported and
  does not stop the others.

A record's `spec_digest` is the spec *file*'s digest (`JobSpec.file_digest`) when the job
was recorded, or when a later run last found the file with its spec unchanged; with
`spec_index` and `spec_documents` it tells a later run that it need not parse the file
(`planner.recorded_files`). Whether the job's spec changed is decided by `request_digest`,
the digest of the exact request sent.

Polling (while slots are wanted, and with `--wait`): per account and region, one poll at a
time, each one `ListBatchSegmentJobs` call (one page of up to 100 summaries, newest first)
plus one `DescribeBatchSegmentJob` per job of this run in flight that the page does not
show (none, as long as the service lists newest first). Polls of a region are at least
`poll_first` (2 s) apart: at most 30 polls a minute per region, whatever the number of
jobs. While jobs are in flight the interval is a twentieth of the age of the oldest, within
[`poll_first`, `poll_max`] = [2 s, 60 s]: a job that runs T seconds is seen finished at
most max(2 s, T/20) late, so its slot is refilled within 5% of T (the makespan of N equal
jobs stays within 1.05x ⌈N/5⌉·T plus a poll), and a job costs no call of its own but its
create. While every slot is taken by jobs not of this run, the interval backs off from
2 s by 1.5x to 60 s. A job recorded in a final status is never asked about.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
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
from runner.backends.wire import batch_segment_job_arn
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
# The poll interval while jobs are in flight, as a fraction of the oldest one's age.
POLL_AGE_FRACTION = 0.05
# Summaries in one `ListBatchSegmentJobs` page.
LIST_PAGE = 100


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


def new_record(
    spec: JobSpec,
    arn: str,
    *,
    recorded_by: RecordedBy,
    status: str,
    description: JobDescription | None,
    git_commit: str | None,
    now: datetime.datetime,
) -> JobRecord:
    """The record of `spec`'s job, submitted (or found) as `arn`; `description` is what
    the service said of it, when it was asked."""
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
        git_commit=git_commit,
        submitted_at=(summary.created_at if summary and summary.created_at else now),
        recorded_by=recorded_by,
        status=status,
        created_at=None if summary is None else summary.created_at,
        updated_at=None if summary is None else summary.updated_at,
        failure_reason=None if summary is None else summary.failure_reason,
        status_checked_at=None if summary is None else now,
        spec_index=spec.index,
        spec_documents=spec.documents,
    )


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

    with store.lock(holder=holder, timeout=lock_timeout):
        deadline = None if options.timeout is None else clock.monotonic() + options.timeout
        snapshot = store.read()
        state = None if snapshot is None else snapshot.state
        loaded = load(state)
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
        remote = fetch_remote_view(backend, loaded.specs, state)
        plan = make_plan(loaded.specs, snapshot, remote, unchanged_files=loaded.unchanged_files)
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
            busy=remote.in_flight,
        )
        unfinished = run.carry_out(plan.of(Change.CREATE, Change.ADOPT))
        run.record_spec_files(loaded.specs)
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
        busy: Mapping[Scope, frozenset[str]] | None = None,
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
        # Jobs in flight at the service per scope, as the plan's listing found them.
        self.busy = busy or {}
        self.outcomes: dict[str, Outcome] = {}
        # The state, the outcomes and the listener are shared by the scopes' threads.
        self._lock = threading.RLock()

    # Scheduling

    def carry_out(self, jobs: Sequence[PlannedJob]) -> tuple[str, ...]:
        """Submit (or adopt) `jobs`, every account and region at once, keeping each one's
        slots full; with `--wait`, until this run's jobs are final. The jobs still
        unfinished at the deadline (with `--wait`)."""
        scopes: dict[Scope, _Scope] = {}
        for job in jobs:
            if job.scope not in scopes:
                scopes[job.scope] = _Scope(job.scope, others=0, delay=self.options.poll_first)
            scopes[job.scope].queue.append(job)
        for scope in scopes.values():
            # Jobs to adopt that are in flight count once they are adopted, as this run's.
            ours = {job.name for job in scope.queue}
            scope.others = len(self.busy.get(scope.scope, frozenset()) - ours)
        wait = self.options.wait
        pool = ThreadPoolExecutor(max_workers=min(16, len(scopes))) if len(scopes) > 1 else None
        try:
            while True:
                active = [scope for scope in scopes.values() if scope.busy(wait=wait)]
                if not active:
                    break
                if self._past_deadline():
                    for scope in active:
                        for job in scope.queue:
                            self._defer(job)
                        scope.queue.clear()
                    break
                now = self.clock.monotonic()
                due = [scope for scope in active if scope.next_at <= now]
                if not due:
                    self._sleep(min(scope.next_at for scope in active) - now)
                    continue
                if pool is None or len(due) == 1:
                    for scope in due:
                        self._tick(scope)
                else:
                    for future in [pool.submit(self._tick, scope) for scope in due]:
                        future.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        if not wait:
            return ()
        return tuple(sorted(name for scope in scopes.values() for name in scope.in_flight))

    def _tick(self, scope: _Scope) -> None:
        """Poll the scope (but the first time: the plan's listing is fresh), fill its free
        slots, and say when to come back."""
        if scope.ticks:
            self._poll(scope)
        scope.ticks += 1
        progressed = self._fill(scope)
        now = self.clock.monotonic()
        if scope.in_flight:
            age = now - min(scope.started.values())
            interval = min(
                self.options.poll_max, max(self.options.poll_first, POLL_AGE_FRACTION * age)
            )
            scope.delay = self.options.poll_first
        else:
            # Every slot is taken by jobs not of this run: nothing tells when they end.
            interval = scope.delay
            scope.delay = min(scope.delay * POLL_BACKOFF, self.options.poll_max)
        scope.next_at = now + interval
        if scope.queue and not progressed and not scope.noted:
            scope.noted = True
            _, region, account = scope.scope
            self._note(
                f"waiting for quota slots in {region} ({account}): at most "
                f"{self.options.max_in_flight} batch segment jobs may be pending or in "
                "progress per region"
            )
        elif progressed:
            scope.noted = False

    def _fill(self, scope: _Scope) -> bool:
        """Submit the scope's queued jobs while it has free slots; whether any went."""
        progressed = False
        while scope.queue:
            job = scope.queue[0]
            if job.change is not Change.ADOPT and scope.free(self.options.max_in_flight) <= 0:
                break
            if job.change is Change.ADOPT:
                arn = self._adopt(job, reason="existed at the service")
            else:
                created = self._create(job)
                if isinstance(created, _Full):
                    # Jobs the last poll did not show hold the slots: wait for the next.
                    scope.others = max(
                        scope.others, self.options.max_in_flight - len(scope.in_flight)
                    )
                    break
                arn = created
            scope.queue.popleft()
            progressed = True
            if arn is not None:
                scope.in_flight[job.name] = arn
                scope.started[job.name] = self.clock.monotonic()
        return progressed

    def _poll(self, scope: _Scope) -> None:
        """One page of the scope's listing: this run's jobs' statuses, and how many jobs
        not of this run are in flight; a describe for each of ours the page leaves out."""
        partition, region, account = scope.scope
        seen: dict[str, JobSummary] = {}
        others = 0
        try:
            listing = self.backend.list_jobs(partition=partition, region=region, account=account)
            for summary in itertools.islice(listing, LIST_PAGE):
                status = normalize_status(summary.status)
                if scope.in_flight.get(summary.name) == summary.arn:
                    seen[summary.name] = replace(summary, status=status)
                elif status not in FINAL_STATUSES:
                    others += 1
        except ServiceError as error:
            self._note(f"could not list the jobs of {region} ({account}): {error}; trying again")
            return
        scope.others = others
        missing = {name: arn for name, arn in scope.in_flight.items() if name not in seen}
        if missing:
            described, _ = self._describe(missing)
            seen.update(described)
        self._update(seen)
        for name, summary in seen.items():
            if summary.status in FINAL_STATUSES:
                del scope.in_flight[name]
                del scope.started[name]

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.clock.monotonic() >= self.deadline

    def _sleep(self, seconds: float) -> None:
        if self.deadline is not None:
            seconds = min(seconds, self.deadline - self.clock.monotonic())
        self.clock.sleep(max(0.0, seconds))

    # Submitting

    def _create(self, job: PlannedJob) -> str | _Full | None:
        """Submit `job`: its ARN, None when it is not in flight (failed, adopted final,
        …), `_FULL` when the quota refused it (try again after a poll)."""
        spec = self.specs[job.name]
        try:
            arn = self.backend.create_job(spec.request)
        except ResourceAlreadyExists:
            return self._adopt(job, reason="already existed at the service (an earlier attempt)")
        except LimitExceeded:
            return _FULL
        except (Throttled, Unavailable) as error:
            self._finish(
                job,
                Result.UNKNOWN,
                f"the service did not answer ({error}): the job may or may not have been "
                "created; the next reconcile adopts it if it was, or submits it",
            )
            return None
        except ServiceError as error:
            self._finish(job, Result.FAILED, f"the service refused the job: {error}")
            return None
        record = self._new_record(spec, arn, recorded_by="created", status=CREATE_PENDING)
        self._record(record, created=True)
        self._finish(job, Result.CREATED, "submitted", arn=arn, status=CREATE_PENDING)
        return arn

    def _adopt(self, job: PlannedJob, *, reason: str) -> str | None:
        """Record the existing job if it matches the spec: its ARN if it is in flight."""
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
            return None
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
            return None
        summary = description.summary
        record = self._new_record(
            spec,
            summary.arn,
            recorded_by="adopted",
            status=normalize_status(summary.status),
            description=description,
        )
        self._record(record, created=False)
        self._finish(
            job,
            Result.ADOPTED,
            f"{reason} with the same parameters: recorded, not submitted again",
            arn=record.arn,
            status=record.status,
            failure_reason=record.failure_reason,
        )
        return None if record.status in FINAL_STATUSES else record.arn

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
        return new_record(
            spec,
            arn,
            recorded_by=recorded_by,
            status=status,
            description=description,
            git_commit=self.options.git_commit,
            now=self.clock.now(),
        )

    def _record(self, record: JobRecord, *, created: bool) -> None:
        with self._lock:
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

    def record_spec_files(self, specs: Iterable[JobSpec]) -> None:
        """Bring the records of the specs parsed this run up to date with their files
        (digest, index, count of documents), so that the next run need not parse a file
        whose every document is recorded. One write, only if a record changes."""
        with self._lock:
            if self.version is None:
                return
            updated = []
            for spec in specs:
                record = self.state.jobs.get(spec.job_name)
                if record is None or record.request_digest != spec.request_digest:
                    continue
                where = (spec.file, spec.file_digest, spec.index, spec.documents)
                if (
                    record.spec_file,
                    record.spec_digest,
                    record.spec_index,
                    record.spec_documents,
                ) != where:
                    updated.append(
                        replace(
                            record,
                            spec_file=spec.file,
                            spec_digest=spec.file_digest,
                            spec_index=spec.index,
                            spec_documents=spec.documents,
                        )
                    )
            if updated:
                state = self.state.with_jobs(updated)
                self.version = self.store.write(state, expected=self.version)
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
        with self._lock:
            self.outcomes[job.name] = outcome
            self.listener.outcome(outcome)

    def _note(self, message: str) -> None:
        with self._lock:
            self.listener.note(message)

    # Following

    def _describe(
        self, jobs: Mapping[str, str]
    ) -> tuple[dict[str, JobSummary], dict[str, ServiceError]]:
        summaries, errors = describe_jobs(self.backend, jobs)
        for name, error in sorted(errors.items()):
            self._note(f"{name}: could not get its status ({error}); trying again later")
        return summaries, errors

    def _update(self, summaries: Mapping[str, JobSummary]) -> None:
        """Record what the service said of this run's jobs, and tell the listener."""
        with self._lock:
            changed = [
                summary
                for name, summary in sorted(summaries.items())
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
            if self.options.wait and changed:
                final = sum(
                    outcome.status in FINAL_STATUSES
                    for outcome in self.outcomes.values()
                    if outcome.result in (Result.CREATED, Result.ADOPTED)
                )
                total = sum(
                    outcome.result in (Result.CREATED, Result.ADOPTED)
                    for outcome in self.outcomes.values()
                )
                self.listener.polled(final=final, total=total)


class _Full:
    """The quota refused a create."""


_FULL = _Full()


@dataclass
class _Scope:
    """One account and region: its queue, and this run's jobs in flight there."""

    scope: Scope
    # Jobs in flight at the service that are not this run's, as last listed.
    others: int
    # The interval while only others' jobs hold the slots (backing off).
    delay: float
    queue: deque[PlannedJob] = field(default_factory=deque)
    # This run's jobs pending or in progress: name → ARN, and when (monotonic) they went.
    in_flight: dict[str, str] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    next_at: float = float("-inf")
    ticks: int = 0
    noted: bool = False

    def free(self, limit: int) -> int:
        return limit - len(self.in_flight) - self.others

    def busy(self, *, wait: bool) -> bool:
        return bool(self.queue) or (wait and bool(self.in_flight))


def job_arn(spec: JobSpec) -> str:
    """The ARN the service gives the spec's job."""
    return batch_segment_job_arn(spec.request["solutionVersionArn"], spec.job_name)


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
