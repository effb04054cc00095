"""The `aws` backend: Amazon Personalize through boto3 (`runner.boto`).

`import runner.backends.aws` stays cheap: boto3 is loaded when a backend is made (an error
naming the `[aws]` extra if it is not installed). Credentials
and endpoints come from boto3's default chains, so `AWS_PROFILE`,
`AWS_ENDPOINT_URL_PERSONALIZE` and friends work; the accounts that
`personalize-runner.yaml` names are reached as `runner.boto.Clients` says.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from runner.arn import Arn
from runner.backends import (
    InvalidInput,
    JobDescription,
    JobSummary,
    MalformedAnswer,
    SolutionDescription,
    SolutionVersionSummary,
    wire,
)
from runner.deadline import until
from runner.kinds import KINDS, JobKind

if TYPE_CHECKING:
    from mypy_boto3_personalize.client import PersonalizeClient

    from runner.boto import Clients, RetryMode, Session
    from runner.config import AccountAccess

PAGE_SIZE = 100


class AwsBackend:
    """The `Backend` protocol over boto3, one client per account and region (those of
    each ARN).

    `retry_mode` and `max_attempts` (the first call included) configure botocore's
    retries; `endpoint_url` overrides boto3's endpoint resolution, and `profile` its
    default profile. A `session` given is used as it is (and `profile` ignored).
    `deadline` (a `time.monotonic()` instant: `--timeout`) bounds every call: near it, the
    connect and read timeouts are what is left, no retry may outlast it, and once it has
    passed no call is sent (`DeadlineExceeded`).

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
        session: Session | None = None,
        accounts: Mapping[str, AccountAccess] | None = None,
        verify_accounts: bool = True,
        deadline: float | None = None,
    ) -> None:
        # Now rather than at the first call: without the aws extra, the command stops
        # before it does anything.
        from runner import boto  # noqa: F401

        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.accounts = dict(accounts or {})
        self.verify_accounts = verify_accounts
        # The run's deadline (`time.monotonic`), that no call and no retry outlasts.
        self.deadline = deadline
        self._session = session
        self._clients: Clients | None = None
        self._lock = threading.Lock()

    @property
    def clients(self) -> Clients:
        """The clients of each account and region, made at the first call."""
        with self._lock:
            if self._clients is None:
                self._clients = self._make_clients()
            return self._clients

    def _make_clients(self) -> Clients:
        from runner import boto

        return boto.Clients(
            config=boto.client_config(
                retry_mode=self.retry_mode,
                max_attempts=self.max_attempts,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
            ),
            endpoint_url=self.endpoint_url,
            profile=self.profile,
            session=self._session,
            accounts=self.accounts,
            verify_accounts=self.verify_accounts,
            refuse_at_once=[kind.create_operation for kind in KINDS.values()],
            remaining=until(self.deadline),
        )

    def create_job(self, kind: JobKind, request: Mapping[str, Any]) -> str:
        client = self._client(*_account_and_region(request.get("solutionVersionArn")))
        with _service_errors():
            response = _operation(client, kind.create_operation)(**request)
        return wire.created_arn(kind, request, response)

    def describe_job(self, kind: JobKind, arn: str) -> JobDescription:
        # Adaptive retries (issue 11): many describes and tag listings at once (adoption,
        # `plan --refresh`) slow down when the service throttles them.
        client = self.clients.personalize(*_account_and_region(arn), adaptive=True)
        with _service_errors():
            response = _operation(client, kind.describe_operation)(**{kind.arn_key: arn})
        return wire.described_job(kind, response, arn)

    def list_jobs(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> Iterator[JobSummary]:
        """Every job of the kind in the region that belongs to `account` and `partition`.

        The service lists the jobs of the caller's account: with credentials of another
        account there are none to show (`verify_accounts` catches that for `accounts`).
        """
        client = self._client(account, region)
        with _service_errors():
            pages = _paginator(client, kind.list_operation)
            for page in pages.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
                yield from _of_account(kind, page, partition=partition, account=account)

    def list_page(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> list[JobSummary]:
        """The first page of `list_jobs`, one call: what a poll reads (`runner.reconcile.
        poller`). It may hold fewer summaries than a page: those of other accounts are left
        out, and the next page is not asked for."""
        client = self._client(account, region)
        with _service_errors():
            page = _operation(client, kind.list_operation)(maxResults=PAGE_SIZE)
            return _of_account(kind, page, partition=partition, account=account)

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        # Adaptive retries (issue 11): many describes and tag listings at once (adoption,
        # `plan --refresh`) slow down when the service throttles them.
        client = self.clients.personalize(*_account_and_region(arn), adaptive=True)
        with _service_errors():
            response = client.list_tags_for_resource(resourceArn=arn)
        return wire.tags(response)

    def describe_solution(self, arn: str) -> SolutionDescription:
        client = self._client(*_account_and_region(arn))
        with _service_errors():
            response = _operation(client, "DescribeSolution")(solutionArn=arn)
        return wire.solution_description(
            wire.member(response, "solution", "the DescribeSolution answer")
        )

    def list_solution_versions(self, solution_arn: str) -> Iterator[SolutionVersionSummary]:
        client = self._client(*_account_and_region(solution_arn))
        with _service_errors():
            pages = _paginator(client, "ListSolutionVersions")
            config = {"PageSize": PAGE_SIZE}
            for page in pages.paginate(solutionArn=solution_arn, PaginationConfig=config):
                versions = page.get("solutionVersions", [])
                if not isinstance(versions, list):
                    raise MalformedAnswer("the ListSolutionVersions answer has no list")
                for summary in versions:
                    yield wire.solution_version_summary(summary)

    def close(self) -> None:
        """Close the clients' connections; a later call starts again (and checks again)."""
        if self._clients is not None:
            self._clients.close()

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
        return self.clients.personalize(account, region)


def _of_account(kind: JobKind, page: object, *, partition: str, account: str) -> list[JobSummary]:
    """The summaries of a list page that belong to `account` of `partition` (`wire` has
    checked that each ARN is one: `arn:<partition>:personalize:<region>:<account>:…`)."""
    summaries, _ = wire.job_page(kind, page)
    ours = []
    for summary in summaries:
        fields = summary.arn.split(":", 5)
        if fields[1] == partition and fields[4] == account:
            ours.append(summary)
    return ours


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


def _service_errors() -> contextlib.AbstractContextManager[None]:
    from runner import boto

    return boto.service_errors()


def _operation(client: PersonalizeClient, name: str) -> Callable[..., Any]:
    from runner import boto

    return boto.operation(client, name)


def _paginator(client: PersonalizeClient, name: str) -> Any:
    from runner import boto

    return boto.paginator(client, name)
