"""DescribeSolution and ListSolutionVersions on both backends (the aws one through boto3 and
the HTTP stand-in), and the newest ACTIVE version that `latestOf` resolves to (issue 12)."""

from __future__ import annotations

import datetime

import pytest

from runner.backends import ACTIVE, CREATE_IN_PROGRESS, Backend, ResourceNotFound
from runner.backends.aws import AwsBackend
from runner.backends.local import LocalBackend
from runner.backends.local.service import PersonalizeService
from runner.reconcile.latest import LatestVersions, NoActiveVersion
from tests.support.clock import EPOCH, ManualClock
from tests.support.personalize_server import PersonalizeServer

SOLUTION = "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity"
OTHER = "arn:aws:personalize:us-east-1:123456789012:solution/fresh"


@pytest.fixture(params=["local", "aws"])
def setup(
    request: pytest.FixtureRequest,
    manual_clock: ManualClock,
) -> tuple[Backend, PersonalizeService]:
    if request.param == "local":
        backend: LocalBackend = request.getfixturevalue("local_backend")
        return backend, backend.service
    server: PersonalizeServer = request.getfixturevalue("personalize_server")
    aws: AwsBackend = request.getfixturevalue("aws_backend")
    return aws, server.service


def _at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(EPOCH + seconds, tz=datetime.UTC)


def test_describe_solution_shows_its_latest_version(
    setup: tuple[Backend, PersonalizeService],
) -> None:
    backend, service = setup
    service.solutions.add_version(f"{SOLUTION}/00000001", created=EPOCH - 7200)
    service.solutions.add_version(f"{SOLUTION}/00000002", created=EPOCH - 60, training_seconds=3600)

    described = backend.describe_solution(SOLUTION)

    assert described.arn == SOLUTION
    assert described.status == ACTIVE
    assert described.latest_version is not None
    assert described.latest_version.arn == f"{SOLUTION}/00000002"
    assert described.latest_version.status == CREATE_IN_PROGRESS
    assert described.latest_version.created_at == _at(-60)


def test_list_solution_versions_reads_every_page(
    setup: tuple[Backend, PersonalizeService],
) -> None:
    backend, service = setup
    for number in range(150):
        service.solutions.add_version(f"{SOLUTION}/{number:08x}", created=EPOCH - 1000 + number)
    service.solutions.add_version(f"{OTHER}/00000001", created=EPOCH - 5)

    versions = list(backend.list_solution_versions(SOLUTION))

    assert [version.arn for version in versions] == [
        f"{SOLUTION}/{number:08x}" for number in range(150)
    ]
    assert {version.status for version in versions} == {ACTIVE}


def test_an_unknown_solution_is_not_found(setup: tuple[Backend, PersonalizeService]) -> None:
    backend, _ = setup
    with pytest.raises(ResourceNotFound):
        backend.describe_solution(SOLUTION)
    with pytest.raises(ResourceNotFound):
        list(backend.list_solution_versions(SOLUTION))


def test_latest_of_is_the_newest_active_version_not_a_newer_one_in_training(
    setup: tuple[Backend, PersonalizeService],
) -> None:
    backend, service = setup
    service.solutions.add_version(f"{SOLUTION}/00000001", created=EPOCH - 9000)
    service.solutions.add_version(f"{SOLUTION}/00000003", created=EPOCH - 5000)
    service.solutions.add_version(
        f"{SOLUTION}/00000002", created=EPOCH - 3000, failure_reason="out of memory"
    )
    service.solutions.add_version(f"{SOLUTION}/00000004", created=EPOCH - 60, training_seconds=600)

    assert LatestVersions(backend).resolve(SOLUTION) == f"{SOLUTION}/00000003"


def test_latest_of_takes_the_latest_version_when_it_is_active(
    setup: tuple[Backend, PersonalizeService],
) -> None:
    backend, service = setup
    service.solutions.add_version(f"{SOLUTION}/00000001", created=EPOCH - 9000)
    service.solutions.add_version(f"{SOLUTION}/00000002", created=EPOCH - 60)

    assert LatestVersions(backend).resolve(SOLUTION) == f"{SOLUTION}/00000002"


def test_a_solution_still_training_its_first_version_has_none(
    setup: tuple[Backend, PersonalizeService], manual_clock: ManualClock
) -> None:
    backend, service = setup
    service.solutions.add_version(f"{OTHER}/00000001", created=EPOCH - 60, training_seconds=3600)

    found = LatestVersions(backend).resolve(OTHER)

    assert isinstance(found, NoActiveVersion)
    assert found.message == (
        f"no ACTIVE version of {OTHER} to submit the job with (its newest, {OTHER}/00000001, "
        "is CREATE IN_PROGRESS); the job is left for a later reconcile, once a version is "
        "trained"
    )
    manual_clock.advance(3600)
    assert LatestVersions(backend).resolve(OTHER) == f"{OTHER}/00000001"


def test_one_answer_per_solution_per_run(
    setup: tuple[Backend, PersonalizeService],
) -> None:
    backend, service = setup
    service.solutions.add_version(f"{SOLUTION}/00000001", created=EPOCH - 9000)
    latest = LatestVersions(backend)
    assert latest.resolve(SOLUTION) == f"{SOLUTION}/00000001"

    service.solutions.add_version(f"{SOLUTION}/00000002", created=EPOCH - 10)

    assert latest.resolve(SOLUTION) == f"{SOLUTION}/00000001"
    assert LatestVersions(backend).resolve(SOLUTION) == f"{SOLUTION}/00000002"


def test_the_stand_in_refuses_a_malformed_request(local_service: PersonalizeService) -> None:
    from runner.backends import InvalidInput

    with pytest.raises(InvalidInput):
        local_service.call("DescribeSolution", {})
    with pytest.raises(InvalidInput):
        local_service.call("ListSolutionVersions", {"maxResults": 0})
