"""The aws backend with many accounts: a profile or an assumed role per account, checked
once with STS, over HTTP (the Personalize stand-in and moto's STS on 127.0.0.1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.sts.models import sts_backends

from runner.backends.aws import AwsBackend
from runner.commands.common import opened_backend
from runner.config import AccountAccess, load_settings
from runner.errors import BackendError
from runner.kinds import BATCH_SEGMENT_JOB
from tests.support.cli import run_cli
from tests.support.job_requests import job_arn, job_request
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.sts_server import MOTO_ACCOUNT, StsServer, sts_server, sts_server_session

__all__ = ["sts_server", "sts_server_session"]

ACCOUNT_A = MOTO_ACCOUNT
ACCOUNT_B = "210987654321"
KEY_A = "AKIAACCOUNTAEXAMPLE1"
CREATE = "CreateBatchSegmentJob"


def write_profiles(tmp_path: Path, profiles: dict[str, tuple[str, str]]) -> None:
    """Profiles in the files `aws_environment` points boto3 at."""
    (tmp_path / "aws-config").write_text(
        "".join(f"[profile {name}]\nregion = us-east-1\n" for name in profiles),
        encoding="utf-8",
    )
    (tmp_path / "aws-credentials").write_text(
        "".join(
            f"[{name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
            for name, (key, secret) in profiles.items()
        ),
        encoding="utf-8",
    )


@pytest.fixture
def backend_of(
    personalize_server: PersonalizeServer, sts_server: StsServer, fast_retries: None
) -> Iterator[list[AwsBackend]]:
    """Closes the backends a test opens."""
    backends: list[AwsBackend] = []
    yield backends
    for backend in backends:
        backend.close()


def aws_backend(
    backends: list[AwsBackend], server: PersonalizeServer, *accounts: AccountAccess
) -> AwsBackend:
    backend = AwsBackend(
        max_attempts=2,
        endpoint_url=server.endpoint_url,
        accounts={access.account: access for access in accounts},
    )
    backends.append(backend)
    return backend


def signed_by(server: PersonalizeServer) -> list[tuple[str, str | None]]:
    return [(call.operation, call.access_key_id) for call in server.calls]


def assumed_role(account: str, access_key_id: str | None) -> tuple[str, str, str | None]:
    """The role, session name and external id that moto gave `access_key_id` for."""
    for role in sts_backends[account]["aws"].assumed_roles:
        if role.access_key_id == access_key_id:
            return role.role_arn, role.session_name, role.external_id
    raise AssertionError(f"moto assumed no role with the key {access_key_id}")


def test_each_account_s_jobs_are_signed_with_its_profile(
    tmp_path: Path,
    backend_of: list[AwsBackend],
    personalize_server: PersonalizeServer,
    sts_server: StsServer,
) -> None:
    key_b = sts_server.access_keys(ACCOUNT_B)
    write_profiles(tmp_path, {"growth-a": (KEY_A, "secret-a"), "growth-b": key_b})
    backend = aws_backend(
        backend_of,
        personalize_server,
        AccountAccess(ACCOUNT_A, profile="growth-a"),
        AccountAccess(ACCOUNT_B, profile="growth-b"),
    )

    arn_a = backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-a", account=ACCOUNT_A))
    arn_b = backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-b", account=ACCOUNT_B))
    backend.describe_job(BATCH_SEGMENT_JOB, arn_a)
    listed = list(
        backend.list_jobs(BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account=ACCOUNT_B)
    )
    backend.list_tags(arn_b)

    assert (arn_a, arn_b) == (
        job_arn("promo-a", account=ACCOUNT_A),
        job_arn("promo-b", account=ACCOUNT_B),
    )
    assert [job.name for job in listed] == ["promo-b"]
    assert signed_by(personalize_server) == [
        (CREATE, KEY_A),
        (CREATE, key_b[0]),
        ("DescribeBatchSegmentJob", KEY_A),
        ("ListBatchSegmentJobs", key_b[0]),
        ("ListTagsForResource", key_b[0]),
    ]
    # Each account's credentials are checked once, before its first call.
    assert [(call.action, call.access_key_id) for call in sts_server.calls] == [
        ("GetCallerIdentity", KEY_A),
        ("GetCallerIdentity", key_b[0]),
    ]


def test_an_account_without_an_entry_uses_the_default_chain(
    tmp_path: Path,
    backend_of: list[AwsBackend],
    personalize_server: PersonalizeServer,
    sts_server: StsServer,
) -> None:
    write_profiles(tmp_path, {"growth-a": (KEY_A, "secret-a")})
    backend = aws_backend(
        backend_of, personalize_server, AccountAccess(ACCOUNT_A, profile="growth-a")
    )

    backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-b", account=ACCOUNT_B))

    # `aws_environment`'s credentials, and no check: the default chain is the user's own.
    assert signed_by(personalize_server) == [(CREATE, "testing")]
    assert sts_server.calls == []


def test_a_role_is_assumed_for_its_account_s_calls(
    backend_of: list[AwsBackend], personalize_server: PersonalizeServer, sts_server: StsServer
) -> None:
    role_arn = f"arn:aws:iam::{ACCOUNT_B}:role/personalize-runner"
    backend = aws_backend(
        backend_of,
        personalize_server,
        AccountAccess(ACCOUNT_B, role_arn=role_arn, external_id="acme-7f3c"),
    )

    arn = backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-b", account=ACCOUNT_B))
    backend.describe_job(BATCH_SEGMENT_JOB, arn)

    (create, create_key), (describe, describe_key) = signed_by(personalize_server)
    assert (create, describe) == (CREATE, "DescribeBatchSegmentJob")
    assert create_key == describe_key
    assert assumed_role(ACCOUNT_B, create_key) == (role_arn, "personalize-runner", "acme-7f3c")
    # AssumeRole with the default chain's credentials, at the job's region's endpoint;
    # then the check, with the role's credentials.
    assert [(call.action, call.access_key_id, call.region) for call in sts_server.calls] == [
        ("AssumeRole", "testing", "us-east-1"),
        ("GetCallerIdentity", create_key, "us-east-1"),
    ]


def test_assumed_credentials_are_refreshed_before_they_expire(
    backend_of: list[AwsBackend], personalize_server: PersonalizeServer, sts_server: StsServer
) -> None:
    # 15 minutes: within botocore's advisory refresh window from the start, so that each
    # call refreshes them (a one-hour session would refresh after 45 minutes).
    role_arn = f"arn:aws:iam::{ACCOUNT_B}:role/personalize-runner"
    backend = aws_backend(
        backend_of,
        personalize_server,
        AccountAccess(ACCOUNT_B, role_arn=role_arn, session_name="ci-42", duration_seconds=900),
    )

    arn = backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-b", account=ACCOUNT_B))
    backend.describe_job(BATCH_SEGMENT_JOB, arn)

    keys = [key for _, key in signed_by(personalize_server)]
    assert len(set(keys)) == 2
    assert [assumed_role(ACCOUNT_B, key)[:2] for key in keys] == [(role_arn, "ci-42")] * 2
    assert sts_server.actions() == ["AssumeRole", "GetCallerIdentity", "AssumeRole", "AssumeRole"]


def test_a_role_in_another_partition_is_assumed_at_its_partition_s_sts(
    backend_of: list[AwsBackend], personalize_server: PersonalizeServer, sts_server: StsServer
) -> None:
    role_arn = f"arn:aws-cn:iam::{ACCOUNT_B}:role/personalize-runner"
    backend = aws_backend(
        backend_of, personalize_server, AccountAccess(ACCOUNT_B, role_arn=role_arn)
    )
    request = job_request("promo-cn", account=ACCOUNT_B, region="cn-north-1", partition="aws-cn")

    arn = backend.create_job(BATCH_SEGMENT_JOB, request)

    assert arn == job_arn("promo-cn", account=ACCOUNT_B, region="cn-north-1", partition="aws-cn")
    assert [(call.action, call.region) for call in sts_server.calls] == [
        ("AssumeRole", "cn-north-1"),
        ("GetCallerIdentity", "cn-north-1"),
    ]


def test_credentials_of_another_account_are_refused_before_any_call(
    tmp_path: Path,
    backend_of: list[AwsBackend],
    personalize_server: PersonalizeServer,
    sts_server: StsServer,
) -> None:
    write_profiles(tmp_path, {"growth-a": (KEY_A, "secret-a")})
    backend = aws_backend(
        backend_of, personalize_server, AccountAccess(ACCOUNT_B, profile="growth-a")
    )
    expected = (
        f"account {ACCOUNT_B}: the profile 'growth-a' gives credentials of account "
        f"{ACCOUNT_A} (arn:aws:sts::{ACCOUNT_A}:user/moto), not of {ACCOUNT_B}. "
        "Check the profile 'growth-a' in the AWS configuration (AWS_CONFIG_FILE, "
        "AWS_SHARED_CREDENTIALS_FILE, ~/.aws), or the account's entry in "
        "personalize-runner.yaml."
    )

    with pytest.raises(BackendError) as listing:
        list(
            backend.list_jobs(
                BATCH_SEGMENT_JOB, partition="aws", region="us-east-1", account=ACCOUNT_B
            )
        )
    with pytest.raises(BackendError) as describing:
        backend.describe_job(
            BATCH_SEGMENT_JOB, job_arn("promo-b", account=ACCOUNT_B, region="eu-west-1")
        )

    assert (str(listing.value), str(describing.value)) == (expected, expected)
    assert personalize_server.calls == []
    # Refused once: the second call does not ask STS again.
    assert sts_server.actions() == ["GetCallerIdentity"]


def test_a_missing_profile_names_the_account(
    tmp_path: Path, backend_of: list[AwsBackend], personalize_server: PersonalizeServer
) -> None:
    write_profiles(tmp_path, {"growth-a": (KEY_A, "secret-a")})
    backend = aws_backend(
        backend_of, personalize_server, AccountAccess(ACCOUNT_B, profile="growth-b")
    )

    with pytest.raises(BackendError) as info:
        backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-b", account=ACCOUNT_B))

    assert str(info.value) == (
        f"account {ACCOUNT_B}: cannot use the profile 'growth-b': The config profile "
        "(growth-b) could not be found. Check the profile 'growth-b' in the AWS "
        "configuration (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws), or the "
        "account's entry in personalize-runner.yaml."
    )


def test_refused_credentials_name_the_account_and_the_profile(
    tmp_path: Path, backend_of: list[AwsBackend], personalize_server: PersonalizeServer
) -> None:
    write_profiles(tmp_path, {"growth-a": (KEY_A, "secret-a")})
    (tmp_path / "aws-credentials").write_text("[growth-a]\n", encoding="utf-8")
    backend = aws_backend(
        backend_of, personalize_server, AccountAccess(ACCOUNT_A, profile="growth-a")
    )

    with pytest.raises(BackendError) as info:
        backend.create_job(BATCH_SEGMENT_JOB, job_request("promo-a", account=ACCOUNT_A))

    assert str(info.value) == (
        f"account {ACCOUNT_A}: cannot use the profile 'growth-a': Unable to locate "
        "credentials. Check the profile 'growth-a' in the AWS configuration "
        "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws), or the account's entry "
        "in personalize-runner.yaml."
    )


def test_two_regions_of_an_account_are_two_clients_and_one_check(
    tmp_path: Path,
    backend_of: list[AwsBackend],
    personalize_server: PersonalizeServer,
    sts_server: StsServer,
) -> None:
    key_b = sts_server.access_keys(ACCOUNT_B)
    write_profiles(tmp_path, {"growth-b": key_b})
    backend = aws_backend(
        backend_of, personalize_server, AccountAccess(ACCOUNT_B, profile="growth-b")
    )

    backend.create_job(BATCH_SEGMENT_JOB, job_request("east", account=ACCOUNT_B))
    backend.create_job(
        BATCH_SEGMENT_JOB, job_request("west", account=ACCOUNT_B, region="eu-west-1")
    )
    backend.create_job(BATCH_SEGMENT_JOB, job_request("east-a", account=ACCOUNT_A))
    west = list(
        backend.list_jobs(BATCH_SEGMENT_JOB, partition="aws", region="eu-west-1", account=ACCOUNT_B)
    )

    assert [job.name for job in west] == ["west"]
    assert sorted(backend.clients.opened()) == [
        (ACCOUNT_A, "us-east-1"),
        (ACCOUNT_B, "eu-west-1"),
        (ACCOUNT_B, "us-east-1"),
    ]
    assert sts_server.actions() == ["GetCallerIdentity"]


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("cn-north-1", "https://personalize.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "https://personalize.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "https://personalize.us-gov-west-1.amazonaws.com"),
        ("eu-west-1", "https://personalize.eu-west-1.amazonaws.com"),
    ],
)
def test_the_region_decides_the_endpoint_and_its_partition(
    aws_environment: None, boto3_session: boto3.Session, region: str, endpoint: str
) -> None:
    with AwsBackend(session=boto3_session) as backend:
        client = backend.clients.personalize(ACCOUNT_A, region)

        assert client.meta.endpoint_url == endpoint


def test_the_commands_open_the_backend_with_the_configured_accounts(tmp_path: Path) -> None:
    (tmp_path / "personalize-runner.yaml").write_text(
        f'backend: aws\naccounts:\n  "{ACCOUNT_B}": {{profile: growth-b}}\n', encoding="utf-8"
    )
    settings = load_settings(cwd=tmp_path)

    with opened_backend(settings) as backend:
        assert isinstance(backend, AwsBackend)
        assert backend.accounts == {ACCOUNT_B: AccountAccess(ACCOUNT_B, profile="growth-b")}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a spec in account A (a profile) and one in account B (a role)."""
    root = tmp_path / "repo"
    write_specs(root / "specs", ["promo-a"])
    spec_b = spec_yaml("promo-b", region="eu-west-1").replace(ACCOUNT_A, ACCOUNT_B)
    (root / "specs" / "promo-b.yaml").write_text(spec_b, encoding="utf-8")
    (root / "personalize-runner.yaml").write_text(
        "backend: aws\n"
        "accounts:\n"
        f'  "{ACCOUNT_A}":\n'
        "    profile: growth-a\n"
        f'  "{ACCOUNT_B}":\n'
        f"    role_arn: arn:aws:iam::{ACCOUNT_B}:role/personalize-runner\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(root)
    return root


def test_reconcile_reaches_each_account_as_configured(
    repo: Path,
    tmp_path: Path,
    personalize_server: PersonalizeServer,
    sts_server: StsServer,
    fast_retries: None,
) -> None:
    write_profiles(tmp_path, {"growth-a": (KEY_A, "secret-a")})

    ran = run_cli("reconcile")

    assert (ran.status, ran.err) == (0, "")
    # The two accounts are served at once: their lines come in either order.
    *created, summary = ran.out.splitlines()[-3:]
    assert sorted(created) == [
        f"created  promo-a  {job_arn('promo-a')}",
        f"created  promo-b  {job_arn('promo-b', account=ACCOUNT_B, region='eu-west-1')}",
    ]
    assert summary == "Reconcile: 2 created (state serial 2)."
    creates = {
        call.body["jobName"]: call.access_key_id
        for call in personalize_server.calls
        if call.operation == CREATE
    }
    assert creates["promo-a"] == KEY_A
    assert assumed_role(ACCOUNT_B, creates["promo-b"])[0] == (
        f"arn:aws:iam::{ACCOUNT_B}:role/personalize-runner"
    )


def test_reconcile_with_a_wrong_profile_submits_nothing(
    repo: Path,
    tmp_path: Path,
    personalize_server: PersonalizeServer,
    sts_server: StsServer,
    fast_retries: None,
) -> None:
    write_profiles(tmp_path, {"growth-a": sts_server.access_keys(ACCOUNT_B)})

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert re.fullmatch(
        f"error: account {ACCOUNT_A}: the profile 'growth-a' gives credentials of account "
        rf"{ACCOUNT_B} \(arn:aws:iam::{ACCOUNT_B}:user/runner-\w+\), not of {ACCOUNT_A}\. "
        r"Check the profile 'growth-a' in the AWS configuration \(AWS_CONFIG_FILE, "
        r"AWS_SHARED_CREDENTIALS_FILE, ~/\.aws\), or the account's entry in "
        r"personalize-runner\.yaml\.\n",
        ran.err,
    )
    assert personalize_server.count(CREATE) == 0
