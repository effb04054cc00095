"""The service the backends stand for, as the lower layers need it: a batch job's statuses,
the service's error answers (`ServiceError` by AWS error code), the listings that end
(`ending_pages`), and the backends' names.

Below `runner.backends` so that `runner.boto` (which turns botocore's errors into these),
`runner.config` (which checks a backend's name) and the local engine need not import the
backends; `runner.backends` re-exports every name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import ClassVar, TypeVar

Page = TypeVar("Page")

CREATE_PENDING = "CREATE PENDING"
CREATE_IN_PROGRESS = "CREATE IN_PROGRESS"
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"
FINAL_STATUSES = frozenset({ACTIVE, CREATE_FAILED})
IN_FLIGHT_STATUSES = frozenset({CREATE_PENDING, CREATE_IN_PROGRESS})
# The statuses of a batch job, once normalized: any other is reported, never recorded, and
# ends the following of that job (it holds no quota slot: the service's own refusal,
# `LimitExceededException`, says when a slot is taken).
KNOWN_STATUSES = FINAL_STATUSES | IN_FLIGHT_STATUSES
# Not a status of the service: the runner's word for a job the service no longer knows
# (`ResourceNotFoundException` on describe, absent from its listing). Reported, never
# recorded; the next look asks again.
VANISHED = "VANISHED"
# The API model documents a batch job's unfinished statuses as `PENDING` and `IN PROGRESS`;
# the developer guide, and the local stand-in, spell them `CREATE PENDING` and
# `CREATE IN_PROGRESS`. Every spelling is read as the guide's.
_STATUS_ALIASES = {
    "PENDING": CREATE_PENDING,
    "IN PROGRESS": CREATE_IN_PROGRESS,
    "IN_PROGRESS": CREATE_IN_PROGRESS,
    "CREATE IN PROGRESS": CREATE_IN_PROGRESS,
}


def normalize_status(status: str) -> str:
    return _STATUS_ALIASES.get(status, status)


class ServiceError(Exception):
    """An error answer of the service, by its AWS error code."""

    code: ClassVar[str] = "ServiceException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidInput(ServiceError):
    code = "InvalidInputException"


class ResourceAlreadyExists(ServiceError):
    code = "ResourceAlreadyExistsException"


class LimitExceeded(ServiceError):
    code = "LimitExceededException"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFoundException"


class ResourceInUse(ServiceError):
    code = "ResourceInUseException"


class TooManyTags(ServiceError):
    code = "TooManyTagsException"


class InvalidNextToken(ServiceError):
    code = "InvalidNextTokenException"


class MalformedAnswer(ServiceError):
    """An answer that is not what the API says it is: a body that is not JSON, a missing or
    mistyped field, the ARN of another job. The call may have taken effect at the service
    (a create): its outcome is unknown."""

    code = "MalformedAnswer"


class DeadlineExceeded(ServiceError):
    """The run's deadline (`--timeout`) passed before the call was answered (and no retry
    may outlast it): the call may or may not have taken effect."""

    code = "DeadlineExceeded"


class Throttled(ServiceError):
    """Throttling that outlasted the retries."""

    code = "ThrottlingException"


class Unavailable(ServiceError):
    """A 5xx answer, a timeout or a lost connection that outlasted the retries.

    The call may or may not have taken effect at the service.
    """

    code = "ServiceUnavailable"


SERVICE_ERRORS: Mapping[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        InvalidInput,
        ResourceAlreadyExists,
        LimitExceeded,
        ResourceNotFound,
        ResourceInUse,
        TooManyTags,
        InvalidNextToken,
        Throttled,
    )
}


# The pages of one listing, at most: 100,000 pages of up to 100 summaries (ten million jobs
# or versions) are far more than an account holds; a listing past it would never end.
MAX_PAGES = 100_000


def ending_pages(
    pages: Iterable[Page], next_token: Callable[[Page], Mapping[str, object]], operation: str
) -> Iterator[Page]:
    """The pages of one listing by `operation` (`ListBatchSegmentJobs`) as they come, each
    asking for the next with `next_token(page)` (the last: only Nones), refused where the
    listing would never end (issue 10), as a `MalformedAnswer`: a next token given before
    in the same listing (A, B, A, …), one that is not a string, or a page past `MAX_PAGES`.
    Each page is checked before the next one is asked for."""
    seen: set[tuple[tuple[str, object], ...]] = set()
    for number, page in enumerate(pages, 1):
        token = tuple(next_token(page).items())
        where = f"page {number:,} of the {operation} listing"
        if not all(isinstance(value, str | None) for _, value in token):
            raise MalformedAnswer(f"{where} has a next token that is not a string")
        if token in seen:
            raise MalformedAnswer(
                f"{where} gives the next token an earlier page gave: the listing would never end"
            )
        if number >= MAX_PAGES and any(value is not None for _, value in token):
            raise MalformedAnswer(f"{where} has a next page: at most {MAX_PAGES:,} are read")
        seen.add(token)
        yield page


# The backends, by name; `runner.backends.registry.open_backend` opens one.
BACKEND_NAMES = ("aws", "local")


# S3's error codes (and an S3-compatible store's) that the state store tells apart: 412 is
# S3's answer to a failed precondition; 409 to a conditional write that raced another one on
# the same key.
_S3_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_S3_MISSING_CODES = frozenset({"NoSuchKey", "404"})
_S3_DENIED_CODES = frozenset({"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"})


class S3Error(Exception):
    """An error answer of S3 (or of an S3-compatible store)."""

    def __init__(self, code: str, message: str | None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    @property
    def conflict(self) -> bool:
        """A conditional request whose condition failed, or that raced another one."""
        return self.code in _S3_CONFLICT_CODES

    @property
    def missing(self) -> bool:
        return self.code in _S3_MISSING_CODES

    @property
    def no_bucket(self) -> bool:
        return self.code == "NoSuchBucket"

    @property
    def denied(self) -> bool:
        """The credentials are refused, or may not do this."""
        return self.code in _S3_DENIED_CODES

    def __str__(self) -> str:
        code = self.code or "error"
        return f"{code}: {self.message}" if self.message else code


class S3Unreachable(Exception):
    """No answer from S3: the network, the endpoint, or no credentials to sign with."""


class S3TimedOut(S3Unreachable):
    """No answer from S3 before the run's deadline (`--timeout`): a write may or may not
    have been made."""
