"""boto3 and botocore: the one module that imports them.

Sessions, the clients of each account and region, their retry configuration, and the
decoding of botocore's errors into the runner's own: `ServiceError`s of
`runner.service` for Personalize, `S3Error` for the state store. Importing this module
needs the `[aws]` extra; the aws backend and the S3 store import it only when they are
used, so that `lint` and `plan` never load boto3.

An account that `personalize-runner.yaml` names is reached through its own profile, or
through a role assumed with the default chain's credentials (refreshed before they
expire); before its first call, its credentials are checked (STS `GetCallerIdentity`) to
be the account's.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from runner.deadline import (
    THROTTLING_CODES,
    Remaining,
    call_seconds,
    deadline_message,
    retry_refusal,
)
from runner.errors import BackendError
from runner.extras import require_extra
from runner.kinds import KINDS

require_extra("aws", "boto3", "botocore")

import boto3  # noqa: E402 (after the check that names the extra)
import botocore.session  # noqa: E402
from botocore import exceptions, xform_name  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import (  # noqa: E402
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.parsers import JSONParser, ResponseParserError, ResponseParserFactory  # noqa: E402
from botocore.utils import parse_timestamp as botocore_parse_timestamp  # noqa: E402

from runner.service import (  # noqa: E402
    SERVICE_ERRORS,
    DeadlineExceeded,
    InvalidInput,
    LimitExceeded,
    MalformedAnswer,
    S3Error,
    S3TimedOut,
    S3Unreachable,
    ServiceError,
    Throttled,
    Unavailable,
    ending_pages,
)

if TYPE_CHECKING:
    from mypy_boto3_personalize.client import PersonalizeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts.client import STSClient

    from runner.config import AccountAccess

RetryMode = Literal["standard", "adaptive"]
Session = boto3.Session
ClientError = exceptions.ClientError


def client_config(
    *,
    retry_mode: RetryMode = "standard",
    max_attempts: int,
    connect_timeout: float = 60.0,
    read_timeout: float = 60.0,
) -> Config:
    """botocore's retries (`max_attempts` counts the first call) and timeouts (botocore's
    defaults: 60 s). One configuration per client: a client for describes alone with
    `adaptive` retries (issue 11) is `Clients.personalize(..., adaptive=True)`."""
    return Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # The accounts of a region share a client (`Clients`): botocore keeps 10.
        max_pool_connections=32,
    )


def _timestamp(value: Any) -> Any:
    """A timestamp of an answer: epoch seconds (Personalize's JSON) straight to an aware
    UTC datetime. botocore's default parser goes through dateutil's local zone, 34 us a
    timestamp: most of the cost of reading a list page of 100 jobs. Any other form is left
    to botocore's parser; what neither reads raises, as botocore's does."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    return botocore_parse_timestamp(value)


# The answers of the job listings (`ListBatchSegmentJobs`, …), by their shape's name.
_LISTINGS = frozenset(f"{kind.list_operation}Response" for kind in KINDS.values())


class _JsonParser(JSONParser):
    """botocore's JSON parser, but a job listing's page is left as JSON reads it:
    `runner.backends.wire` checks each summary anyway (epoch timestamps included), and
    botocore's walk of 100 summaries through the model took 1.9 ms a poll (issue 11)."""

    def _handle_json_body(self, raw_body: Any, shape: Any) -> Any:
        if shape is not None and shape.name in _LISTINGS:
            return cast(Any, self)._parse_body_as_json(raw_body)
        return cast(Any, super())._handle_json_body(raw_body, shape)


class _ParserFactory(ResponseParserFactory):
    """`_JsonParser` (with `_timestamp`) for JSON answers, Personalize's; botocore's own
    parsers for the others (STS)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return _JsonParser(timestamp_parser=_timestamp)
        return super().create_parser(protocol_name)


def _longest(config: Config) -> float:
    """The longer of a configuration's connect and read timeouts."""
    return max(
        float(getattr(config, "connect_timeout", 60)), float(getattr(config, "read_timeout", 60))
    )


def _fitted(config: Config, seconds: int | None) -> Config:
    """`config`, or with connect and read timeouts of `seconds` (`deadline.call_seconds`)."""
    if seconds is None:
        return config
    return config.merge(Config(connect_timeout=seconds, read_timeout=seconds))


def bound_retries(client: Any, remaining: Remaining | None) -> None:
    """Make `client` (any service) end a call with `DeadlineExceeded` where botocore would
    retry past the deadline (`deadline.retry_refusal`): the one place where retries meet
    `--timeout`."""
    if remaining is None:
        return
    service = client.meta.service_model.service_id.hyphenize()
    # An attempt lasts at most the longer of the client's connect and read timeouts.
    seconds = _longest(client.meta.config)

    def refuse_late_retry(
        attempts: int = 1,
        response: Any = None,
        caught_exception: Exception | None = None,
        operation: Any = None,
        **_: Any,
    ) -> None:
        status = getattr(response[0], "status_code", 0) if response is not None else 0
        code = _error_code(response)
        if retry_refusal(
            remaining(),
            attempts=attempts,
            attempt_seconds=seconds,
            status=status,
            code=code,
            caught=caught_exception is not None,
        ):
            cause = caught_exception or code or status or "no answer"
            name = getattr(operation, "name", "the call")
            raise DeadlineExceeded(deadline_message(name, attempts, cause))

    client.meta.events.register_first(f"needs-retry.{service}", refuse_late_retry)


def _error_code(response: Any) -> str:
    body = response[1] if response is not None else None
    error = body.get("Error", {}) if isinstance(body, dict) else {}
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


class Clients:
    """The Personalize clients of each account and region, made on first use.

    The default session (boto3's default chain, `profile` if given, or `session` as it
    is) serves the accounts that `accounts` does not name, and assumes the roles of those
    it names with a `role_arn`; `verify_accounts` checks the credentials of each account
    of `accounts` before its first call. Thread-safe (boto3 sessions are not; clients are).
    With `remaining` (the run's deadline), every call, STS's included, has its timeouts
    and retries bounded by it (`runner.deadline`).
    """

    def __init__(
        self,
        *,
        config: Config,
        endpoint_url: str | None = None,
        profile: str | None = None,
        session: boto3.Session | None = None,
        accounts: Mapping[str, AccountAccess] | None = None,
        verify_accounts: bool = True,
        refuse_at_once: Iterable[str] = (),
        remaining: Remaining | None = None,
    ) -> None:
        self.config = config
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.accounts = dict(accounts or {})
        self.verify_accounts = verify_accounts
        # Operations whose quota refusal is not retried (see `_quota_refusal_at_once`).
        self.refuse_at_once = tuple(refuse_at_once)
        # The seconds left before the run's deadline (None: no deadline), that no call, and
        # no retry, may outlast (`--timeout`, issue 10).
        self.remaining = remaining
        self._session = session
        # The sessions of the accounts in `accounts`, and why the others were refused.
        self._account_sessions: dict[str, boto3.Session] = {}
        self._refused: dict[str, str] = {}
        # Clients by (the account of `accounts` they serve, None for the default session's
        # accounts, region, adaptive, whole seconds of their timeouts, None for the
        # configured ones: near the deadline, one whose timeouts end before it). The default
        # session's client of a region serves all of its accounts alike: one per region,
        # not one per account (each costs 6 ms of CPU to make, and a connection; issue 11).
        self._clients: dict[tuple[str | None, str, bool, int | None], PersonalizeClient] = {}
        # The (account, region) of each client asked for, as asked (`opened`).
        self._opened: dict[tuple[str, str], None] = {}
        # The STS clients that assume roles, by region and timeouts, kept to refresh
        # their credentials.
        self._sts_clients: dict[tuple[str, int | None], STSClient] = {}
        # Reentrant: an account's first client asks STS, which makes an STS client.
        self._lock = threading.RLock()

    def _seconds(self) -> int | None:
        return call_seconds(
            None if self.remaining is None else self.remaining(), _longest(self.config)
        )

    def personalize(
        self, account: str, region: str, *, adaptive: bool = False
    ) -> PersonalizeClient:
        """The client of `account` and `region`; near the deadline, one whose connect and
        read timeouts end before it (`deadline.call_seconds`).

        `adaptive`: a client of its own with botocore's adaptive retries, whose client-side
        rate limiter slows its calls down while the service throttles them (issue 11: the
        describes and tag listings of many jobs at once), for the same session."""
        seconds = self._seconds()
        # Near the deadline, one client for both: the remaining calls are few.
        adaptive = adaptive and seconds is None
        served = account if account in self.accounts else None
        with self._lock:
            client = self._clients.get((served, region, adaptive, seconds))
            if client is None:
                config = _fitted(self.config, seconds)
                if adaptive:  # as many attempts, in botocore's adaptive mode
                    retries: Any = dict(getattr(self.config, "retries", None) or {})
                    retries["mode"] = "adaptive"
                    config = config.merge(Config(retries=retries))
                client = self._make(account, region, config)
                self._clients[served, region, adaptive, seconds] = client
            self._opened[account, region] = None
            return client

    def _make(self, account: str, region: str, config: Config) -> PersonalizeClient:
        session = self._session_of(account, region)
        # Before the client is made, which takes its parsers from the session (issue 11).
        core = session._session
        if not isinstance(core.get_component("response_parser_factory"), _ParserFactory):
            core.register_component("response_parser_factory", _ParserFactory())
        client = session.client(
            "personalize", region_name=region, endpoint_url=self.endpoint_url, config=config
        )
        for operation in self.refuse_at_once:
            client.meta.events.register_first(
                f"needs-retry.personalize.{operation}", _quota_refusal_at_once
            )
        bound_retries(client, self.remaining)
        return client

    def opened(self) -> list[tuple[str, str]]:
        """The (account, region) of each client made so far."""
        with self._lock:
            return list(self._opened)

    def close(self) -> None:
        """Close the clients' connections; a later call starts again (and checks again)."""
        with self._lock:
            clients: list[PersonalizeClient | STSClient] = [*self._clients.values()]
            clients += self._sts_clients.values()
            self._clients, self._sts_clients, self._account_sessions = {}, {}, {}
            self._opened = {}
        for client in clients:
            client.close()

    def _default_session(self) -> boto3.Session:
        if self._session is None:
            with service_errors():
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
        with _access_errors(access, "cannot use"):
            return boto3.Session(profile_name=access.profile)

    def _sts(self, session: boto3.Session, region: str, seconds: int | None) -> STSClient:
        """An STS client of `session` whose timeouts are `seconds` (None: the configured
        ones), its retries bounded by the deadline."""
        config = _fitted(self.config, seconds)
        client = session.client("sts", region_name=region, config=config)
        bound_retries(client, self.remaining)
        return client

    def _role_sts(self, region: str) -> STSClient:
        """The default session's STS client that assumes roles, for a call made now."""
        seconds = self._seconds()
        with self._lock:
            client = self._sts_clients.get((region, seconds))
            if client is None:
                client = self._sts(self._default_session(), region, seconds)
                self._sts_clients[region, seconds] = client
            return client

    def _assumed_role_session(self, access: AccountAccess, region: str) -> boto3.Session:
        """A session whose credentials come from STS `AssumeRole`, asked for with the
        default session's credentials at the first call and again before they expire."""
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
                credentials = self._role_sts(region).assume_role(**arguments)["Credentials"]
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
        sts = self._sts(session, region, self._seconds())
        try:
            with _access_errors(access, "cannot use"):
                identity = sts.get_caller_identity()
        finally:
            sts.close()
        if identity["Account"] != access.account:
            raise BackendError(
                f"account {access.account}: {access} gives credentials of account "
                f"{identity['Account']} ({identity['Arn']}), not of {access.account}. "
                f"{access.remedy()}"
            )


def operation(client: Any, name: str) -> Callable[..., Any]:
    """The client's method for the API operation `name` (`CreateBatchSegmentJob`)."""
    method: Callable[..., Any] = getattr(client, xform_name(name))
    return method


def paginator(client: Any, name: str) -> Any:
    """The client's paginator for the API list operation `name`, whose listings end
    (`service.ending_pages`: botocore refuses only a next token given twice in a row, and
    with a `PaginationError`)."""
    pages = client.get_paginator(xform_name(name))

    class Listing:
        def paginate(self, **arguments: Any) -> Iterator[Any]:
            listing = pages.paginate(**arguments)
            return ending_pages(listing, listing._get_next_token, name)

    return Listing()


def _quota_refusal_at_once(response: Any = None, **_: Any) -> None:
    """Raise `LimitExceeded` for a create that the quota refused, before botocore retries it.

    botocore's standard and adaptive modes retry `LimitExceededException` as throttling
    (up to `max_attempts`, with backoff); for a create it means "5 jobs in flight", which
    no retry within seconds cures: the reconciler waits for a free slot.
    """
    if _error_code(response) == LimitExceeded.code:
        raise LimitExceeded(response[1]["Error"].get("Message") or LimitExceeded.code)


@contextlib.contextmanager
def _access_errors(access: AccountAccess, doing: str) -> Iterator[None]:
    """botocore's exceptions while reaching `access.account`, as errors that name the
    account and how it is reached."""
    where = f"account {access.account}: {doing} {access}"
    try:
        yield
    except exceptions.ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        message = details.get("Message", "") or str(error)
        raise BackendError(f"{where}: {code}: {message}. {access.remedy()}") from error
    except (
        exceptions.ProfileNotFound,
        exceptions.NoCredentialsError,
        exceptions.PartialCredentialsError,
        exceptions.TokenRetrievalError,
        exceptions.SSOError,
    ) as error:
        raise BackendError(f"{where}: {error}. {access.remedy()}") from error
    except (exceptions.HTTPClientError, exceptions.ConnectionError) as error:
        raise Unavailable(f"{where}: {error}") from error
    except DeadlineExceeded as error:
        if isinstance(error.__cause__, DeadlineExceeded):
            # Cut short while assuming the role for this very check: named already.
            raise
        raise DeadlineExceeded(f"{where}: {error.message}") from error


@contextlib.contextmanager
def service_errors() -> Iterator[None]:
    """botocore's exceptions during Personalize calls, as the backend's errors."""
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
    except _UNREADABLE as error:
        # botocore's parsers on a body that is not what the API model says (issue 10):
        # the call may have taken effect, its answer cannot be read.
        raise MalformedAnswer(
            f"the answer could not be read ({type(error).__name__}: {error})"
        ) from error


# What botocore's response parsers raise on a body they cannot read: not UTF-8 or not JSON
# (an error answer), a list or a string where the model has a structure, a timestamp that
# is none (`RuntimeError`), a number too long to convert.
_UNREADABLE = (
    ResponseParserError,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    RuntimeError,
)


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


# S3, for the state store (its errors are runner.service's S3Error and S3Unreachable).

_s3_session: boto3.session.Session | None = None
_s3_session_lock = threading.Lock()


def s3_client(
    *,
    connect_timeout: float = 60.0,
    read_timeout: float = 60.0,
    max_attempts: int | None = None,
    remaining: Remaining | None = None,
) -> S3Client:
    """An S3 client with boto3's default credential chain and endpoint resolution
    (`AWS_PROFILE`, `AWS_ENDPOINT_URL_S3`, …), and botocore's standard retries: 6 attempts
    (the first and five retries) unless `max_attempts`, or AWS's own setting
    (`AWS_MAX_ATTEMPTS`, `max_attempts` in the AWS config file), says otherwise; with
    `remaining`, its retries are bounded by the deadline (`bound_retries`)."""
    global _s3_session  # noqa: PLW0603 (one session per process: it caches the API model)
    # Sessions are not thread-safe; the clients they make are.
    with _s3_session_lock:
        if _s3_session is None:
            _s3_session = boto3.session.Session()
        if max_attempts is None:
            configured = _s3_session._session.get_config_variable("max_attempts")
            max_attempts = configured if isinstance(configured, int) and configured > 0 else 6
        config = client_config(
            max_attempts=max_attempts,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        client = _s3_session.client("s3", config=config)
    bound_retries(client, remaining)
    return client


class S3Clients:
    """The S3 clients of a store, made when first used: with `remaining` (the run's
    deadline), near the deadline one per whole second left, whose timeouts end before it
    (`deadline.call_seconds`), and no retry that would outlast it."""

    def __init__(self, *, remaining: Remaining | None = None, **settings: Any) -> None:
        self.remaining = remaining
        self._settings = settings
        self._longest = max(
            float(settings.get("connect_timeout", 60.0)), float(settings.get("read_timeout", 60.0))
        )
        self._clients: dict[int | None, S3Client] = {}
        self._lock = threading.Lock()

    def client(self) -> S3Client:
        """The client for a call made now."""
        left = None if self.remaining is None else self.remaining()
        seconds = call_seconds(left, self._longest)
        with self._lock:
            client = self._clients.get(seconds)
            if client is None:
                settings = dict(self._settings)
                if seconds is not None:
                    settings.update(connect_timeout=seconds, read_timeout=seconds)
                client = s3_client(remaining=self.remaining, **settings)
                self._clients[seconds] = client
            return client


@contextlib.contextmanager
def s3_errors() -> Iterator[None]:
    """botocore's exceptions during S3 calls, as `S3Error` and `S3Unreachable`."""
    try:
        yield
    except exceptions.ClientError as error:
        details: dict[str, Any] = dict(error.response.get("Error", {}))
        raise S3Error(str(details.get("Code", "")), details.get("Message")) from error
    except exceptions.BotoCoreError as error:
        raise S3Unreachable(str(error)) from error
    except DeadlineExceeded as error:
        raise S3TimedOut(error.message) from error
