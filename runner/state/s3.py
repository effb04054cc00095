"""The state in an S3 object (`s3://bucket/key`), next to its lock object (`<key>.lock`).

The one module that talks to S3 (through `runner.boto`). Every write is a
compare-and-swap: `PutObject` with `If-Match` on the ETag this run read, or
`If-None-Match: *` when there was no state yet; S3 refuses it (412) if another run wrote
meanwhile, and the run re-reads and re-plans instead of overwriting. The lock is a lease
in an object beside the state, renewed while its holder runs and taken over by the next
run once it lapses (`s3lock.py`); `state unlock` removes one at once.

Under the lock, a change is not a PUT of the whole state but a small delta object beside
it (`s3deltas.py`: `<key>.deltas/<lineage>/<serial>.json`, `If-None-Match: *`), folded into
the state object when the lock is released (by this run, or by the next one to take it); a
reader applies the deltas that follow the object's serial. So recording a job uploads its
record only, whatever the state holds (issue 11).

Conditional writes are what make this safe, and some S3-compatible stores accept the
headers and ignore them: each store is probed once, and such a store is refused; before
a run's first create, each kind of write it will make is proven allowed (`s3probe.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner import faults
from runner.boto import S3Clients, s3_errors
from runner.deadline import until
from runner.digest import sha256_hex
from runner.errors import ConfigError, LockError, StateError
from runner.service import S3Error, S3TimedOut, S3Unreachable
from runner.state.delta import Delta, apply
from runner.state.model import State
from runner.state.record import JobRecord
from runner.state.s3deltas import (
    Listed,
    delta_key,
    put_delta,
    read_deltas,
    remove_deltas,
    stored_etag,
)
from runner.state.s3lock import LockInfo, S3Lock, lease_seconds
from runner.state.s3objects import S3Objects
from runner.state.s3probe import check_conditional_writes, check_run_writes
from runner.state.store import (
    LockHolder,
    Snapshot,
    StateConflict,
    Version,
    check_successor,
    conflict,
    stderr,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["LockInfo", "S3StateStore", "open_s3_store", "parse_location"]

# How often a read starts again when a compaction ran between the snapshot and the listing.
_READ_ATTEMPTS = 5


@dataclass(frozen=True)
class _Known:
    """The state as this store last read or wrote it: the version, the snapshot's ETag
    and serial, and the deltas listed beside it (for the compaction to remove)."""

    version: str
    state: State
    snapshot_etag: str
    snapshot_serial: int
    deltas: tuple[Listed, ...]


def parse_location(location: str) -> tuple[str, str]:
    """`bucket/key` (after `s3://`) as (bucket, key); `ConfigError` if either is missing."""
    bucket, _, key = location.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ConfigError(
            f"--state s3://{location}: give a bucket and an object key, "
            "e.g. s3://acme-state/personalize/state.json."
        )
    return bucket, key


def open_s3_store(location: str, *, deadline: float | None = None) -> S3StateStore:
    """The `STORES` entry for `s3://`: `location` is what follows the scheme; `deadline`
    (a `time.monotonic()` instant, `--timeout`) bounds every call to S3."""
    bucket, key = parse_location(location)
    return S3StateStore(bucket, key, deadline=deadline)


class S3StateStore:
    def __init__(
        self,
        bucket: str,
        key: str,
        *,
        client: S3Client | None = None,
        warn: Callable[[str], None] = stderr,
        lease: float | None = None,
        deadline: float | None = None,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.lock_key = f"{key}.lock"
        self.location = f"s3://{bucket}/{key}"
        self.lock_location = f"s3://{bucket}/{self.lock_key}"
        # Every call but the heartbeat's is bounded by the run's deadline (issue 10).
        self.objects = S3Objects(bucket, key, client=client, remaining=until(deadline))
        lease = lease_seconds() if lease is None else lease
        # The heartbeat's calls time out well within the lease, retried once; the run does
        # not wait for them at its end.
        renewing = (
            None
            if client is not None
            else S3Objects(
                bucket,
                key,
                clients=S3Clients(
                    connect_timeout=lease / 6, read_timeout=lease / 6, max_attempts=2
                ),
            )
        )
        self._lock = S3Lock(
            self.objects,
            lock_key=self.lock_key,
            state_location=self.location,
            lease=lease,
            warn=warn,
            renewing=renewing,
        )
        self._warn = warn
        self._checked = False
        self._writes_checked = False
        self._known: _Known | None = None
        self._locked = False

    @property
    def client(self) -> S3Client:
        return self.objects.client

    def describe(self) -> str:
        return f"state {self.location}"

    def read(self) -> Snapshot | None:
        for _ in range(_READ_ATTEMPTS):
            current = self.objects.get(self.key, what=self.describe())
            if current is None:
                self._known = None
                return None
            snapshot = self._parse(current.data)
            found = read_deltas(self.objects, self.key, snapshot.lineage, snapshot.serial)
            if found is None:
                continue
            deltas, listed, last_etag = found
            state = apply(snapshot, deltas, where=self.describe())
            token = current.etag if last_etag is None else f"{current.etag}+{last_etag}"
            version = str(Version.of(state, token))
            self._known = _Known(version, state, current.etag, snapshot.serial, tuple(listed))
            return Snapshot(state=state, version=version)
        raise StateError(
            f"cannot read {self.describe()}: its deltas do not follow the state object "
            f"({_READ_ATTEMPTS} tries; a delta was removed by hand?). Restore the deltas or an "
            "earlier version of the object; the runner will not overwrite it."
        )

    def write(self, state: State, *, expected: str | None) -> str:
        """Compare-and-swap; no lock is needed for it (S3 checks the condition). Under the
        lock, a delta; otherwise the state object itself (a delta, folded at once)."""
        self.check_store()
        known = None if expected is None else _parse_version(expected)
        if expected is not None:
            if known is None:
                raise StateConflict(
                    f"{self.describe()}: the version {expected!r} this run holds is not one "
                    "of an S3 state (a plan saved against another state?). Run the command "
                    "again to start from the current state."
                )
            check_successor(known.lineage, known.serial, state, where=self.describe())
        if known is None:
            return self._put_snapshot(state)
        ours = self._known
        if ours is None or ours.version != expected:
            current = self.read()
            if current is None or current.version != expected:
                raise self._conflict(
                    None if current is None else current.state, state, known, expected_state=True
                )
            ours = self._known
            assert ours is not None
        changes = state.changes_since(ours.state)
        if changes is None:
            changes = _differences(ours.state, state)
        version = self._put_delta(ours, state, changes, known)
        if not self._locked:
            return self.compact()
        return version

    def _conflict(
        self, stored: State | None, new: State, known: Version | None, *, expected_state: bool
    ) -> StateConflict:
        """The state moved under this run: what is stored now, and how to get an older one."""
        return conflict(
            self.describe(),
            stored=stored,
            new=new,
            expected=known,
            expected_state=expected_state,
            restore=" (an earlier version of the object, if the bucket keeps versions)",
        )

    def _put_snapshot(self, state: State) -> str:
        """The first state (there is none yet)."""
        data = state.to_json()
        try:
            with s3_errors():
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=data,
                    ContentType="application/json",
                    IfNoneMatch="*",
                )
        except S3Error as error:
            if not (error.conflict or error.missing):
                raise self.objects.failure("write", self.describe(), error) from None
            etag = self._lost_race(state, data, None)
        except S3Unreachable as error:
            raise self.objects.unreachable("write", self.describe(), error) from None
        else:
            etag = response["ETag"]
        version = str(Version.of(state, etag))
        self._known = _Known(version, state, etag, state.serial, ())
        return version

    def _put_delta(
        self,
        ours: _Known,
        state: State,
        changes: dict[str, JobRecord | None],
        known: Version,
    ) -> str:
        delta = Delta.of(state, changes)
        etag, written = put_delta(self.objects, self.key, delta)
        if not written:
            # Another run extended the same serial first.
            self._known = None
            current = self.read()
            raise self._conflict(
                None if current is None else current.state, state, known, expected_state=True
            )
        faults.crash_at("delta-written")
        snapshot_etag = ours.snapshot_etag
        now = stored_etag(self.objects, self.key, what=self.describe())
        if now != snapshot_etag:
            # A compaction ran: the delta still follows the new snapshot only if that one
            # is at an older serial than the delta's.
            moved = self.objects.get(self.key, what=self.describe())
            stored = None if moved is None else self._parse(moved.data)
            if moved is None or stored is None or stored.serial >= state.serial:
                self._known = None
                raise self._conflict(stored, state, known, expected_state=True)
            snapshot_etag = moved.etag
        listed = (
            *ours.deltas,
            Listed(state.serial, delta_key(self.key, state.lineage, state.serial)),
        )
        version = str(Version.of(state, f"{snapshot_etag}+{etag}"))
        self._known = _Known(version, state, snapshot_etag, ours.snapshot_serial, listed)
        return version

    def compact(self) -> str:
        """Fold the deltas into the state object (`If-Match` the one read), then remove
        them; returns the state's version. Nothing to fold: the version as it is."""
        ours = self._known
        if ours is None:
            snapshot = self.read()
            ours = self._known
            if snapshot is None or ours is None:
                return ""
        if ours.state.serial == ours.snapshot_serial:
            if ours.deltas:
                remove_deltas(self.objects, list(ours.deltas), upto=ours.snapshot_serial)
                self._known = _Known(
                    ours.version, ours.state, ours.snapshot_etag, ours.snapshot_serial, ()
                )
            return ours.version
        data = ours.state.to_json()
        try:
            with s3_errors():
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=data,
                    ContentType="application/json",
                    IfMatch=ours.snapshot_etag,
                )
        except S3Error as error:
            if not (error.conflict or error.missing):
                raise self.objects.failure("write", self.describe(), error) from None
            # Another run compacted first: the deltas are its to remove.
            self._known = None
            return ours.version
        except S3Unreachable as error:
            raise self.objects.unreachable("write", self.describe(), error) from None
        faults.crash_at("compaction-written")
        etag = response["ETag"]
        version = str(Version.of(ours.state, etag))
        self._known = _Known(version, ours.state, etag, ours.state.serial, ())
        remove_deltas(self.objects, list(ours.deltas), upto=ours.state.serial)
        return version

    def _lost_race(self, state: State, data: bytes, known: Version | None) -> str:
        """The conditional write failed: raise the conflict, unless the stored object is
        this very write (a retried request whose first attempt succeeded)."""
        current = self.objects.get(self.key, what=self.describe())
        if current is not None and current.data == data:
            return current.etag
        raise self._conflict(
            None if current is None else self._parse(current.data),
            state,
            known,
            expected_state=known is not None,
        )

    @contextlib.contextmanager
    def lock(self, *, holder: LockHolder, timeout: float) -> Iterator[None]:
        self.check_store()
        self._lock.acquire(holder, timeout=timeout)
        self._locked = True
        try:
            yield
        finally:
            try:
                self._compact_quietly()
            finally:
                self._locked = False
                self._known = None
                self._lock.release()

    def _compact_quietly(self) -> None:
        """`compact` when the lock is released, if the lock is still this run's: a failure
        is a warning (the state reads the same with its deltas, the next run folds them)."""
        try:
            self._lock.check_held()
            if (
                self._known is None
                or self._known.deltas
                or (self._known.state.serial != self._known.snapshot_serial)
            ):
                self.compact()
        except (StateError, LockError) as error:
            self._warn(
                f"warning: the deltas of {self.describe()} were not folded into it ({error}); "
                "the state reads the same with them, and the next run that takes the lock "
                "folds them."
            )

    def check_writable(self) -> None:
        """Before the first create: that the run may make each of its writes (the state
        object, its deltas; `s3probe.check_run_writes`, once per store), and that the lock
        is still this run's (the lock object itself was written when it was taken)."""
        self.check_store()
        if not self._writes_checked:
            # A state read under the lock had its deltas listed.
            check_run_writes(self.objects, self.key, deltas_listed=self._known is not None)
            self._writes_checked = True
        self._lock.check_held()

    @property
    def lock_id(self) -> str | None:
        """This run's lock id while it holds the lock."""
        return self._lock.lock_id

    def lock_info(self) -> LockInfo | None:
        """The lock object's content, or None if the state is not locked."""
        return self._lock.info()

    def unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock `lock_id` (its holder died); returns what it said.

        `LockError` if the state is not locked, or locked under another id.
        """
        return self._lock.unlock(lock_id)

    def check_store(self) -> None:
        """Once per store: refuse a store that ignores conditional writes, and warn if the
        bucket keeps no versions of the state."""
        if self._checked:
            return
        check_conditional_writes(self.objects, self.key)
        self._check_versioning()
        self._checked = True

    def _check_versioning(self) -> None:
        try:
            with s3_errors():
                status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except S3TimedOut as error:
            raise self.objects.unreachable(
                "read the versioning of", f"the bucket {self.bucket}", error
            ) from None
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

    def _parse(self, data: bytes) -> State:
        return State.from_json(
            data,
            source=self.location,
            sha256=sha256_hex(data),
            remedy=(
                "Restore an earlier version of the object (if the bucket keeps versions) or "
                "a copy of it; the runner will not overwrite it."
            ),
        )


def _parse_version(version: str) -> Version | None:
    known = Version.parse(version)
    # An ETag is quoted: a token that is not comes from another kind of store.
    return known if known is not None and known.token.startswith('"') else None


def _differences(before: State, after: State) -> dict[str, JobRecord | None]:
    """What changed from `before` to `after`, record by record."""
    changes: dict[str, JobRecord | None] = {
        key: record for key, record in after.jobs.items() if before.jobs.get(key) != record
    }
    changes.update((key, None) for key in before.jobs.keys() - after.jobs.keys())
    return changes
