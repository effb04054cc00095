from __future__ import annotations

import datetime
import json
import threading
import time
from dataclasses import replace

import boto3
import pytest

from runner.errors import ConfigError, LockError, StateError
from runner.state import LockHolder, State, StateConflict, open_store
from runner.state.s3 import S3StateStore
from runner.times import format_time
from tests.state.s3_server import S3Server
from tests.state.support import LINEAGE, make_record, make_state

KEY = "personalize/state.json"
HOLDER = LockHolder(pid=4242, host="ci-runner-7", command="personalize-runner reconcile")


class Warnings:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)


def _since(value: datetime.datetime | None) -> str:
    assert value is not None
    return format_time(value)


def make_store(bucket: str, *, warn: Warnings | None = None) -> S3StateStore:
    return S3StateStore(bucket, KEY, warn=warn or Warnings())


def test_open_store_reads_and_writes_through_the_endpoint(s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}/{KEY}")
    assert store.read() is None

    version = store.write(make_state(2), expected=None)

    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state == make_state(2)
    assert snapshot.version == version
    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=KEY)["Body"].read()
    assert body == make_state(2).to_json()


def test_versions_carry_the_etag(s3_bucket: str) -> None:
    store = make_store(s3_bucket)
    first = store.write(make_state(), expected=None)
    etag = boto3.client("s3").head_object(Bucket=s3_bucket, Key=KEY)["ETag"]
    assert first == f"{LINEAGE}:1:{etag}"

    second = store.write(make_state(serial=2), expected=first)

    assert second != first
    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.version == second


def test_a_write_over_a_moved_state_is_refused(s3_bucket: str) -> None:
    ours, theirs = make_store(s3_bucket), make_store(s3_bucket)
    ours.write(make_state(), expected=None)
    snapshot = ours.read()
    assert snapshot is not None
    theirs.write(snapshot.state.with_job(make_record("theirs")), expected=snapshot.version)

    with pytest.raises(StateConflict) as info:
        ours.write(snapshot.state.with_job(make_record("ours")), expected=snapshot.version)

    assert str(info.value) == (
        f"state s3://{s3_bucket}/{KEY} changed since this run read it: it moved from serial 1 "
        "to serial 2, written by another run. Run the command again to start from the "
        "current state."
    )
    stored = ours.read()
    assert stored is not None
    assert set(stored.state.jobs) == {"job-00000", "theirs"}


def test_a_first_write_over_a_created_state_is_refused(s3_bucket: str) -> None:
    make_store(s3_bucket).write(make_state(serial=3), expected=None)

    with pytest.raises(StateConflict) as info:
        make_store(s3_bucket).write(make_state(2), expected=None)

    assert str(info.value) == (
        f"state s3://{s3_bucket}/{KEY} exists (serial 3), but this run expected no state: "
        "another run created it meanwhile. Run the command again to start from it."
    )


def test_a_state_of_another_lineage_is_never_overwritten(s3_bucket: str) -> None:
    store = make_store(s3_bucket)
    version = store.write(make_state(), expected=None)
    other = make_state(lineage="7d0c1a52-2b8e-4a8f-9c43-0e6f1d2b3a94", serial=2)

    with pytest.raises(StateConflict) as info:
        store.write(other, expected=version)

    assert str(info.value).startswith(
        f"state s3://{s3_bucket}/{KEY} belongs to another lineage ({LINEAGE}) than the state "
        "this run would write (7d0c1a52-2b8e-4a8f-9c43-0e6f1d2b3a94): refusing to overwrite it."
    )


def test_a_retried_write_that_had_succeeded_is_not_a_conflict(s3_bucket: str) -> None:
    # What botocore does after a lost response: the same conditional put again, which
    # S3 refuses because the first one took effect.
    store = make_store(s3_bucket)
    first = store.write(make_state(), expected=None)

    assert store.write(make_state(), expected=None) == first


def test_an_unreadable_state_stops_the_run_and_stays(s3_bucket: str) -> None:
    boto3.client("s3").put_object(Bucket=s3_bucket, Key=KEY, Body=b'{"format_version": 1')
    store = make_store(s3_bucket)

    with pytest.raises(StateError) as info:
        store.read()
    assert str(info.value).startswith(
        f"cannot read the state in s3://{s3_bucket}/{KEY}: it is not valid JSON"
    )
    with pytest.raises(StateError):
        store.write(make_state(), expected=None)
    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=KEY)["Body"].read()
    assert body == b'{"format_version": 1'


def test_a_missing_bucket(s3_server: S3Server) -> None:
    store = S3StateStore("no-such-bucket-here", KEY)

    with pytest.raises(StateError) as info:
        store.read()

    assert str(info.value) == (
        f"cannot read state s3://no-such-bucket-here/{KEY}: the bucket no-such-bucket-here "
        "does not exist. Create it (with versioning), or fix --state / the `state` setting."
    )


def test_two_racing_writers_lose_nothing(s3_bucket: str) -> None:
    make_store(s3_bucket).write(make_state(0, serial=0), expected=None)
    conflicts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        store = make_store(s3_bucket)
        start.wait()
        try:
            for i in range(12):
                while True:
                    snapshot = store.read()
                    assert snapshot is not None
                    record = make_record(f"{name}-{i:02d}")
                    try:
                        store.write(snapshot.state.with_job(record), expected=snapshot.version)
                    except StateConflict:
                        conflicts.append(1)
                        continue
                    break
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    snapshot = make_store(s3_bucket).read()
    assert snapshot is not None
    expected = {f"{name}-{i:02d}" for name in ("left", "right") for i in range(12)}
    assert set(snapshot.state.jobs) == expected
    # Every successful write was exactly one step of the history.
    assert snapshot.state.serial == 24


def test_the_lock_is_an_object_beside_the_state(s3_bucket: str) -> None:
    store = make_store(s3_bucket)

    with store.lock(holder=HOLDER, timeout=1):
        info = store.lock_info()
        assert info is not None
        assert info.holder == HOLDER
        body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=f"{KEY}.lock")["Body"].read()
        assert b'"lock_id": "' + (info.lock_id or "").encode() + b'"' in body
        with pytest.raises(RuntimeError), store.lock(holder=HOLDER, timeout=1):
            pass

    assert store.lock_info() is None


def test_a_held_lock_names_its_holder(s3_bucket: str) -> None:
    holder = make_store(s3_bucket)
    warnings = Warnings()
    waiter = make_store(s3_bucket, warn=warnings)

    with holder.lock(holder=HOLDER, timeout=1):
        info = holder.lock_info()
        assert info is not None
        assert info.since is not None
        assert info.until is not None
        began = time.monotonic()
        with pytest.raises(LockError) as error, waiter.lock(holder=HOLDER, timeout=0.3):
            pass
        assert time.monotonic() - began >= 0.3

    assert str(error.value) == (
        f"the state lock s3://{s3_bucket}/{KEY}.lock is held by pid 4242 on ci-runner-7 "
        f"(personalize-runner reconcile) since {format_time(info.since)} (lock id "
        f"{info.lock_id}); gave up after 0.3s. Another run is using the state: wait for it "
        "to finish and run the command again, or allow a longer lock timeout. If that run is "
        "no longer running, its lease lapses by itself at most 30s after its last renewal and "
        "the next run takes the lock over; to remove it at once: personalize-runner state "
        f"unlock {info.lock_id}"
    )
    # Said once, when the wait began: who, until when, and for how long (what is left of the
    # 0.3 s once the first try failed, to a tenth of a second: less on a loaded machine).
    (waiting,) = warnings.messages[1:]
    said, _, left = waiting.rpartition("; waiting up to ")
    assert said == (
        f"waiting for the state lock s3://{s3_bucket}/{KEY}.lock: it is held by pid 4242 on "
        f"ci-runner-7 (personalize-runner reconcile) since {format_time(info.since)} (on "
        "another host: this run cannot check whether it runs), lock id "
        f"{info.lock_id}; its 30s lease runs until {format_time(info.until)} unless its "
        "holder renews it"
    )
    assert left in {
        "0s for it (the lock timeout).",
        *(f"0.{tenth}s for it (the lock timeout)." for tenth in (1, 2, 3)),
    }


def test_a_waiting_run_gets_the_lock_when_it_is_released(s3_bucket: str) -> None:
    holder = make_store(s3_bucket)
    waiter = make_store(s3_bucket)
    took: list[float] = []
    held = threading.Event()

    def hold() -> None:
        with holder.lock(holder=HOLDER, timeout=1):
            held.set()
            time.sleep(0.4)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    began = time.monotonic()
    with waiter.lock(holder=replace(HOLDER, pid=4343), timeout=10):
        took.append(time.monotonic() - began)
        info = waiter.lock_info()
        assert info is not None
        assert info.holder is not None
        assert info.holder.pid == 4343
    thread.join()
    assert 0.1 < took[0] < 5


def test_a_stale_lock_is_removed_by_its_id(s3_bucket: str) -> None:
    warnings = Warnings()
    dead = make_store(s3_bucket, warn=warnings)
    # A run that was killed while it held the lock: its `with` block never ends.
    held = dead.lock(holder=HOLDER, timeout=1)
    held.__enter__()
    info = dead.lock_info()
    assert info is not None
    assert info.lock_id is not None
    other = make_store(s3_bucket)

    with pytest.raises(LockError) as wrong:
        other.unlock("not-the-id")
    assert str(wrong.value) == (
        f"the state lock s3://{s3_bucket}/{KEY}.lock has lock id {info.lock_id}, not "
        f"not-the-id: it is held by pid 4242 on ci-runner-7 (personalize-runner reconcile) "
        f"since {_since(info.since)}. Check the id in the error message "
        "of the run that waited for it; a lock taken since is not removed."
    )
    assert other.unlock(info.lock_id) == info
    assert other.lock_info() is None
    with other.lock(holder=HOLDER, timeout=1):
        pass

    # Had the holder lived on, its release leaves the lock of whoever took it since alone.
    with other.lock(holder=replace(HOLDER, pid=5555), timeout=1):
        held.__exit__(None, None, None)
        assert other.lock_info() is not None
    assert warnings.messages[-1].startswith(
        f"warning: the state lock s3://{s3_bucket}/{KEY}.lock (lock id {info.lock_id}) was "
        "removed while this run held it (by `state unlock`, by hand, or by a run that took it "
        "over after its lease lapsed); it is now held by pid 5555 on ci-runner-7"
    )
    with pytest.raises(LockError) as gone:
        other.unlock(info.lock_id)
    assert str(gone.value) == (
        f"the state lock s3://{s3_bucket}/{KEY}.lock does not exist: the state is not locked "
        "(its holder finished, or it was removed already)."
    )


def test_a_store_that_ignores_conditional_writes_is_refused(
    s3_server: S3Server, s3_bucket: str
) -> None:
    client = boto3.client("s3", endpoint_url=s3_server.ignoring_url)
    store = S3StateStore(s3_bucket, KEY, client=client, warn=Warnings())
    message = (
        f"the store behind s3://{s3_bucket} ignores conditional writes (If-None-Match: * and "
        "If-Match on PutObject): two runs could overwrite each other's records there, so the "
        "runner refuses to keep its state in it. Use Amazon S3, or an S3-compatible store "
        "that implements conditional writes, or a local state file."
    )

    with pytest.raises(StateError) as info:
        store.write(make_state(), expected=None)
    assert str(info.value) == message
    with pytest.raises(StateError) as info, store.lock(holder=HOLDER, timeout=1):
        pass
    assert str(info.value) == message
    # Nothing is left behind: no state, no lock, no probe.
    assert boto3.client("s3").list_objects_v2(Bucket=s3_bucket).get("Contents", []) == []


def test_a_bucket_without_versioning_is_warned_about_once(s3_bucket: str) -> None:
    warnings = Warnings()
    store = make_store(s3_bucket, warn=warnings)

    version = store.write(make_state(), expected=None)
    with store.lock(holder=HOLDER, timeout=1):
        store.write(make_state(serial=2), expected=version)

    assert warnings.messages == [
        f"warning: the bucket {s3_bucket} of state s3://{s3_bucket}/{KEY} has no versioning: a "
        "state that is overwritten or deleted by mistake cannot be recovered. Enable it: aws "
        f"s3api put-bucket-versioning --bucket {s3_bucket} --versioning-configuration "
        "Status=Enabled"
    ]


def test_the_warning_goes_to_stderr(s3_bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    S3StateStore(s3_bucket, KEY).write(make_state(), expected=None)

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"warning: the bucket {s3_bucket} of state")


def test_a_versioned_bucket_is_not_warned_about(s3_bucket: str) -> None:
    boto3.client("s3").put_bucket_versioning(
        Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    warnings = Warnings()

    make_store(s3_bucket, warn=warnings).write(make_state(), expected=None)

    assert warnings.messages == []


def test_reading_needs_no_write_permission(s3_bucket: str) -> None:
    # `state list`, `plan`: no probe and no versioning check before a read.
    store = make_store(s3_bucket)
    assert store.read() is None
    assert boto3.client("s3").list_objects_v2(Bucket=s3_bucket).get("Contents", []) == []


def test_state_new_round_trips(s3_bucket: str) -> None:
    store = make_store(s3_bucket)
    state = State.new()

    store.write(state, expected=None)

    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state == state


def test_a_lock_object_that_is_not_a_lock(s3_bucket: str) -> None:
    boto3.client("s3").put_object(Bucket=s3_bucket, Key=f"{KEY}.lock", Body=b"garbage")

    with pytest.raises(LockError) as info, make_store(s3_bucket).lock(holder=HOLDER, timeout=0):
        pass

    assert str(info.value) == (
        f"the state lock s3://{s3_bucket}/{KEY}.lock is held by a holder that did not record "
        "who it is; gave up after 0s. Another run is using the state: wait for it to finish "
        "and run the command again, or allow a longer lock timeout. If no run is using the "
        "state, the lock object cannot be read as a lock: delete it (aws s3 rm "
        f"s3://{s3_bucket}/{KEY}.lock)."
    )


def _hand_written_lock(bucket: str, **document: object) -> None:
    """A lock object left by a run on another host (nothing here can tell if it runs)."""
    body = {
        "pid": 4242,
        "host": "ci-runner-7",
        "command": "personalize-runner reconcile",
        "ci_run": None,
        "since": "2026-11-01T12:30:00Z",
        "lock_id": "left-behind",
        "state": f"s3://{bucket}/{KEY}",
        **document,
    }
    boto3.client("s3").put_object(Bucket=bucket, Key=f"{KEY}.lock", Body=json.dumps(body).encode())


def test_a_lapsed_lease_of_another_host_is_taken_over(s3_bucket: str) -> None:
    _hand_written_lock(s3_bucket, lease_seconds=2, renewals=3)
    warnings = Warnings()
    store = make_store(s3_bucket, warn=warnings)
    began = time.monotonic()

    with store.lock(holder=replace(HOLDER, pid=5555), timeout=20):
        took = time.monotonic() - began
        info = store.lock_info()
        assert info is not None
        assert info.holder is not None
        assert info.holder.pid == 5555

    # 2 s of lease, a second of S3's clock, a poll of at most 2 s.
    assert took < 2 + 1 + 2 + 2
    assert warnings.messages[-2].startswith(
        f"waiting for the state lock s3://{s3_bucket}/{KEY}.lock: it is held by pid 4242 on "
        "ci-runner-7 (personalize-runner reconcile) since 2026-11-01T12:30:00Z (on another "
        "host: this run cannot check whether it runs), lock id left-behind; its 2s lease runs "
        "until "
    )
    assert warnings.messages[-1].startswith(
        f"warning: took over the state lock s3://{s3_bucket}/{KEY}.lock (lock id left-behind) "
        "from pid 4242 on ci-runner-7 (personalize-runner reconcile) since "
        "2026-11-01T12:30:00Z: its 2s lease lapsed (last renewed "
    )
    assert store.lock_info() is None


def test_a_lock_without_a_lease_is_not_taken_over_by_itself(s3_bucket: str) -> None:
    _hand_written_lock(s3_bucket)
    warnings = Warnings()
    with (
        pytest.raises(
            LockError, match="remove its lock with: personalize-runner state unlock left-behind"
        ),
        make_store(s3_bucket, warn=warnings).lock(holder=HOLDER, timeout=1.5),
    ):
        pass
    assert (
        "it has no lease (an older personalize-runner took it), so it is not taken over by itself"
        in warnings.messages[-1]
    )


def test_a_run_whose_lease_was_broken_cannot_overwrite_the_state(s3_bucket: str) -> None:
    frozen = make_store(s3_bucket)
    frozen.write(make_state(1), expected=None)
    held = frozen.lock(holder=HOLDER, timeout=1)
    held.__enter__()
    snapshot = frozen.read()
    assert snapshot is not None
    # Its lock is broken (by hand here; a lapsed lease in life), and another run writes.
    info = frozen.lock_info()
    assert info is not None
    assert info.lock_id is not None
    other = make_store(s3_bucket)
    other.unlock(info.lock_id)
    with other.lock(holder=replace(HOLDER, pid=5555), timeout=1):
        current = other.read()
        assert current is not None
        other.write(current.state.with_job(make_record("theirs")), expected=current.version)

    with pytest.raises(LockError, match="no longer holds the state lock"):
        frozen.check_writable()
    with pytest.raises(StateConflict, match="changed since this run read it"):
        frozen.write(snapshot.state.with_job(make_record("mine")), expected=snapshot.version)
    held.__exit__(None, None, None)
    final = make_store(s3_bucket).read()
    assert final is not None
    assert "theirs" in final.state.jobs
    assert "mine" not in final.state.jobs


@pytest.mark.parametrize("value", ["0", "1", "abc", "nan", "7200"])
def test_the_lease_setting_is_checked(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONALIZE_RUNNER_S3_LOCK_LEASE", value)
    with pytest.raises(ConfigError) as info:
        open_store(f"s3://acme-state/{KEY}")
    assert str(info.value) == (
        f"PERSONALIZE_RUNNER_S3_LOCK_LEASE={value}: give the S3 state lock's lease in seconds, "
        "from 2 to 3600 (default 30)."
    )
