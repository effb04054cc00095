from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest

from runner.backends import (
    ACTIVE,
    CREATE_PENDING,
    Backend,
    JobDescription,
    JobSummary,
    SolutionDescription,
    SolutionVersionSummary,
)
from runner.backends.aws import AwsBackend
from runner.backends.local import LocalBackend
from runner.backends.local.service import PersonalizeService
from runner.errors import ExitStatus, PlanError
from runner.findings import file_finding
from runner.kinds import BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB, KINDS, JobKind
from runner.planner import Change, make_plan
from runner.reconcile.report import Outcome, Result, RunReport, SilentListener
from runner.reconcile.run import Options, reconcile
from runner.spec import JobSpec, LoadResult
from runner.state import LockHolder, State
from runner.state.file import FileStateStore
from tests.support.clock import ManualClock
from tests.support.job_requests import job_arn, solution_version_arn
from tests.support.job_specs import make_spec
from tests.support.personalize_server import PersonalizeServer
from tests.support.timer import ManualTimer

MISSING_VERSION = solution_version_arn().replace("4fd8ee1c", "deadbeef")


def succeed(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    return None


@pytest.fixture
def service(s3_root: Path, manual_clock: ManualClock) -> PersonalizeService:
    """Jobs pend 10 s and run 60 s on the manual clock, and succeed; one solution version
    (`MISSING_VERSION`) does not exist."""
    return PersonalizeService.in_memory(
        s3_root=s3_root,
        clock=manual_clock,
        pending_seconds=10,
        running_seconds=60,
        run_job=succeed,
        solution_versions=lambda arn: arn != MISSING_VERSION,
    )


@pytest.fixture
def server(
    service: PersonalizeService, aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PersonalizeServer]:
    with PersonalizeServer(service) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", server.endpoint_url)
        yield server
    assert server.errors == []


def aws_backend_for(
    server: PersonalizeServer, session: boto3.Session, *, max_attempts: int = 4
) -> AwsBackend:
    return AwsBackend(
        max_attempts=max_attempts,
        connect_timeout=2,
        read_timeout=2,
        endpoint_url=server.endpoint_url,
        session=session,
    )


@pytest.fixture
def aws(
    server: PersonalizeServer, fast_retries: None, boto3_session: boto3.Session
) -> Iterator[AwsBackend]:
    with aws_backend_for(server, boto3_session) as backend:
        yield backend


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest, service: PersonalizeService) -> Backend:
    if request.param == "local":
        return LocalBackend(service)
    aws: AwsBackend = request.getfixturevalue("aws")
    return aws


@pytest.fixture
def store(tmp_path: Path) -> FileStateStore:
    return FileStateStore(tmp_path / "state" / "state.json")


@pytest.fixture
def timer(manual_clock: ManualClock) -> ManualTimer:
    return ManualTimer(manual_clock)


class Recorder(SilentListener):
    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self.notes: list[str] = []

    def outcome(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def note(self, message: str) -> None:
        self.notes.append(message)


def run(
    specs: Sequence[JobSpec],
    *,
    backend: Backend,
    store: FileStateStore,
    timer: ManualTimer,
    findings: Sequence[Any] = (),
    listener: Recorder | None = None,
    **options: Any,
) -> RunReport:
    return reconcile(
        store=store,
        backend=backend,
        load=lambda _state: LoadResult(list(specs), list(findings), len(specs)),
        options=Options(git_commit="4fd8ee1c" * 5, **options),
        holder=LockHolder.current(command="reconcile_test"),
        lock_timeout=5,
        clock=timer,
        listener=listener,
    )


def results(report: RunReport) -> dict[str, Result]:
    return {outcome.name: outcome.result for outcome in report.outcomes}


def service_jobs(service: PersonalizeService) -> dict[str, dict[str, Any]]:
    with service.store.transaction() as state:
        return {record["job"]["jobName"]: dict(record["job"]) for record in state["jobs"]}


def recorded(store: FileStateStore) -> State:
    snapshot = store.read()
    assert snapshot is not None
    return snapshot.state


def test_new_jobs_are_submitted_and_recorded(
    kind: JobKind,
    backend: Backend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    specs = [
        make_spec("a", kind=kind),
        make_spec("b", kind=kind, tags=[{"tagKey": "team", "tagValue": "growth"}]),
    ]

    report = run(specs, backend=backend, store=store, timer=timer)

    assert report.exit_status == ExitStatus.OK
    assert results(report) == {"a": Result.CREATED, "b": Result.CREATED}
    state = recorded(store)
    # One write per create: a crash loses at most the job being submitted.
    assert state.serial == 2
    record = state.jobs[kind.key("b")]
    assert (record.arn, record.kind) == (job_arn("b", kind=kind), kind.name)
    assert record.request_digest == specs[1].request_digest
    assert record.spec_digest == specs[1].file_digest
    assert (record.recorded_by, record.status) == ("created", CREATE_PENDING)
    assert record.git_commit == "4fd8ee1c" * 5
    assert record.submitted_at == timer.now()
    assert sorted(service_jobs(service)) == ["a", "b"]


def test_a_second_run_submits_nothing(
    kind: JobKind,
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
) -> None:
    specs = [make_spec("a", kind=kind), make_spec("b", kind=kind)]
    run(specs, backend=aws, store=store, timer=timer)
    before = store.read()
    server.clear_calls()

    report = run(specs, backend=aws, store=store, timer=timer)

    assert report.exit_status == ExitStatus.OK
    assert report.outcomes == ()
    assert report.plan is not None
    assert report.plan.counts()[Change.UNCHANGED] == 2
    # Every spec is recorded: the service is not even asked.
    assert server.calls == []
    assert store.read() == before


def test_throttling_and_5xx_answers_are_retried(
    server: PersonalizeServer, aws: AwsBackend, store: FileStateStore, timer: ManualTimer
) -> None:
    server.throttle(2, operation="CreateBatchSegmentJob")
    server.fail(1, status=503, operation="CreateBatchSegmentJob")
    server.throttle(1, operation="ListBatchSegmentJobs")

    report = run([make_spec("a")], backend=aws, store=store, timer=timer)

    assert results(report) == {"a": Result.CREATED}
    assert server.count("CreateBatchSegmentJob") == 4
    assert recorded(store).jobs["a"].arn == job_arn("a")


@pytest.mark.parametrize("how", ["error", "close"])
def test_a_lost_create_response_is_adopted_not_duplicated(
    kind: JobKind,
    how: Any,
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    server.lose_response(1, how=how, operation=kind.create_operation)

    report = run(
        [make_spec("a", kind=kind), make_spec("b", kind=kind)],
        backend=aws,
        store=store,
        timer=timer,
    )

    assert report.exit_status == ExitStatus.OK
    assert results(report) == {"a": Result.ADOPTED, "b": Result.CREATED}
    assert report.outcomes[0].reason == (
        "already existed at the service (an earlier attempt) with the same parameters: "
        "recorded, not submitted again"
    )
    # Two attempts for `a` (the second refused as existing), one for `b`.
    assert server.count(kind.create_operation) == 3
    assert sorted(service_jobs(service)) == ["a", "b"]
    state = recorded(store)
    assert state.jobs[kind.key("a")].recorded_by == "adopted"
    assert state.jobs[kind.key("a")].arn == job_arn("a", kind=kind)


def test_a_create_without_an_answer_is_unknown_and_the_next_run_adopts_it(
    kind: JobKind,
    server: PersonalizeServer,
    store: FileStateStore,
    timer: ManualTimer,
    fast_retries: None,
    boto3_session: boto3.Session,
) -> None:
    server.lose_response(1, operation=kind.create_operation)
    with aws_backend_for(server, boto3_session, max_attempts=1) as backend:
        first = run([make_spec("a", kind=kind)], backend=backend, store=store, timer=timer)
        second = run([make_spec("a", kind=kind)], backend=backend, store=store, timer=timer)

    assert results(first) == {"a": Result.UNKNOWN}
    assert first.exit_status == ExitStatus.ERROR
    assert first.outcomes[0].reason.startswith("the service did not answer (ServiceUnavailable: ")
    assert results(second) == {"a": Result.ADOPTED}
    assert second.plan is not None
    assert [job.change for job in second.plan.jobs] == [Change.ADOPT]
    assert second.exit_status == ExitStatus.OK
    assert server.count(kind.create_operation) == 1
    assert recorded(store).jobs[kind.key("a")].recorded_by == "adopted"


def test_a_job_refused_by_the_service_does_not_stop_the_others(
    backend: Backend, store: FileStateStore, timer: ManualTimer
) -> None:
    specs = [make_spec("a"), make_spec("b", solutionVersionArn=MISSING_VERSION), make_spec("c")]

    report = run(specs, backend=backend, store=store, timer=timer)

    assert results(report) == {"a": Result.CREATED, "b": Result.FAILED, "c": Result.CREATED}
    assert report.outcomes[1].reason == (
        "the service refused the job: ResourceNotFoundException: Could not find solution "
        f"version: {MISSING_VERSION}"
    )
    assert report.exit_status == ExitStatus.ERROR
    assert sorted(recorded(store).jobs) == ["a", "c"]


def test_a_job_of_the_same_name_with_other_parameters_stops_the_run(
    kind: JobKind,
    backend: Backend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    service.create_job(kind, make_spec("a", kind=kind, numResults=10).request)

    report = run(
        [make_spec("a", kind=kind), make_spec("b", kind=kind)],
        backend=backend,
        store=store,
        timer=timer,
    )

    assert report.exit_status == ExitStatus.ERROR
    assert report.plan is not None
    assert [(job.name, job.change) for job in report.plan.jobs] == [
        ("a", Change.CONFLICT),
        ("b", Change.CREATE),
    ]
    assert report.outcomes == ()
    assert store.read() is None
    assert sorted(service_jobs(service)) == ["a"]


class RacingBackend:
    """A local backend where another tool creates `name`, with other parameters, between the
    listing and the run's create."""

    name = "local"

    def __init__(self, backend: LocalBackend, request: Mapping[str, Any]) -> None:
        self.backend = backend
        self.request = request

    def create_job(self, kind: JobKind, request: Mapping[str, Any]) -> str:
        if request["jobName"] == self.request["jobName"]:
            self.backend.create_job(kind, self.request)
        return self.backend.create_job(kind, request)

    def describe_job(self, kind: JobKind, arn: str) -> JobDescription:
        return self.backend.describe_job(kind, arn)

    def list_jobs(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> Iterator[JobSummary]:
        return self.backend.list_jobs(kind, partition=partition, region=region, account=account)

    def list_page(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> list[JobSummary]:
        return self.backend.list_page(kind, partition=partition, region=region, account=account)

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        return self.backend.list_tags(arn)

    def describe_solution(self, arn: str) -> SolutionDescription:
        return self.backend.describe_solution(arn)

    def list_solution_versions(self, solution_arn: str) -> Iterator[SolutionVersionSummary]:
        return self.backend.list_solution_versions(solution_arn)


def test_an_existing_job_with_other_parameters_found_at_create_is_a_conflict(
    kind: JobKind, service: PersonalizeService, store: FileStateStore, timer: ManualTimer
) -> None:
    racing = RacingBackend(LocalBackend(service), make_spec("a", kind=kind, numResults=10).request)

    report = run(
        [make_spec("a", kind=kind), make_spec("b", kind=kind)],
        backend=racing,
        store=store,
        timer=timer,
    )

    assert results(report) == {"a": Result.CONFLICT, "b": Result.CREATED}
    assert report.outcomes[0].reason == (
        "a job of this name exists at the service with other parameters (numResults: the "
        "spec has 25, the service 10); give this spec another jobName"
    )
    assert report.exit_status == ExitStatus.ERROR
    assert sorted(recorded(store).jobs) == [kind.key("b")]


def test_a_spec_changed_after_its_job_was_submitted_stops_the_run(
    backend: Backend, store: FileStateStore, timer: ManualTimer, service: PersonalizeService
) -> None:
    run([make_spec("a")], backend=backend, store=store, timer=timer)
    before = store.path.read_bytes()

    report = run(
        [make_spec("a", numResults=10), make_spec("b")], backend=backend, store=store, timer=timer
    )

    assert report.exit_status == ExitStatus.ERROR
    assert [finding.rule for finding in report.findings] == ["spec-changed"]
    assert report.outcomes == ()
    assert store.path.read_bytes() == before
    assert sorted(service_jobs(service)) == ["a"]


def test_findings_stop_the_run_before_anything_is_submitted(
    backend: Backend, store: FileStateStore, timer: ManualTimer, service: PersonalizeService
) -> None:
    finding = file_finding("specs/bad.yaml", "schema", "jobName: required")

    report = run([make_spec("a")], findings=[finding], backend=backend, store=store, timer=timer)

    assert report.exit_status == ExitStatus.ERROR
    assert report.findings == (finding,)
    assert report.plan is None
    assert store.read() is None
    assert service_jobs(service) == {}


def test_dry_run_stops_after_the_plan(
    backend: Backend, store: FileStateStore, timer: ManualTimer, service: PersonalizeService
) -> None:
    report = run([make_spec("a")], backend=backend, store=store, timer=timer, dry_run=True)

    assert report.exit_status == ExitStatus.OK
    assert report.plan is not None
    assert [job.change for job in report.plan.jobs] == [Change.CREATE]
    assert store.read() is None
    assert service_jobs(service) == {}


def test_a_saved_plan_applies_only_if_nothing_moved(
    backend: Backend, store: FileStateStore, timer: ManualTimer, service: PersonalizeService
) -> None:
    run([make_spec("a")], backend=backend, store=store, timer=timer)
    saved = make_plan([make_spec("a"), make_spec("b")], store.read())
    run([make_spec("c")], backend=backend, store=store, timer=timer)

    with pytest.raises(PlanError) as raised:
        run(
            [make_spec("a"), make_spec("b")],
            backend=backend,
            store=store,
            timer=timer,
            saved_plan=saved,
        )

    assert str(raised.value) == (
        "the saved plan no longer applies: the state moved from serial 1 to serial 2 since "
        "the plan was made. Make and review a new plan (personalize-runner plan --out FILE), "
        "then apply that one."
    )
    assert sorted(service_jobs(service)) == ["a", "c"]
    current = make_plan([make_spec("a"), make_spec("b")], store.read())
    report = run(
        [make_spec("a"), make_spec("b")],
        backend=backend,
        store=store,
        timer=timer,
        saved_plan=current,
    )
    assert results(report) == {"b": Result.CREATED}


def in_flight_peak(service: PersonalizeService) -> int:
    """The most jobs pending or in progress at once, from the service's own times."""
    jobs = service_jobs(service).values()
    events = sorted(
        [(job["creationDateTime"], 1) for job in jobs]
        + [(job["lastUpdatedDateTime"], -1) for job in jobs]
    )
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def test_twelve_jobs_go_through_five_slots(
    kind: JobKind,
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    specs = [make_spec(f"job-{i:02d}", kind=kind) for i in range(12)]

    report = run(specs, backend=aws, store=store, timer=timer, wait=True)

    assert report.exit_status == ExitStatus.OK
    assert set(results(report).values()) == {Result.CREATED}
    assert {outcome.status for outcome in report.outcomes} == {ACTIVE}
    # The run kept within the quota by itself: the service never had to refuse a create.
    assert server.count(kind.create_operation) == 12
    assert in_flight_peak(service) == 5
    state = recorded(store)
    assert sorted(state.jobs) == [spec.key for spec in specs]
    assert {record.status for record in state.jobs.values()} == {ACTIVE}


def test_slots_taken_by_other_jobs_are_waited_for(
    kind: JobKind,
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    for i in range(4):
        service.create_job(kind, make_spec(f"other-{i}", kind=kind).request)
    listener = Recorder()

    report = run(
        [make_spec(f"job-{i}", kind=kind) for i in range(3)],
        backend=aws,
        store=store,
        timer=timer,
        listener=listener,
    )

    assert report.exit_status == ExitStatus.OK
    assert set(results(report).values()) == {Result.CREATED}
    # The listing showed the others' jobs: no create was sent into a full quota.
    assert server.count(kind.create_operation) == 3
    assert in_flight_peak(service) == 5
    assert listener.notes[0] == (
        f"waiting for quota slots in us-east-1 (123456789012): at most 5 {kind.noun}s "
        "may be pending or in progress per region"
    )


def test_what_the_deadline_leaves_is_deferred_to_the_next_run(
    kind: JobKind,
    backend: Backend,
    store: FileStateStore,
    timer: ManualTimer,
    manual_clock: ManualClock,
) -> None:
    specs = [make_spec(f"job-{i}", kind=kind) for i in range(7)]

    first = run(specs, backend=backend, store=store, timer=timer, timeout=30)

    assert first.exit_status == ExitStatus.DEFERRED
    assert [outcome.result for outcome in first.outcomes] == [Result.CREATED] * 5 + [
        Result.DEFERRED
    ] * 2
    assert first.outcomes[-1].reason == (
        "not submitted: no quota slot in us-east-1 before the deadline (--timeout 30s); "
        "the next reconcile submits it"
    )
    assert len(recorded(store).jobs) == 5
    manual_clock.advance(3600)

    second = run(specs, backend=backend, store=store, timer=timer, timeout=30)

    assert results(second) == {"job-5": Result.CREATED, "job-6": Result.CREATED}
    assert second.exit_status == ExitStatus.OK


def test_wait_records_final_statuses(
    backend: Backend, store: FileStateStore, timer: ManualTimer
) -> None:
    report = run([make_spec("a")], backend=backend, store=store, timer=timer, wait=True)

    assert report.exit_status == ExitStatus.OK
    assert report.outcomes[0].status == ACTIVE
    record = recorded(store).jobs["a"]
    assert record.status == ACTIVE
    assert record.updated_at is not None


def test_wait_gives_up_at_the_deadline(
    backend: Backend, store: FileStateStore, timer: ManualTimer
) -> None:
    report = run([make_spec("a")], backend=backend, store=store, timer=timer, wait=True, timeout=20)

    assert report.unfinished == ("a",)
    assert report.exit_status == ExitStatus.ERROR
    assert recorded(store).jobs["a"].status == "CREATE IN_PROGRESS"


def peak_by_region(service: PersonalizeService) -> dict[str, int]:
    jobs = list(service_jobs(service).values())
    peaks = {}
    for region in {job["batchSegmentJobArn"].split(":")[3] for job in jobs}:
        events = sorted(
            [
                (job["creationDateTime"], 1)
                for job in jobs
                if f":{region}:" in job["solutionVersionArn"]
            ]
            + [
                (job["lastUpdatedDateTime"], -1)
                for job in jobs
                if f":{region}:" in job["solutionVersionArn"]
            ]
        )
        peak = current = 0
        for _, step in events:
            current += step
            peak = max(peak, current)
        peaks[region] = peak
    return peaks


# Jobs take 70 s (10 pending, 60 running); a poll comes at most max(2 s, 70 s / 20) late.
JOB_SECONDS = 70.0
LATE = 3.5


def test_slots_are_refilled_as_soon_as_a_job_finishes(
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    report = run(
        [make_spec(f"job-{i:02d}") for i in range(12)],
        backend=aws,
        store=store,
        timer=timer,
        wait=True,
    )

    assert report.exit_status == ExitStatus.OK
    jobs = service_jobs(service)
    created = sorted(job["creationDateTime"] for job in jobs.values())
    finished = sorted(job["lastUpdatedDateTime"] for job in jobs.values())
    assert peak_by_region(service) == {"us-east-1": 5}
    # The 6th job goes when the 1st ends, the 7th when the 2nd does, …
    for later, freed in zip(created[5:], finished, strict=False):
        assert freed <= later <= freed + LATE
    makespan = finished[-1] - created[0]
    assert makespan <= 1.1 * 3 * JOB_SECONDS
    assert server.count("CreateBatchSegmentJob") == 12


def test_regions_are_served_at_once_and_polling_stays_within_its_bound(
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    specs = [
        make_spec(f"{region}-{i}", region=region)
        for region in ("us-east-1", "us-west-2")
        for i in range(10)
    ]
    server.clear_calls()
    started = timer.monotonic()

    report = run(specs, backend=aws, store=store, timer=timer, wait=True)

    elapsed = timer.monotonic() - started
    assert report.exit_status == ExitStatus.OK
    assert peak_by_region(service) == {"us-east-1": 5, "us-west-2": 5}
    jobs = service_jobs(service).values()
    makespan = max(job["lastUpdatedDateTime"] for job in jobs) - min(
        job["creationDateTime"] for job in jobs
    )
    # Both regions at once: as long as one region's two rounds, not four.
    assert makespan <= 1.1 * 2 * JOB_SECONDS
    # The bound: per region at most one poll per 2 s (one list page), no describe while
    # the page shows the jobs; creates only when a slot is free.
    polls = server.count("ListBatchSegmentJobs") - 2  # the plan's listing of each region
    assert polls <= 2 * (elapsed / 2.0 + 1)
    assert server.count("DescribeBatchSegmentJob") == 0
    assert server.count("CreateBatchSegmentJob") == 20


def test_a_recorded_job_in_a_final_status_costs_no_call(
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
) -> None:
    first = run([make_spec("done")], backend=aws, store=store, timer=timer, wait=True)
    assert first.outcomes[0].status == ACTIVE
    server.clear_calls()

    again = run([make_spec("done")], backend=aws, store=store, timer=timer, wait=True)

    assert again.exit_status == ExitStatus.OK
    assert server.count() == 0


def _peaks(service: PersonalizeService) -> dict[str, int]:
    """The most jobs of each kind pending or in progress at once."""
    with service.store.transaction() as state:
        jobs = [dict(record["job"]) for record in state["jobs"]]
    peaks = {}
    for kind in KINDS.values():
        events = sorted(
            [(job["creationDateTime"], 1) for job in jobs if kind.arn_key in job]
            + [(job["lastUpdatedDateTime"], -1) for job in jobs if kind.arn_key in job]
        )
        peak = current = 0
        for _, step in events:
            current += step
            peak = max(peak, current)
        peaks[kind.name] = peak
    return peaks


def test_both_kinds_fill_their_own_slots_at_once(
    server: PersonalizeServer,
    aws: AwsBackend,
    store: FileStateStore,
    timer: ManualTimer,
    service: PersonalizeService,
) -> None:
    specs = [make_spec(f"seg-{i}") for i in range(7)] + [
        make_spec(f"inf-{i}", kind=BATCH_INFERENCE_JOB) for i in range(7)
    ]

    report = run(specs, backend=aws, store=store, timer=timer, wait=True)

    assert report.exit_status == ExitStatus.OK
    assert {outcome.status for outcome in report.outcomes} == {ACTIVE}
    # Five of each in flight together: one kind's queue never waits for the other's slots.
    assert _peaks(service) == {"BatchSegmentJob": 5, "BatchInferenceJob": 5}
    assert in_flight_peak(service) == 10
    first_jobs = sorted(job["creationDateTime"] for job in service_jobs(service).values())[:10]
    assert set(first_jobs) == {first_jobs[0]}
    assert server.count("CreateBatchSegmentJob") == server.count("CreateBatchInferenceJob") == 7


def test_the_inference_quota_is_the_one_set(
    s3_root: Path, manual_clock: ManualClock, store: FileStateStore, timer: ManualTimer
) -> None:
    # An account whose inference quota was raised to 8 (`quotas: {batch_inference_jobs: 8}`).
    service = PersonalizeService.in_memory(
        s3_root=s3_root,
        clock=manual_clock,
        pending_seconds=10,
        running_seconds=60,
        run_job=succeed,
        quotas={"BatchInferenceJob": 8},
    )
    specs = [make_spec(f"seg-{i}") for i in range(9)] + [
        make_spec(f"inf-{i}", kind=BATCH_INFERENCE_JOB) for i in range(9)
    ]

    report = run(
        specs,
        backend=LocalBackend(service),
        store=store,
        timer=timer,
        wait=True,
        quotas={"BatchInferenceJob": 8},
    )

    assert report.exit_status == ExitStatus.OK
    assert _peaks(service) == {"BatchSegmentJob": 5, "BatchInferenceJob": 8}


def test_a_segment_and_an_inference_job_of_one_name_are_two_jobs(
    backend: Backend, store: FileStateStore, timer: ManualTimer
) -> None:
    specs = [
        make_spec("promo", file="specs/promo.yaml"),
        make_spec("promo", file="specs/promo-recs.yaml", kind=BATCH_INFERENCE_JOB),
    ]

    report = run(specs, backend=backend, store=store, timer=timer)

    assert [(outcome.name, outcome.kind, outcome.result) for outcome in report.outcomes] == [
        ("promo", BATCH_SEGMENT_JOB, Result.CREATED),
        ("promo", BATCH_INFERENCE_JOB, Result.CREATED),
    ]
    state = recorded(store)
    assert {key: record.arn for key, record in state.jobs.items()} == {
        "promo": job_arn("promo"),
        "batch-inference-job/promo": job_arn("promo", kind=BATCH_INFERENCE_JOB),
    }
    again = run(specs, backend=backend, store=store, timer=timer)
    assert again.outcomes == ()
    assert again.plan is not None
    assert [(job.name, job.kind, job.change) for job in again.plan.jobs] == [
        ("promo", BATCH_SEGMENT_JOB, Change.UNCHANGED),
        ("promo", BATCH_INFERENCE_JOB, Change.UNCHANGED),
    ]
