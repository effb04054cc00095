"""The `aws` backend: Amazon Personalize through boto3.

This is the one module that imports boto3 and botocore, and only when a call is made:
`import runner.backends.aws` stays cheap. Credentials and endpoints come from boto3's
default chains, so `AWS_PROFILE`, `AWS_ENDPOINT_URL_PERSONALIZE` and friends work.

An account that `personalize-runner.yaml` names is reached through its own profile, or
through a role assumed with the default chain's credentials; before its first call, the
backend checks (STS `GetCallerIdentity`) that those credentials are the account's.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from runner.arn import Arn
from runner.backends import (
    SERVICE_ERRORS,
    InvalidInput,
    JobDescription,
    JobSummary,
    LimitExceeded,
    ServiceError,
    Throttled,
    Unavailable,
)
from runner.backends.wire import job_description, job_summary
from runner.errors import BackendError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from mypy_boto3_personalize.client import PersonalizeClient
    from mypy_boto3_sts.client import STSClient

    from runner.config import AccountAccess

RetryMode = Literal["standard", "adaptive"]

PAGE_SIZE = 100
# Error codes of throttling answers; botocore retries them, these outlasted the retries.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    }
)


class AwsBackend:
    """The `Backend` protocol over boto3, one client per account and region (those of
    each ARN).

    `retry_mode` and `max_attempts` (the first call included) configure botocore's
    retries; `endpoint_url` overrides boto3's endpoint resolution, and `profile` its
    default profile. A `session` given is used as it is (and `profile` ignored).

    That default session serves the accounts that `accounts` does not name, and assumes
    the roles of those it names with a `role_arn`; `verify_accounts` checks the
    credentials of each account of `accounts` before its first call.
    """

    name = "aws"

    def __init__(
        self,
        *,
        retry_mode: RetryMode = "standard",
        max_attempts: int = 8,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        endpoint_url: str | None = None,
        profile: str | None = None,
        session: boto3.Session | None = None,
        accounts: Mapping[str, AccountAccess] | None = None,
        verify_accounts: bool = True,
    ) -> None:
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.accounts = dict(accounts or {})
        self.verify_accounts = verify_accounts
        self._session = session
        # The sessions of the accounts in `accounts`, and why the others were refused.
        self._account_sessions: dict[str, boto3.Session] = {}
        self._refused: dict[str, str] = {}
        self._clients: dict[tuple[str, str], PersonalizeClient] = {}
        # The STS clients that assume roles, kept to refresh their credentials.
        self._sts_clients: list[STSClient] = []
        # boto3 sessions are not thread-safe; clients are.
        self._lock = threading.Lock()

    def create_job(self, request: Mapping[str, Any]) -> str:
        client = self._client(*_account_and_region(request.get("solutionVersionArn")))
        with _service_errors():
            response = client.create_batch_segment_job(**request)
        return response["batchSegmentJobArn"]

    def describe_job(self, arn: str) -> JobDescription:
        client = self._client(*_account_and_region(arn))
        with _service_errors():
            response = client.describe_batch_segment_job(batchSegmentJobArn=arn)
        return job_description(response["batchSegmentJob"])

    def list_jobs(self, *, partition: str, region: str, account: str) -> Iterator[JobSummary]:
        """Every job of the region that belongs to `account` and `partition`.

        The service lists the jobs of the caller's account: with credentials of another
        account there are none to show (`verify_accounts` catches that for `accounts`).
        """
        paginator = self._client(account, region).get_paginator("list_batch_segment_jobs")
        with _service_errors():
            for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
                for summary in page.get("batchSegmentJobs", []):
                    arn = Arn.parse(summary["batchSegmentJobArn"])
                    if (arn.partition, arn.account) == (partition, account):
                        yield job_summary(summary)

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        client = self._client(*_account_and_region(arn))
        with _service_errors():
            response = client.list_tags_for_resource(resourceArn=arn)
        return [
            {"tagKey": tag["tagKey"], "tagValue": tag["tagValue"]}
            for tag in response.get("tags", [])
        ]

    def close(self) -> None:
        """Close the clients' connections; a later call starts again (and checks again)."""
        with self._lock:
            clients: list[PersonalizeClient | STSClient] = [*self._clients.values()]
            clients += self._sts_clients
            self._clients, self._sts_clients, self._account_sessions = {}, [], {}
        for client in clients:
            client.close()

    def __enter__(self) -> AwsBackend:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _client(self, account: str, region: str) -> PersonalizeClient:
        with self._lock:
            client = self._clients.get((account, region))
            if client is None:
                session = self._session_of(account, region)
                client = session.client(
                    "personalize",
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=self._config(),
                )
                client.meta.events.register_first(
                    "needs-retry.personalize.CreateBatchSegmentJob", _quota_refusal_at_once
                )
                self._clients[account, region] = client
            return client

    def _config(self) -> Config:
        from botocore.config import Config

        return Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    def _default_session(self) -> boto3.Session:
        import boto3

        if self._session is None:
            with _service_errors():
                self._session = boto3.Session(profile_name=self.profile)
        return self._session

    def _session_of(self, account: str, region: str) -> boto3.Session:
        """The session that reaches `account`; `region` is where STS is asked, the first
        time (an account belongs to one partition: any of its regions will do)."""
        access = self.accounts.get(account)
        if access is None:
            return self._default_session()
        session = self._account_sessions.get(account)
        if session is not None:
            return session
        if account in self._refused:
            raise BackendError(self._refused[account])
        try:
            if access.profile is not None:
                session = self._profile_session(access)
            else:
                session = self._assumed_role_session(access, region)
            if self.verify_accounts:
                self._verify(access, session, region)
        except BackendError as error:
            self._refused[account] = str(error)
            raise
        self._account_sessions[account] = session
        return session

    def _profile_session(self, access: AccountAccess) -> boto3.Session:
        import boto3

        with _access_errors(access, "cannot use"):
            return boto3.Session(profile_name=access.profile)

    def _assumed_role_session(self, access: AccountAccess, region: str) -> boto3.Session:
        """A session whose credentials come from STS `AssumeRole`, asked for with the
        default session's credentials at the first call and again before they expire."""
        import boto3
        import botocore.session
        from botocore.credentials import (
            CredentialProvider,
            CredentialResolver,
            DeferredRefreshableCredentials,
        )

        sts = self._default_session().client("sts", region_name=region, config=self._config())
        self._sts_clients.append(sts)
        arguments: dict[str, Any] = {
            "RoleArn": access.role_arn,
            "RoleSessionName": access.session_name,
        }
        if access.external_id is not None:
            arguments["ExternalId"] = access.external_id
        if access.duration_seconds is not None:
            arguments["DurationSeconds"] = access.duration_seconds

        def assume_role() -> dict[str, str]:
            with _access_errors(access, "cannot assume"):
                credentials = sts.assume_role(**arguments)["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat(),
            }

        credentials = DeferredRefreshableCredentials(
            refresh_using=assume_role, method="assume-role"
        )

        class AssumedRole(CredentialProvider):
            METHOD = CANONICAL_NAME = "assume-role"

            def load(self) -> DeferredRefreshableCredentials:
                return credentials

        core = botocore.session.Session(profile=self.profile)
        core.register_component("credential_provider", CredentialResolver([AssumedRole()]))
        return boto3.Session(botocore_session=core)

    def _verify(self, access: AccountAccess, session: boto3.Session, region: str) -> None:
        """Refuse credentials of another account than `access.account`: otherwise a wrong
        profile shows as an empty listing or an AccessDenied on somebody else's ARN."""
        sts = session.client("sts", region_name=region, config=self._config())
        try:
            with _access_errors(access, "cannot use"):
                identity = sts.get_caller_identity()
        finally:
            sts.close()
        if identity["Account"] != access.account:
            raise BackendError(
                f"account {access.account}: {access} gives credentials of account "
                f"{identity['Account']} ({identity['Arn']}), not of {access.account}. "
                f"{_fix(access)}"
            )


def _quota_refusal_at_once(response: Any = None, **_: Any) -> None:
    """Raise `LimitExceeded` for a create that the quota refused, before botocore retries it.

    botocore's standard and adaptive modes retry `LimitExceededException` as throttling
    (up to `max_attempts`, with backoff); for `CreateBatchSegmentJob` it means "5 jobs in
    flight", which no retry within seconds cures: the reconciler waits for a free slot.
    """
    if response is None:
        return
    error = response[1].get("Error", {}) if isinstance(response[1], dict) else {}
    if error.get("Code") == LimitExceeded.code:
        raise LimitExceeded(error.get("Message") or LimitExceeded.code)


def _account_and_region(arn: object) -> tuple[str, str]:
    if not isinstance(arn, str):
        raise InvalidInput(f"Not an ARN: {arn!r}")
    try:
        parsed = Arn.parse(arn)
    except ValueError as error:
        raise InvalidInput(f"Not an ARN: {arn}") from error
    if not parsed.region:
        raise InvalidInput(f"The ARN {arn} names no region")
    if not parsed.account:
        raise InvalidInput(f"The ARN {arn} names no account")
    return parsed.account, parsed.region


def _fix(access: AccountAccess) -> str:
    if access.profile is not None:
        return (
            f"Check the profile {access.profile!r} in the AWS configuration "
            "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws), or the account's "
            "entry in personalize-runner.yaml."
        )
    return (
        f"Check that the role {access.role_arn} exists and trusts the runner's own "
        "credentials (the default AWS credential chain), the external_id if it asks for "
        "one, and the account's entry in personalize-runner.yaml."
    )


@contextlib.contextmanager
def _access_errors(access: AccountAccess, doing: str) -> Iterator[None]:
    """botocore's exceptions while reaching `access.account`, as errors that name the
    account and how it is reached."""
    from botocore import exceptions

    where = f"account {access.account}: {doing} {access}"
    try:
        yield
    except exceptions.ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        message = details.get("Message", "") or str(error)
        raise BackendError(f"{where}: {code}: {message}. {_fix(access)}") from error
    except (
        exceptions.ProfileNotFound,
        exceptions.NoCredentialsError,
        exceptions.PartialCredentialsError,
        exceptions.TokenRetrievalError,
        exceptions.SSOError,
    ) as error:
        raise BackendError(f"{where}: {error}. {_fix(access)}") from error
    except (exceptions.HTTPClientError, exceptions.ConnectionError) as error:
        raise Unavailable(f"{where}: {error}") from error


@contextlib.contextmanager
def _service_errors() -> Iterator[None]:
    """botocore's exceptions, as the backend's errors."""
    from botocore import exceptions

    try:
        yield
    except exceptions.ClientError as error:
        raise service_error(error) from error
    except exceptions.ParamValidationError as error:
        raise InvalidInput(str(error)) from error
    except (exceptions.NoCredentialsError, exceptions.PartialCredentialsError) as error:
        raise BackendError(
            f"{error}: configure AWS credentials (AWS_PROFILE, environment variables, "
            "an instance role, ...) or use the local backend (--backend local)."
        ) from error
    except exceptions.ProfileNotFound as error:
        raise BackendError(f"{error}: check AWS_PROFILE and ~/.aws/config.") from error
    except (exceptions.HTTPClientError, exceptions.ConnectionError) as error:
        # Connection errors, timeouts and closed connections that outlasted the retries.
        raise Unavailable(str(error)) from error


def service_error(error: ClientError) -> ServiceError:
    """The backend error for an error answer of the service."""
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    message = details.get("Message", "") or str(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in THROTTLING_CODES:
        return Throttled(message)
    if code in SERVICE_ERRORS:
        return SERVICE_ERRORS[code](message)
    if status >= 500:
        return Unavailable(f"{code or status}: {message}")
    return ServiceError(f"{code}: {message}")
