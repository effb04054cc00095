"""The `aws` backend: Amazon Personalize through boto3.

This is the one module that imports boto3 and botocore, and only when a call is made:
`import runner.backends.aws` stays cheap. Credentials and endpoints come from boto3's
default chains, so `AWS_PROFILE`, `AWS_ENDPOINT_URL_PERSONALIZE` and friends work.
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
    ServiceError,
    Throttled,
    Unavailable,
)
from runner.backends.wire import job_description, job_summary
from runner.errors import BackendError

if TYPE_CHECKING:
    import boto3
    from botocore.exceptions import ClientError
    from mypy_boto3_personalize.client import PersonalizeClient

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
    """The `Backend` protocol over boto3, one client per region (the region of each ARN).

    `retry_mode` and `max_attempts` (the first call included) configure botocore's
    retries; `endpoint_url` overrides boto3's endpoint resolution, and `profile` its
    default profile. A `session` given is used as it is (and `profile` ignored).
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
    ) -> None:
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.endpoint_url = endpoint_url
        self.profile = profile
        self._session = session
        self._clients: dict[str, PersonalizeClient] = {}
        # boto3 sessions are not thread-safe; clients are.
        self._lock = threading.Lock()

    def create_job(self, request: Mapping[str, Any]) -> str:
        client = self._client(_region(request.get("solutionVersionArn")))
        with _service_errors():
            response = client.create_batch_segment_job(**request)
        return response["batchSegmentJobArn"]

    def describe_job(self, arn: str) -> JobDescription:
        client = self._client(_region(arn))
        with _service_errors():
            response = client.describe_batch_segment_job(batchSegmentJobArn=arn)
        return job_description(response["batchSegmentJob"])

    def list_jobs(self, *, partition: str, region: str, account: str) -> Iterator[JobSummary]:
        """Every job of the region that belongs to `account` and `partition`.

        The service lists the jobs of the caller's account: with credentials of another
        account there are none to show.
        """
        paginator = self._client(region).get_paginator("list_batch_segment_jobs")
        with _service_errors():
            for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
                for summary in page.get("batchSegmentJobs", []):
                    arn = Arn.parse(summary["batchSegmentJobArn"])
                    if (arn.partition, arn.account) == (partition, account):
                        yield job_summary(summary)

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        client = self._client(_region(arn))
        with _service_errors():
            response = client.list_tags_for_resource(resourceArn=arn)
        return [
            {"tagKey": tag["tagKey"], "tagValue": tag["tagValue"]}
            for tag in response.get("tags", [])
        ]

    def close(self) -> None:
        """Close the clients' connections."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
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

    def _client(self, region: str) -> PersonalizeClient:
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._new_client(region)
            return client

    def _new_client(self, region: str) -> PersonalizeClient:
        import boto3
        from botocore.config import Config

        if self._session is None:
            with _service_errors():
                self._session = boto3.Session(profile_name=self.profile)
        config = Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )
        return self._session.client(
            "personalize", region_name=region, endpoint_url=self.endpoint_url, config=config
        )


def _region(arn: object) -> str:
    if not isinstance(arn, str):
        raise InvalidInput(f"Not an ARN: {arn!r}")
    try:
        region = Arn.parse(arn).region
    except ValueError as error:
        raise InvalidInput(f"Not an ARN: {arn}") from error
    if not region:
        raise InvalidInput(f"The ARN {arn} names no region")
    return region


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
