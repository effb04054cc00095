"""The one poller: a list page per kind, account and region and poll, a describe only for
a watched job the page leaves out, and intervals within the bounds its docstring gives."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from runner.backends import (
    ACTIVE,
    VANISHED,
    JobDescription,
    JobSummary,
    SolutionDescription,
    SolutionVersionSummary,
)
from runner.backends.aws import AwsBackend
from runner.backends.local import LocalBackend
from runner.backends.local.service import PersonalizeService
from runner.kinds import BATCH_SEGMENT_JOB, JobKind
from runner.reconcile.poller import (
    POLL_FIRST,
    POLL_MAX,
    age_interval,
    backed_off,
    follow_jobs,
    listing_failed,
    poll,
    poll_all,
)
from runner.reconcile.report import SilentListener
from tests.support.clock import ManualClock
from tests.support.job_requests import ACCOUNT, REGION, job_arn, job_request
from tests.support.personalize_server import PersonalizeServer
from tests.support.timer import ManualTimer

SCOPE = ("aws", REGION, ACCOUNT)
OTHER = "210987654321"


def succeed(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    return None


class CountingBackend:
    """A local backend that counts the calls made of it, by name."""

    name = "local"

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.calls: Counter[str] = Counter()

    def create_job(self, kind: JobKind, request: Mapping[str, Any]) -> str:
        self.calls["create"] += 1
        return self.backend.create_job(kind, request)

    def describe_job(self, kind: JobKind, arn: str) -> JobDescription:
        self.calls["describe"] += 1
        return self.backend.describe_job(kind, arn)

    def list_jobs(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> Iterator[JobSummary]:
        self.calls["list"] += 1
        return self.backend.list_jobs(kind, partition=partition, region=region, account=account)

    def list_page(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> list[JobSummary]:
        self.calls["list"] += 1
        return self.backend.list_page(kind, partition=partition, region=region, account=account)

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        self.calls["tags"] += 1
        return self.backend.list_tags(arn)

    def describe_solution(self, arn: str) -> SolutionDescription:
        self.calls["describe solution"] += 1
        return self.backend.describe_solution(arn)

    def list_solution_versions(self, solution_arn: str) -> Iterator[SolutionVersionSummary]:
        self.calls["list solution versions"] += 1
        return self.backend.list_solution_versions(solution_arn)


@pytest.fixture
def service(s3_root: Path, manual_clock: ManualClock) -> PersonalizeService:
    """Jobs pend 10 s and run 200 s on the manual clock, and succeed."""
    return PersonalizeService.in_memory(
        s3_root=s3_root,
        clock=manual_clock,
        pending_seconds=10,
        running_seconds=200,
        run_job=succeed,
    )


@pytest.fixture
def backend(service: PersonalizeService) -> CountingBackend:
    return CountingBackend(LocalBackend(service))


def create(backend: CountingBackend, *names: str) -> dict[str, str]:
    for name in names:
        backend.create_job(BATCH_SEGMENT_JOB, job_request(name))
    return {name: job_arn(name) for name in names}


def test_a_poll_lists_one_page_and_describes_only_what_it_leaves_out(
    backend: CountingBackend, manual_clock: ManualClock
) -> None:
    ours = create(backend, "ours-a", "ours-b", "ours-c")
    # 98 newer jobs, 5 at a time (the quota), leave room for two of ours on the page.
    for index in range(98):
        if index % 5 == 0:
            manual_clock.advance(211)
        create(backend, f"other-{index:03}")
    in_flight = 98 % 5
    backend.calls.clear()

    result = poll(backend, (BATCH_SEGMENT_JOB, SCOPE), ours)

    assert backend.calls == {"list": 1, "describe": 1}
    assert sorted(result.seen) == sorted(ours)
    assert {summary.status for summary in result.seen.values()} == {ACTIVE}
    assert (result.errors, result.failed) == ({}, None)
    # The page also counts the jobs in flight that are not watched: quota slots taken.
    assert result.others == in_flight


def test_one_poll_of_each_region(backend: CountingBackend) -> None:
    east = create(backend, "east-a", "east-b")
    backend.create_job(BATCH_SEGMENT_JOB, job_request("west", region="eu-west-1"))
    watched = {**east, "west": job_arn("west", region="eu-west-1")}
    backend.calls.clear()

    result = poll_all(backend, watched)

    assert backend.calls == {"list": 2}
    assert sorted(result.seen) == ["east-a", "east-b", "west"]


def test_a_job_no_page_shows_is_described_and_vanished_if_not_found(
    backend: CountingBackend,
) -> None:
    watched = {"elsewhere": job_arn("elsewhere", region="eu-west-1")}

    result = poll_all(backend, watched)

    assert backend.calls == {"list": 1, "describe": 1}
    assert (result.seen, result.errors, result.failed) == ({}, {}, {})
    # Not "still running": dropped, with why, and never recorded (issue 10).
    assert [(summary.status, summary.failure_reason) for summary in result.dropped.values()] == [
        (
            VANISHED,
            "vanished: the service no longer knows the job (ResourceNotFoundException: Could "
            f"not find resource with Arn {watched['elsewhere']}.); its record is kept as it was",
        )
    ]


def test_a_failed_listing_learns_nothing_and_says_why(
    service: PersonalizeService,
    aws_environment: None,
    fast_retries: None,
    boto3_session: boto3.Session,
) -> None:
    LocalBackend(service).create_job(BATCH_SEGMENT_JOB, job_request("promo"))
    with PersonalizeServer(service) as server:
        server.throttle(1, operation="ListBatchSegmentJobs")
        with AwsBackend(
            max_attempts=1, endpoint_url=server.endpoint_url, session=boto3_session
        ) as aws:
            result = poll_all(aws, {"promo": job_arn("promo")})
        assert server.errors == []

    assert (result.seen, result.errors) == ({}, {})
    ((group, error),) = result.failed.items()
    assert listing_failed(group, error) == (
        f"could not list the jobs of {REGION} ({ACCOUNT}): ThrottlingException: Rate exceeded"
    )


def test_a_poll_is_one_list_call_when_the_page_holds_other_accounts_jobs(
    service: PersonalizeService,
    manual_clock: ManualClock,
    aws_environment: None,
    boto3_session: boto3.Session,
) -> None:
    # The listing shows the jobs of the region, other accounts' among them (the stand-in
    # lists by region): a page of 100 summaries holds none of ours. The poll reads that one
    # page and describes ours, instead of paging on for 100 summaries of its account, which
    # made each poll read every job the service holds (issue 11).
    local = LocalBackend(service)
    ours = {}
    for name in ("ours-a", "ours-b"):
        local.create_job(BATCH_SEGMENT_JOB, job_request(name))
        ours[name] = job_arn(name)
    for index in range(150):
        if index % 5 == 0:
            # The quota: 5 in flight per account and region.
            manual_clock.advance(211)
        local.create_job(BATCH_SEGMENT_JOB, job_request(f"other-{index:03}", account=OTHER))
    with PersonalizeServer(service) as server:
        with AwsBackend(endpoint_url=server.endpoint_url, session=boto3_session) as aws:
            result = poll(aws, (BATCH_SEGMENT_JOB, SCOPE), ours)
        assert server.count("ListBatchSegmentJobs") == 1
        assert server.count("DescribeBatchSegmentJob") == 2

    assert sorted(result.seen) == sorted(ours)
    assert {summary.status for summary in result.seen.values()} == {ACTIVE}
    # Other accounts' jobs on the page hold none of this account's quota slots.
    assert (result.others, result.errors, result.failed) == (0, {}, None)


def test_poll_intervals_keep_to_their_bounds() -> None:
    assert age_interval(0) == POLL_FIRST == 2.0
    assert age_interval(100) == 5.0
    assert age_interval(10_000) == POLL_MAX == 60.0
    delays = [POLL_FIRST]
    while delays[-1] < POLL_MAX:
        delays.append(backed_off(delays[-1]))
    assert delays[:4] == [2.0, 3.0, 4.5, 6.75]
    assert delays[-1] == POLL_MAX


def test_following_sees_a_job_finished_within_a_twentieth_of_its_run(
    backend: CountingBackend, manual_clock: ManualClock
) -> None:
    jobs = create(backend, "promo")
    timer = ManualTimer(manual_clock)
    backend.calls.clear()
    updates: list[list[JobSummary]] = []

    last, left = follow_jobs(
        backend,
        jobs,
        clock=timer,
        timeout=None,
        listener=SilentListener(),
        on_update=updates.append,
    )

    assert left == ()
    assert last["promo"].status == ACTIVE
    # The job ran 210 s: seen final at most max(2 s, 210 s / 20) late.
    assert 210 <= sum(timer.sleeps) <= 210 + 210 / 20
    assert all(POLL_FIRST <= sleep <= POLL_MAX for sleep in timer.sleeps)
    assert backend.calls == {"list": len(timer.sleeps) + 1}
    assert [[summary.status for summary in update] for update in updates] == [
        ["CREATE PENDING"],
        ["CREATE IN_PROGRESS"],
        ["ACTIVE"],
    ]


class NoteListener(SilentListener):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


def test_following_tells_a_failing_listing_once_and_goes_on(
    service: PersonalizeService,
    manual_clock: ManualClock,
    aws_environment: None,
    fast_retries: None,
    boto3_session: boto3.Session,
) -> None:
    LocalBackend(service).create_job(BATCH_SEGMENT_JOB, job_request("promo"))
    manual_clock.advance(300)
    listener = NoteListener()
    with PersonalizeServer(service) as server:
        server.throttle(2, operation="ListBatchSegmentJobs")
        with AwsBackend(
            max_attempts=1, endpoint_url=server.endpoint_url, session=boto3_session
        ) as aws:
            last, left = follow_jobs(
                aws,
                {"promo": job_arn("promo")},
                clock=ManualTimer(manual_clock),
                timeout=None,
                listener=listener,
                on_update=lambda summaries: None,
            )
        assert server.count("ListBatchSegmentJobs") == 3
        assert server.count("DescribeBatchSegmentJob") == 0

    assert (last["promo"].status, left) == (ACTIVE, ())
    assert listener.notes == [
        f"could not list the jobs of {REGION} ({ACCOUNT}): ThrottlingException: Rate exceeded; "
        "trying again"
    ]
