"""The lock of an S3 state: a lease in an object beside it (`<key>.lock`).

A run takes the lock by creating the object with `If-None-Match: *`; it says who holds it
and for how long: the lease (`lease_seconds`, 30 s unless `PERSONALIZE_RUNNER_S3_LOCK_LEASE`
says otherwise). While the run goes on, a heartbeat thread renews the lease every third of
it (every 10 s), each renewal a `PutObject` with `If-Match` on the ETag of the last one. A
run that stops renewing (killed, frozen, cut off from S3) loses the lock to the next run
that wants it once the lease has lapsed by S3's own clock (`Last-Modified` of the object
against the `Date` of S3's answer, one second of resolution), or as soon as the waiting run
sees that the holder no longer runs (same host: its pid and process start). So a lock left
behind is taken over at most a lease (plus a second, plus a poll of at most 2 s) after its
holder's last renewal; a run that waits says who holds the lock, until when its lease runs,
and how long it will wait.

Breaking a lease is safe because the lock is not what protects the state: every write of
the state is a compare-and-swap on its ETag (`s3.py`), so a run whose lease was broken
cannot overwrite what the run that took over wrote; its heartbeat also finds out (the
renewal's condition fails) and says so.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.boto import s3_errors
from runner.deadline import brief_wait
from runner.errors import ConfigError, LockError, StateError
from runner.jsonread import parse
from runner.service import S3Error, S3TimedOut, S3Unreachable
from runner.state.s3objects import Got, S3Objects
from runner.state.store import (
    LockHolder,
    StateConflict,
    holder_since,
    liveness,
    lock_held,
    wait_for_lock,
)
from runner.times import UTC, format_time

LEASE_SETTING = "PERSONALIZE_RUNNER_S3_LOCK_LEASE"
DEFAULT_LEASE = 30.0
_LEASE_RANGE = (2.0, 3600.0)
# Last-Modified and Date are to the second.
_CLOCK_SLACK = 1.0
_POLL_FIRST = 0.1
_POLL_MAX = 2.0
# The longest wait, at release, for a renewal in flight.
_RELEASE_WAIT = 5.0


def lease_seconds(environ: Mapping[str, str] | None = None) -> float:
    """The lease a run takes: `PERSONALIZE_RUNNER_S3_LOCK_LEASE` seconds, or 30."""
    text = (os.environ if environ is None else environ).get(LEASE_SETTING, "").strip()
    if not text:
        return DEFAULT_LEASE
    low, high = _LEASE_RANGE
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(
            f"{LEASE_SETTING}={text}: give the S3 state lock's lease in seconds, from {low:g} "
            f"to {high:g} (default {DEFAULT_LEASE:g})."
        )
    return value


@dataclass(frozen=True)
class LockInfo:
    """What a lock object says: who holds the state lock, since when, under which id, and
    the lease it took; and, by S3's clock, when the lease was last renewed."""

    lock_id: str | None
    holder: LockHolder | None
    since: datetime.datetime | None
    etag: str
    # Seconds; None for a lock without a lease (an older personalize-runner's).
    lease: float | None = None
    renewed_at: datetime.datetime | None = field(default=None, compare=False)
    # Seconds since the last renewal, by S3's clock; None if S3 does not say.
    age: float | None = field(default=None, compare=False)
    renewals: int | None = field(default=None, compare=False)

    def describe(self) -> str:
        return holder_since(
            self.holder, self.since, unknown="a holder that did not record who it is"
        )

    @property
    def until(self) -> datetime.datetime | None:
        """When the lease lapses unless it is renewed (S3's clock)."""
        if self.lease is None or self.renewed_at is None:
            return None
        return self.renewed_at + datetime.timedelta(seconds=self.lease)

    @classmethod
    def of(cls, got: Got) -> LockInfo:
        recorded = LockHolder.from_json(got.data)
        holder, since = (None, None) if recorded is None else recorded
        document: Any = None
        with contextlib.suppress(ValueError):
            document = parse(got.data)
        if not isinstance(document, dict):
            document = {}
        lock_id = document.get("lock_id")
        lease = document.get("lease_seconds")
        renewals = document.get("renewals")
        age = None
        if got.answered is not None and got.last_modified is not None:
            age = max(0.0, (got.answered - got.last_modified).total_seconds())
        return cls(
            lock_id=lock_id if isinstance(lock_id, str) and lock_id else None,
            holder=holder,
            since=since,
            etag=got.etag,
            lease=float(lease)
            if isinstance(lease, int | float) and not isinstance(lease, bool) and lease > 0
            else None,
            renewed_at=got.last_modified,
            age=age,
            renewals=renewals if isinstance(renewals, int) else None,
        )


class S3Lock:
    """The lock object `lock_key` of the state `state_location`, and this run's lease."""

    def __init__(
        self,
        objects: S3Objects,
        *,
        lock_key: str,
        state_location: str,
        lease: float,
        warn: Callable[[str], None],
        renewing: S3Objects | None = None,
    ) -> None:
        self.objects = objects
        # The heartbeat's: a client with short timeouts, so that a renewal that hangs
        # does not outlast the lease.
        self.renewing = renewing or objects
        self.lock_key = lock_key
        self.location = objects.url(lock_key)
        self.state_location = state_location
        self.lease = lease
        self._warn = warn
        self._lock_id: str | None = None
        self._document: dict[str, Any] = {}
        self._etag = ""
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0
        # Why this run no longer holds the lock (taken over, removed), once it knows.
        self._lost: str | None = None
        self._lapsing = False

    @property
    def lock_id(self) -> str | None:
        return self._lock_id

    def info(self) -> LockInfo | None:
        """The lock object's content, or None if the state is not locked."""
        got = self.objects.get(self.lock_key, what=f"the state lock {self.location}", small=True)
        return None if got is None else LockInfo.of(got)

    # Taking the lock

    def acquire(self, holder: LockHolder, *, timeout: float) -> None:
        if self._lock_id is not None:
            raise RuntimeError(f"{self.location} is already held by this store")
        lock_id = str(uuid.uuid4())
        document = {
            **holder.document(since=datetime.datetime.now(UTC)),
            "lock_id": lock_id,
            "state": self.state_location,
            "lease_seconds": self.lease,
            "renewals": 0,
        }
        body = _encode(document)
        # The lock last seen held by another run, and since when (monotonic) each of its
        # versions has been seen unchanged: a lease that S3's clock cannot date lapses by
        # this run's observation.
        seen: list[LockInfo] = []
        first_seen: dict[str, float] = {}

        def attempt() -> bool:
            while True:
                if self._put(body, if_none_match=True, lock_id=lock_id):
                    return True
                current = self.info()
                if current is None:
                    # Released between the put and the read: try again at once.
                    continue
                if current.lock_id == lock_id:
                    # Our own put, retried after a lost response.
                    self._etag = current.etag
                    return True
                observed = time.monotonic() - first_seen.setdefault(current.etag, time.monotonic())
                reason = self._gone(current, observed=observed)
                if reason is None:
                    seen[:] = [current]
                    return False
                if self._put(body, if_match=current.etag, lock_id=lock_id):
                    self._warn(
                        f"warning: took over the state lock {self.location} (lock id "
                        f"{current.lock_id}) from {current.describe()}: {reason}. That is "
                        "safe: every write of the state is a compare-and-swap, so that run "
                        "cannot overwrite what this one writes."
                    )
                    return True

        wait_for_lock(
            attempt,
            timeout=timeout,
            first=_POLL_FIRST,
            most=_POLL_MAX,
            gave_up=lambda: self._held_error(seen[-1], timeout=timeout),
            waiting=lambda remaining: self._warn(self._waiting(seen[-1], remaining)),
        )
        self._lock_id, self._document = lock_id, document
        self._lost, self._lapsing = None, False
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="state-lock-heartbeat", daemon=True)
        self._thread.start()

    def _put(
        self,
        body: bytes,
        *,
        lock_id: str,
        if_none_match: bool = False,
        if_match: str | None = None,
        objects: S3Objects | None = None,
    ) -> bool:
        """Write the lock object under a condition: False if the condition failed (and
        the object is not this very write, retried after a lost answer)."""
        objects = objects or self.objects
        condition: dict[str, str] = {"IfNoneMatch": "*"} if if_none_match else {}
        if if_match is not None:
            condition["IfMatch"] = if_match
        try:
            with s3_errors():
                response = objects.client.put_object(
                    Bucket=objects.bucket,
                    Key=self.lock_key,
                    Body=body,
                    ContentType="application/json",
                    **condition,  # type: ignore[arg-type]
                )
        except S3Error as error:
            if not (error.conflict or (if_match is not None and error.missing)):
                raise LockError(
                    f"cannot write the state lock {self.location}: {error}. Check that the "
                    "credentials may s3:PutObject there."
                ) from None
            got = objects.get(self.lock_key, what=f"the state lock {self.location}", small=True)
            if got is not None and got.data == body:
                self._etag = got.etag
                return True
            return False
        except S3TimedOut as error:
            raise objects.unreachable("write", f"the state lock {self.location}", error) from None
        except S3Unreachable as error:
            raise LockError(f"cannot reach the state lock {self.location}: {error}.") from None
        self._etag = response["ETag"]
        return True

    def _gone(self, current: LockInfo, *, observed: float) -> str | None:
        """Why the lock `current` may be taken over (its holder is gone), or None."""
        if current.holder is not None and current.holder.alive() is False:
            return "its holder no longer runs (same host: its process is gone)"
        if current.lease is None:
            return None
        age = max(current.age or 0.0, observed)
        if age <= current.lease + _CLOCK_SLACK:
            return None
        renewed = "" if current.renewed_at is None else f", at {format_time(current.renewed_at)}"
        return (
            f"its {current.lease:g}s lease lapsed (last renewed {age:.0f}s ago{renewed}): its "
            "holder stopped renewing it (killed, frozen, or cut off from S3)"
        )

    def _waiting(self, current: LockInfo, remaining: float) -> str:
        who = current.describe()
        if current.holder is not None:
            who = f"{who} ({liveness(current.holder)})"
        lock_id = "" if current.lock_id is None else f", lock id {current.lock_id}"
        until = current.until
        if current.lease is None:
            lease = (
                "it has no lease (an older personalize-runner took it), so it is not taken "
                "over by itself"
            )
        elif until is None:
            lease = f"its {current.lease:g}s lease lapses unless its holder renews it"
        else:
            lease = (
                f"its {current.lease:g}s lease runs until {format_time(until)} unless its "
                "holder renews it"
            )
        return (
            f"waiting for the state lock {self.location}: it is held by {who}{lock_id}; "
            f"{lease}; waiting up to {round(remaining, 1):g}s for it (the lock timeout)."
        )

    def _held_error(self, current: LockInfo, *, timeout: float) -> LockError:
        if current.lock_id is None:
            remedy = (
                "If no run is using the state, the lock object cannot be read as a lock: "
                f"delete it (aws s3 rm {self.location})."
            )
        elif current.lease is not None:
            remedy = (
                f"If that run is no longer running, its lease lapses by itself at most "
                f"{current.lease:g}s after its last renewal and the next run takes the lock "
                "over; to remove it at once: personalize-runner state unlock "
                f"{current.lock_id}"
            )
        else:
            remedy = (
                "If that run is no longer running (it was killed), remove its lock with: "
                f"personalize-runner state unlock {current.lock_id}"
            )
        lock_id = "" if current.lock_id is None else f" (lock id {current.lock_id})"
        return lock_held(
            self.location, who=f"{current.describe()}{lock_id}", timeout=timeout, remedy=remedy
        )

    # Holding it

    def _beat(self) -> None:
        """Renew the lease every third of it until released; more often after a failure."""
        interval = self.lease / 3
        delay = interval
        while not self._stop.wait(delay):
            with self._mutex:
                if self._stop.is_set() or self._lost is not None:
                    return
                renewed = self._renew()
            if not renewed and self._has_lost():
                return
            delay = interval if renewed else min(interval, 1.0)

    def _renew(self) -> bool:
        lock_id = self._lock_id
        if lock_id is None:
            return False
        document = dict(self._document)
        document["renewals"] = int(document["renewals"]) + 1
        document["renewed_at"] = format_time(datetime.datetime.now(UTC))
        try:
            renewed = self._put(
                _encode(document), lock_id=lock_id, if_match=self._etag, objects=self.renewing
            )
        except (LockError, StateError) as error:
            if not self._lapsing and time.monotonic() - self._renewed > self.lease:
                self._lapsing = True
                self._warn(
                    f"warning: this run could not renew its lease on the state lock "
                    f"{self.location} for {self.lease:g}s ({error}): another run may take the "
                    "lock over. The state stays safe: its writes are compare-and-swap."
                )
            return False
        if not renewed:
            self._lost = (
                "it was taken over by another run (after its lease lapsed) or removed "
                "(`state unlock`)"
            )
            self._warn(
                f"warning: this run no longer holds the state lock {self.location} (lock id "
                f"{lock_id}): {self._lost}. It writes no state over another run's: every "
                "write is a compare-and-swap."
            )
            return False
        self._document = document
        self._renewed = time.monotonic()
        if self._lapsing:
            self._lapsing = False
            self._warn(f"the lease on the state lock {self.location} is renewed again.")
        return True

    def _has_lost(self) -> bool:
        return self._lost is not None

    def check_held(self) -> None:
        """`LockError` unless the lock object is still this run's."""
        lock_id = self._lock_id
        if lock_id is None:
            return
        if self._lost is None:
            current = self.info()
            if current is None or current.lock_id != lock_id:
                self._lost = "it was removed (`state unlock`) or taken over by another run"
        if self._lost is not None:
            raise LockError(
                f"this run no longer holds the state lock {self.location} (lock id {lock_id}): "
                f"{self._lost}. It stops here, before submitting anything; run it again."
            )

    def release(self) -> None:
        """Stop renewing and remove the lock object, if it is still this run's."""
        lock_id, self._lock_id = self._lock_id, None
        self._stop.set()
        thread, self._thread = self._thread, None
        # Past the run's deadline, each wait is brief: the release is still attempted (so
        # that the next run need not wait for the lease), in about a second per step.
        if thread is not None:
            thread.join(timeout=brief_wait(self.objects.remaining, _RELEASE_WAIT))
        if lock_id is None:
            return
        # A renewal that is still in flight would change the ETag under the delete.
        locked = self._mutex.acquire(timeout=brief_wait(self.objects.remaining, _RELEASE_WAIT))
        try:
            current = self.info()
            if current is None or current.lock_id != lock_id:
                now = "" if current is None else f"; it is now held by {current.describe()}"
                self._warn(
                    f"warning: the state lock {self.location} (lock id {lock_id}) was "
                    "removed while this run held it (by `state unlock`, by hand, or by a run "
                    f"that took it over after its lease lapsed){now}."
                )
                return
            self.objects.delete(self.lock_key, etag=current.etag)
        except (StateError, LockError) as error:
            self._warn(
                f"warning: could not release the state lock {self.location}: {error} Its "
                f"lease lapses by itself {self.lease:g}s after its last renewal, and the "
                "next run takes it over then; to remove it at once: personalize-runner state "
                f"unlock {lock_id}"
            )
        finally:
            if locked:
                self._mutex.release()

    # Removing a dead holder's lock by hand

    def unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock `lock_id` (its holder died); returns what it said.

        `LockError` if the state is not locked, or locked under another id.
        """
        current = self.info()
        if current is None:
            raise LockError(
                f"the state lock {self.location} does not exist: the state is not locked "
                "(its holder finished, or it was removed already)."
            )
        if current.lock_id != lock_id:
            held = "no lock id" if current.lock_id is None else f"lock id {current.lock_id}"
            raise LockError(
                f"the state lock {self.location} has {held}, not {lock_id}: it is held "
                f"by {current.describe()}. Check the id in the error message of the run that "
                "waited for it; a lock taken since is not removed."
            )
        try:
            self.objects.delete(self.lock_key, etag=current.etag)
        except StateConflict:
            raise LockError(
                f"the state lock {self.location} changed while it was being removed "
                "(its holder released it or renewed its lease, or another run took it): "
                "nothing was removed."
            ) from None
        return current


def _encode(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, sort_keys=True) + "\n").encode()
