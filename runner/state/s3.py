"""The state in an S3 object (`s3://bucket/key`), next to its lock object (`<key>.lock`).

The one module that talks to S3 (through `runner.boto`). Every write is a
compare-and-swap: `PutObject` with `If-Match` on the ETag this run read, or
`If-None-Match: *` when there was no state yet; S3 refuses it (412) if another run wrote
meanwhile, and the run re-reads and re-plans instead of overwriting. The lock is an
object created with `If-None-Match: *` that says who holds it; it is removed at the end,
and by `state unlock` when its holder died.

Conditional writes are what make this safe, and some S3-compatible stores accept the
headers and ignore them: each store is probed once, and such a store is refused.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.boto import S3Error, S3Unreachable, s3_client, s3_errors
from runner.errors import ConfigError, LockError, StateError
from runner.state.model import State
from runner.state.store import (
    LockHolder,
    Snapshot,
    StateConflict,
    Version,
    check_successor,
    conflict,
    holder_since,
    lock_held,
    wait_for_lock,
)
from runner.times import UTC

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_POLL_FIRST = 0.1
_POLL_MAX = 2.0
# A real ETag is never this (it is an MD5 or an MD5 with a part count).
_IMPOSSIBLE_ETAG = '"00000000000000000000000000000000-0"'


def parse_location(location: str) -> tuple[str, str]:
    """`bucket/key` (after `s3://`) as (bucket, key); `ConfigError` if either is missing."""
    bucket, _, key = location.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ConfigError(
            f"--state s3://{location}: give a bucket and an object key, "
            "e.g. s3://acme-state/personalize/state.json."
        )
    return bucket, key


def open_s3_store(location: str) -> S3StateStore:
    """The `STORES` entry for `s3://`: `location` is what follows the scheme."""
    bucket, key = parse_location(location)
    return S3StateStore(bucket, key)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class LockInfo:
    """What a lock object says: who holds the state lock, since when, under which id."""

    lock_id: str | None
    holder: LockHolder | None
    since: datetime.datetime | None
    etag: str

    def describe(self) -> str:
        return holder_since(
            self.holder, self.since, unknown="a holder that did not record who it is"
        )


class S3StateStore:
    def __init__(
        self,
        bucket: str,
        key: str,
        *,
        client: S3Client | None = None,
        warn: Callable[[str], None] = _stderr,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.lock_key = f"{key}.lock"
        self.location = f"s3://{bucket}/{key}"
        self.lock_location = f"s3://{bucket}/{self.lock_key}"
        self._client = client
        self._warn = warn
        self._checked = False
        self._held: str | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def describe(self) -> str:
        return f"state {self.location}"

    def read(self) -> Snapshot | None:
        current = self._get(self.key, what=self.describe())
        if current is None:
            return None
        data, etag = current
        state = self._parse(data)
        return Snapshot(state=state, version=str(Version.of(state, etag)))

    def write(self, state: State, *, expected: str | None) -> str:
        """Compare-and-swap; no lock is needed for it (S3 checks the condition)."""
        self.check_store()
        data = state.to_json()
        known = None if expected is None else _parse_version(expected)
        if expected is not None:
            if known is None:
                raise StateConflict(
                    f"{self.describe()}: the version {expected!r} this run holds is not one "
                    "of an S3 state (a plan saved against another state?). Run the command "
                    "again to start from the current state."
                )
            check_successor(known.lineage, known.serial, state, where=self.describe())
        try:
            with s3_errors():
                if known is None:
                    response = self.client.put_object(
                        Bucket=self.bucket,
                        Key=self.key,
                        Body=data,
                        ContentType="application/json",
                        IfNoneMatch="*",
                    )
                else:
                    response = self.client.put_object(
                        Bucket=self.bucket,
                        Key=self.key,
                        Body=data,
                        ContentType="application/json",
                        IfMatch=known.token,
                    )
        except S3Error as error:
            if not (error.conflict or error.missing):
                raise self._failure("write", self.describe(), error) from None
            etag = self._lost_race(state, data, known)
        except S3Unreachable as error:
            raise self._unreachable("write", self.describe(), error) from None
        else:
            etag = response["ETag"]
        return str(Version.of(state, etag))

    def _lost_race(self, state: State, data: bytes, known: Version | None) -> str:
        """The conditional write failed: raise the conflict, unless the stored object is
        this very write (a retried request whose first attempt succeeded)."""
        current = self._get(self.key, what=self.describe())
        if current is not None and current[0] == data:
            return current[1]
        raise conflict(
            self.describe(),
            stored=None if current is None else self._parse(current[0]),
            new=state,
            expected=known,
            expected_state=known is not None,
            restore=" (an earlier version of the object, if the bucket keeps versions)",
        )

    @contextlib.contextmanager
    def lock(self, *, holder: LockHolder, timeout: float) -> Iterator[None]:
        if self._held is not None:
            raise RuntimeError(f"{self.lock_location} is already held by this store")
        self.check_store()
        lock_id = str(uuid.uuid4())
        document = json.loads(holder.to_json(since=datetime.datetime.now(UTC)))
        document.update(lock_id=lock_id, state=self.location)
        body = (json.dumps(document, sort_keys=True) + "\n").encode()
        # The lock info last seen held by another run, for the message if it stays held.
        seen: list[LockInfo] = []

        def gave_up() -> LockError:
            return self._held_error(seen[-1], timeout=timeout)

        wait_for_lock(
            lambda: self._try_lock(body, lock_id=lock_id, seen=seen),
            timeout=timeout,
            first=_POLL_FIRST,
            most=_POLL_MAX,
            gave_up=gave_up,
        )
        self._held = lock_id
        try:
            yield
        finally:
            self._held = None
            self._release(lock_id)

    def _try_lock(self, body: bytes, *, lock_id: str, seen: list[LockInfo]) -> bool:
        """Create the lock object; False if another run holds it (then in `seen`)."""
        while True:
            try:
                with s3_errors():
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=self.lock_key,
                        Body=body,
                        ContentType="application/json",
                        IfNoneMatch="*",
                    )
            except S3Error as error:
                if not error.conflict:
                    raise LockError(
                        f"cannot create the state lock {self.lock_location}: {error}. "
                        "Check that the credentials may s3:PutObject there."
                    ) from None
            except S3Unreachable as error:
                raise LockError(
                    f"cannot reach the state lock {self.lock_location}: {error}."
                ) from None
            else:
                return True
            current = self.lock_info()
            if current is None:
                # Released between the put and the read: try again at once.
                continue
            if current.lock_id == lock_id:
                # Our own put, retried after a lost response.
                return True
            seen.append(current)
            return False

    def _held_error(self, current: LockInfo, *, timeout: float) -> LockError:
        if current.lock_id is None:
            remedy = (
                "If no run is using the state, the lock object cannot be read as a lock: "
                f"delete it (aws s3 rm {self.lock_location})."
            )
        else:
            remedy = (
                "If that run is no longer running (it was killed), remove its lock with: "
                f"personalize-runner state unlock {current.lock_id}"
            )
        lock_id = "" if current.lock_id is None else f" (lock id {current.lock_id})"
        return lock_held(
            self.lock_location,
            who=f"{current.describe()}{lock_id}",
            timeout=timeout,
            remedy=remedy,
        )

    def _release(self, lock_id: str) -> None:
        try:
            current = self.lock_info()
            if current is None or current.lock_id != lock_id:
                now = "" if current is None else f"; it is now held by {current.describe()}"
                self._warn(
                    f"warning: the state lock {self.lock_location} (lock id {lock_id}) was "
                    f"removed while this run held it, by `state unlock` or by hand{now}."
                )
                return
            self._delete(self.lock_key, etag=current.etag)
        except (StateError, LockError) as error:
            self._warn(
                f"warning: could not release the state lock {self.lock_location}: {error} "
                f"Remove it with: personalize-runner state unlock {lock_id}"
            )

    def lock_info(self) -> LockInfo | None:
        """The lock object's content, or None if the state is not locked."""
        current = self._get(self.lock_key, what=f"the state lock {self.lock_location}")
        if current is None:
            return None
        data, etag = current
        recorded = LockHolder.from_json(data)
        lock_id: str | None = None
        with contextlib.suppress(ValueError, AttributeError):
            value = json.loads(data).get("lock_id")
            lock_id = value if isinstance(value, str) and value else None
        holder, since = (None, None) if recorded is None else recorded
        return LockInfo(lock_id=lock_id, holder=holder, since=since, etag=etag)

    def unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock `lock_id` (its holder died); returns what it said.

        `LockError` if the state is not locked, or locked under another id.
        """
        current = self.lock_info()
        if current is None:
            raise LockError(
                f"the state lock {self.lock_location} does not exist: the state is not locked "
                "(its holder finished, or it was removed already)."
            )
        if current.lock_id != lock_id:
            held = "no lock id" if current.lock_id is None else f"lock id {current.lock_id}"
            raise LockError(
                f"the state lock {self.lock_location} has {held}, not {lock_id}: it is held "
                f"by {current.describe()}. Check the id in the error message of the run that "
                "waited for it; a lock taken since is not removed."
            )
        try:
            self._delete(self.lock_key, etag=current.etag)
        except StateConflict:
            raise LockError(
                f"the state lock {self.lock_location} changed while it was being removed "
                "(its holder released it, or another run took it): nothing was removed."
            ) from None
        return current

    def check_store(self) -> None:
        """Once per store: refuse a store that ignores conditional writes, and warn if the
        bucket keeps no versions of the state."""
        if self._checked:
            return
        self._check_conditional_writes()
        self._check_versioning()
        self._checked = True

    def _check_conditional_writes(self) -> None:
        probe = f"{self.key}.probe-{uuid.uuid4()}"
        where = f"s3://{self.bucket}/{probe}"
        ignored: list[str] = []
        try:
            with s3_errors():
                self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"probe\n")
            attempts: tuple[tuple[str, Callable[[], object]], ...] = (
                (
                    "If-None-Match: *",
                    lambda: self.client.put_object(
                        Bucket=self.bucket,
                        Key=probe,
                        Body=b"must not be written\n",
                        IfNoneMatch="*",
                    ),
                ),
                (
                    "If-Match",
                    lambda: self.client.put_object(
                        Bucket=self.bucket,
                        Key=probe,
                        Body=b"must not be written\n",
                        IfMatch=_IMPOSSIBLE_ETAG,
                    ),
                ),
            )
            for header, attempt in attempts:
                try:
                    with s3_errors():
                        attempt()
                except S3Error as error:
                    if not error.conflict:
                        raise
                else:
                    ignored.append(header)
        except S3Error as error:
            raise self._failure("check conditional writes on", where, error) from None
        except S3Unreachable as error:
            raise self._unreachable("check conditional writes on", where, error) from None
        finally:
            with contextlib.suppress(S3Unreachable, StateError):
                self._delete(probe, etag=None)
        if ignored:
            raise StateError(
                f"the store behind s3://{self.bucket} ignores conditional writes "
                f"({' and '.join(ignored)} on PutObject): two runs could overwrite each "
                "other's records there, so the runner refuses to keep its state in it. Use "
                "Amazon S3, or an S3-compatible store that implements conditional writes, or "
                "a local state file."
            )

    def _check_versioning(self) -> None:
        try:
            with s3_errors():
                status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except (S3Error, S3Unreachable):
            # Not allowed to ask (s3:GetBucketVersioning) or not implemented: say nothing.
            return
        if status != "Enabled":
            self._warn(
                f"warning: the bucket {self.bucket} of {self.describe()} has no versioning: a "
                "state that is overwritten or deleted by mistake cannot be recovered. Enable "
                f"it: aws s3api put-bucket-versioning --bucket {self.bucket} "
                "--versioning-configuration Status=Enabled"
            )

    def _get(self, key: str, *, what: str) -> tuple[bytes, str] | None:
        try:
            with s3_errors():
                response = self.client.get_object(Bucket=self.bucket, Key=key)
                return response["Body"].read(), response["ETag"]
        except S3Error as error:
            if error.missing:
                return None
            raise self._failure("read", what, error) from None
        except S3Unreachable as error:
            raise self._unreachable("read", what, error) from None

    def _delete(self, key: str, *, etag: str | None) -> None:
        try:
            with s3_errors():
                if etag is None:
                    self.client.delete_object(Bucket=self.bucket, Key=key)
                else:
                    self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except S3Error as error:
            if error.conflict or error.missing:
                raise StateConflict(f"s3://{self.bucket}/{key} changed meanwhile") from None
            raise self._failure("delete", f"s3://{self.bucket}/{key}", error) from None
        except S3Unreachable as error:
            raise self._unreachable("delete", f"s3://{self.bucket}/{key}", error) from None

    def _parse(self, data: bytes) -> State:
        return State.from_json(
            data,
            source=self.location,
            remedy=(
                "Restore an earlier version of the object (if the bucket keeps versions) or "
                "a copy of it; the runner will not overwrite it."
            ),
        )

    def _failure(self, action: str, what: str, error: S3Error) -> StateError:
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

    def _unreachable(self, action: str, what: str, error: Exception) -> StateError:
        return StateError(
            f"cannot {action} {what}: {error}. Check the credentials and the network, or "
            "AWS_ENDPOINT_URL_S3 for an S3-compatible store."
        )


def _parse_version(version: str) -> Version | None:
    known = Version.parse(version)
    # An ETag is quoted: a token that is not comes from another kind of store.
    return known if known is not None and known.token.startswith('"') else None
