"""What a run has done so far: the state it wrote, the outcome of each job, and what it
told the listener. Shared by the threads that serve the accounts and regions."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace

from runner.backends import IN_FLIGHT_STATUSES, JobDescription, JobSummary
from runner.errors import StateError
from runner.planner import PlannedJob
from runner.reconcile.poller import Clock, dropped_note
from runner.reconcile.report import Listener, Outcome, Result
from runner.spec import JobSpec
from runner.state import JobRecord, RecordedBy, new_record
from runner.state.writer import StateWriter, with_statuses


class Ledger:
    def __init__(
        self,
        *,
        writer: StateWriter,
        clock: Clock,
        listener: Listener,
        git_commit: str | None,
        waiting: bool,
    ) -> None:
        # The state as this run last read or wrote it.
        self.writer = writer
        self.clock = clock
        self.listener = listener
        self.git_commit = git_commit
        # With `--wait`, every change of status is counted for the listener.
        self.waiting = waiting
        self.outcomes: dict[str, Outcome] = {}
        self._lock = threading.RLock()

    def new_record(
        self,
        spec: JobSpec,
        arn: str,
        *,
        recorded_by: RecordedBy,
        status: str,
        description: JobDescription | None = None,
        solution_version_arn: str | None = None,
    ) -> JobRecord:
        return new_record(
            spec,
            arn,
            recorded_by=recorded_by,
            status=status,
            description=description,
            git_commit=self.git_commit,
            now=self.clock.now(),
            solution_version_arn=solution_version_arn,
        )

    def record(self, record: JobRecord, *, created: bool) -> None:
        """Write the state with `record`, at once: a crash loses at most the job being
        submitted."""
        with self._lock:
            try:
                self.writer.write(self.writer.state.with_job(record))
            except StateError as error:
                what = "was created" if created else "exists"
                raise type(error)(
                    f"{error} The job {record.name} {what} at the service ({record.arn}) but "
                    "is not recorded: the next reconcile adopts it."
                ) from None

    def record_spec_files(self, specs: Iterable[JobSpec]) -> None:
        """Bring the records of the specs parsed this run up to date with their files
        (digest, index, count of documents), so that the next run need not parse a file
        whose every document is recorded. One write, only if a record changes."""
        with self._lock:
            if not self.writer.exists:
                return
            updated = []
            for spec in specs:
                record = self.writer.state.jobs.get(spec.key)
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
                self.writer.write(self.writer.state.with_jobs(updated))

    def finish(self, job: PlannedJob, result: Result, reason: str, **fields: str | None) -> None:
        outcome = Outcome(
            name=job.name,
            kind=job.kind,
            result=result,
            reason=reason,
            partition=job.partition,
            region=job.region,
            account=job.account,
            spec_file=job.spec_file,
            **fields,
        )
        with self._lock:
            self.outcomes[job.key] = outcome
            self.listener.outcome(outcome)

    def note(self, message: str) -> None:
        with self._lock:
            self.listener.note(message)

    def update(self, summaries: Mapping[str, JobSummary]) -> None:
        """Record what the service said of this run's jobs, and tell the listener."""
        with self._lock:
            changed = [
                summary
                for name, summary in sorted(summaries.items())
                if self.writer.state.jobs[name].status != summary.status
            ]
            for summary in changed:
                self.listener.status_changed(summary)
            new = with_statuses(self.writer.state, summaries.values(), now=self.clock.now())
            if new is not self.writer.state and changed:
                self.writer.write(new)
            for name, summary in summaries.items():
                outcome = self.outcomes.get(name)
                if outcome is not None:
                    self.outcomes[name] = replace(
                        outcome, status=summary.status, failure_reason=summary.failure_reason
                    )
            if self.waiting and changed:
                self._polled()

    def drop(self, summaries: Mapping[str, JobSummary]) -> None:
        """This run's jobs that the poller dropped (vanished, or in a status no batch job
        has): told and reported with the reason, not recorded."""
        if not summaries:
            return
        with self._lock:
            for name, summary in sorted(summaries.items()):
                self.listener.note(dropped_note(name, summary))
                outcome = self.outcomes.get(name)
                if outcome is not None:
                    self.outcomes[name] = replace(
                        outcome, status=summary.status, failure_reason=summary.failure_reason
                    )
            if self.waiting:
                self._polled()

    def _polled(self) -> None:
        ours = [
            outcome
            for outcome in self.outcomes.values()
            if outcome.result in (Result.CREATED, Result.ADOPTED)
        ]
        done = sum(outcome.status not in IN_FLIGHT_STATUSES for outcome in ours)
        self.listener.polled(final=done, total=len(ours))
