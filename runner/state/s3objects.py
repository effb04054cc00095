"""The objects of an S3 state in one bucket, read and written through `runner.boto`, with
the messages that say what failed: the S3 store (`s3.py`) and its lock (`s3lock.py`)
share them."""

from __future__ import annotations

import datetime
import email.utils
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.boto import S3Clients, s3_errors
from runner.deadline import Remaining
from runner.errors import StateError
from runner.jsonread import JsonLimitError, Limits, read_limited
from runner.service import S3Error, S3TimedOut, S3Unreachable
from runner.state.store import StateConflict, StoreTimedOut
from runner.times import UTC

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The state's own reader checks its size again; a lock object is a few hundred bytes.
_STATE_LIMITS = Limits()
_LOCK_LIMITS = Limits(max_bytes=64 * 1024)


@dataclass(frozen=True)
class Got:
    """An object as read: its content and ETag, and S3's own clock: when the object was
    last written and when S3 answered (None where a store does not say)."""

    data: bytes
    etag: str
    last_modified: datetime.datetime | None
    answered: datetime.datetime | None


class S3Objects:
    """The objects of `bucket`; `client` if given, or clients made when first used
    (`clients`, by default ones whose calls are bounded by `remaining`: the run's deadline,
    `--timeout`)."""

    def __init__(
        self,
        bucket: str,
        key: str,
        *,
        client: S3Client | None = None,
        remaining: Remaining | None = None,
        clients: S3Clients | None = None,
    ) -> None:
        self.bucket = bucket
        # The state's key: what permissions messages name (`<key>*`).
        self.key = key
        self.remaining = remaining
        self._client = client
        self._clients = clients or S3Clients(remaining=remaining)

    @property
    def client(self) -> S3Client:
        """The client for a call made now: read it for each call (near the deadline, its
        timeouts are what is left of it)."""
        if self._client is not None:
            return self._client
        return self._clients.client()

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str, *, what: str, small: bool = False) -> Got | None:
        """The object `key`, or None if there is none; `StateError` naming `what` if it
        cannot be read (or is larger than a state, or than a lock if `small`)."""
        try:
            with s3_errors():
                response = self.client.get_object(Bucket=self.bucket, Key=key)
                data = read_limited(
                    response["Body"], limits=_LOCK_LIMITS if small else _STATE_LIMITS
                )
        except JsonLimitError as error:
            raise StateError(f"cannot read {what}: {error}.") from None
        except S3Error as error:
            if error.missing:
                return None
            raise self.failure("read", what, error) from None
        except S3Unreachable as error:
            raise self.unreachable("read", what, error) from None
        return Got(
            data=data,
            etag=response["ETag"],
            last_modified=_utc(response.get("LastModified")),
            answered=_answered(response),
        )

    def delete(self, key: str, *, etag: str | None) -> None:
        """Delete `key` (only if its ETag is still `etag`: else `StateConflict`)."""
        try:
            with s3_errors():
                if etag is None:
                    self.client.delete_object(Bucket=self.bucket, Key=key)
                else:
                    self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except S3Error as error:
            if error.conflict or error.missing:
                raise StateConflict(f"{self.url(key)} changed meanwhile") from None
            raise self.failure("delete", self.url(key), error) from None
        except S3Unreachable as error:
            raise self.unreachable("delete", self.url(key), error) from None

    def failure(self, action: str, what: str, error: S3Error) -> StateError:
        if error.no_bucket:
            return StateError(
                f"cannot {action} {what}: the bucket {self.bucket} does not exist. Create it "
                "(with versioning), or fix --state / the `state` setting."
            )
        if error.denied:
            return StateError(
                f"cannot {action} {what}: {error}. Check the credentials (AWS_PROFILE, "
                "the CI role) and that they may s3:GetObject, s3:PutObject and s3:DeleteObject "
                f"on s3://{self.bucket}/{self.key}*."
            )
        return StateError(f"cannot {action} {what}: {error}.")

    def unreachable(self, action: str, what: str, error: Exception) -> StateError:
        if isinstance(error, S3TimedOut):
            return StoreTimedOut(
                f"cannot {action} {what}: {error}. S3 did not answer before the run's "
                "deadline; run again (with a longer --timeout if S3 is slow), or check "
                "AWS_ENDPOINT_URL_S3 for an S3-compatible store."
            )
        return StateError(
            f"cannot {action} {what}: {error}. Check the credentials and the network, or "
            "AWS_ENDPOINT_URL_S3 for an S3-compatible store."
        )


def _utc(value: object) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return None


def _answered(response: Any) -> datetime.datetime | None:
    """The `Date` of S3's answer: its clock, to which `LastModified` is compared."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    text = headers.get("date")
    if not isinstance(text, str):
        return None
    try:
        return _utc(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError):
        return None
