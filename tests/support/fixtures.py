"""Fixtures for the backends, the HTTP stand-in and a repository to run the CLI in.

`tests/backends/conftest.py` imports them; a root `conftest.py` can load them for every
test with `pytest_plugins = ["tests.support.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.retries import standard

from runner.backends.aws import AwsBackend
from runner.backends.local import LocalBackend
from runner.backends.local.service import PersonalizeService
from runner.kinds import KINDS, JobKind
from tests.support.clock import ManualClock
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import make_repo


@pytest.fixture(params=list(KINDS.values()), ids=list(KINDS))
def kind(request: pytest.FixtureRequest) -> JobKind:
    """Each kind of job, for the tests of what every kind guarantees alike (exactly once,
    crashes, lost answers, quotas, conflicts, adoption)."""
    job_kind: JobKind = request.param
    return job_kind


@pytest.fixture
def repo_backend() -> str:
    """The backend `repo` names; a test module that wants another overrides this fixture."""
    return "aws"


@pytest.fixture
def repo(tmp_path: Path, repo_backend: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (`specs/`, a `personalize-runner.yaml` naming `repo_backend`), made the
    working folder; by default its jobs go to the aws backend, i.e. to the HTTP stand-in."""
    root = make_repo(tmp_path / "repo", repo_backend)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    """A `.personalize-local` folder: `service/jobs.json` and `s3/<bucket>/<key>`."""
    return tmp_path / ".personalize-local"


@pytest.fixture
def s3_root(local_root: Path) -> Path:
    return local_root / "s3"


@pytest.fixture
def local_service(local_root: Path, manual_clock: ManualClock) -> PersonalizeService:
    """The persisted service on a manual clock: jobs pend 10 s, then run 60 s."""
    return PersonalizeService.in_folder(
        local_root, clock=manual_clock, pending_seconds=10, running_seconds=60
    )


@pytest.fixture
def local_backend(local_service: PersonalizeService) -> LocalBackend:
    return LocalBackend(local_service)


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials, and no AWS configuration of the machine running the tests."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard backoff, scaled down from seconds to milliseconds."""
    monkeypatch.setattr(
        standard.ExponentialBackoff,
        "_DEFAULT_BACKOFF_CONFIG",
        {"throttling_base_scale": 0.002, "non_throttling_base_scale": 0.001},
    )


@pytest.fixture
def personalize_server(
    aws_environment: None,
    s3_root: Path,
    manual_clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PersonalizeServer]:
    """The HTTP stand-in over an in-memory service (jobs pend 10 s, then run 60 s on
    `manual_clock`); boto3 finds it through `AWS_ENDPOINT_URL_PERSONALIZE`."""
    service = PersonalizeService.in_memory(
        s3_root=s3_root, clock=manual_clock, pending_seconds=10, running_seconds=60
    )
    with PersonalizeServer(service) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", server.endpoint_url)
        yield server
    assert server.errors == []


@pytest.fixture(scope="session")
def boto3_session(tmp_path_factory: pytest.TempPathFactory) -> boto3.Session:
    """One boto3 session for all tests, with dummy credentials: creating a session's first
    client loads the API model, which takes a good part of a second."""
    folder = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "credentials"))
        return boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )


@pytest.fixture
def aws_backend(
    personalize_server: PersonalizeServer, fast_retries: None, boto3_session: boto3.Session
) -> Iterator[AwsBackend]:
    """An `AwsBackend` pointed at `personalize_server`: 4 attempts, short timeouts."""
    with AwsBackend(
        max_attempts=4,
        connect_timeout=2,
        read_timeout=2,
        endpoint_url=personalize_server.endpoint_url,
        session=boto3_session,
    ) as backend:
        yield backend
