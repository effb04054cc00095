"""What a run tells: its outcome per job and its report (values), and the listener that
hears of them as they happen."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from runner.backends import ACTIVE, IN_FLIGHT_STATUSES, JobSummary
from runner.errors import ExitStatus
from runner.findings import Finding
from runner.kinds import BATCH_SEGMENT_JOB, JobKind
from runner.planner import Plan


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
    kind: JobKind = BATCH_SEGMENT_JOB

    @property
    def key(self) -> str:
        """The job's key among jobs of every kind (`JobKind.key`)."""
        return self.kind.key(self.name)


# The statuses of a created or adopted job that do not fail the run (None: not polled).
_NOT_FAILED = frozenset({None, ACTIVE, *IN_FLIGHT_STATUSES})


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
    def failures(self) -> tuple[Outcome, ...]:
        """The jobs that fail the run: refused, unanswered, in conflict, CREATE FAILED, or
        seen vanished or in a status no batch job has."""
        return tuple(
            outcome
            for outcome in self.outcomes
            if outcome.result in (Result.FAILED, Result.CONFLICT, Result.UNKNOWN)
            or outcome.status not in _NOT_FAILED
        )

    @property
    def exit_status(self) -> int:
        if self.findings or (self.plan is not None and self.plan.has_conflicts):
            return ExitStatus.ERROR
        if self.failures or self.unfinished:
            return ExitStatus.ERROR
        if self.of(Result.DEFERRED):
            return ExitStatus.DEFERRED
        return ExitStatus.OK


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
