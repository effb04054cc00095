from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from runner.backends import JobSummary
from runner.errors import LockError
from runner.state import LockHolder, Snapshot, State, StateConflict
from runner.state.file import FileStateStore
from runner.state.writer import StateWriter, changing, record_statuses, with_statuses
from tests.state.support import make_record, make_state

HOLDER = LockHolder(pid=7, host="ci-runner-1", command="personalize-runner reconcile")
NOW = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=datetime.UTC)


def summary(name: str, status: str, *, created_at: datetime.datetime | None = None) -> JobSummary:
    return JobSummary(name=name, arn=make_record(name).arn, status=status, created_at=created_at)


def record(store: FileStateStore, *summaries: JobSummary) -> State | None:
    return record_statuses(store, summaries, holder=HOLDER, lock_timeout=1.0, now=NOW)


def test_a_writer_without_a_state_creates_it_and_goes_on_from_its_version(
    tmp_path: Path,
) -> None:
    store = FileStateStore(tmp_path / "state.json")

    with changing(store, holder=HOLDER, timeout=1) as writer:
        assert not writer.exists
        writer.write(writer.state.with_job(make_record("a")))
        writer.write(writer.state.with_job(make_record("b")))
        # Under the lock, the second change is a line of the journal; the writer goes on
        # from the version it wrote, which is the store's.
        assert writer.version is not None
        assert store.read() == Snapshot(writer.state, writer.version)
        assert store.journal_path.exists()

    # Folded into the file when the lock is released: the same state, under a version of
    # the new file.
    assert not store.journal_path.exists()
    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state == writer.state
    assert sorted(snapshot.state.jobs) == ["a", "b"]
    assert snapshot.state.serial == 2


def test_a_writer_from_an_old_read_writes_nothing(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    store.write(make_state(serial=1), expected=None)
    stale = StateWriter(store, store.read())
    current = StateWriter(store, store.read())
    current.write(current.state.without_job("job-00000"))

    with pytest.raises(StateConflict, match="moved from serial 1 to serial 2"):
        stale.write(stale.state.with_job(make_record("late")))

    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state == current.state
    assert stale.state.serial == 1


def test_changing_holds_the_lock_for_the_block(tmp_path: Path) -> None:
    path = tmp_path / "state.json"

    other = FileStateStore(path)
    with (
        changing(FileStateStore(path), holder=HOLDER, timeout=1),
        pytest.raises(LockError, match=r"held by pid 7 on ci-runner-1"),
        other.lock(holder=LockHolder.current(), timeout=0),
    ):
        pass

    with FileStateStore(path).lock(holder=LockHolder.current(), timeout=0):
        pass


def test_with_statuses_takes_what_the_service_said_of_recorded_jobs() -> None:
    state = State.new().with_jobs([make_record("a"), make_record("b")])
    created = datetime.datetime(2026, 11, 1, 12, 31, tzinfo=datetime.UTC)

    new = with_statuses(
        state,
        [
            summary("a", "ACTIVE", created_at=created),
            summary("b", "CREATE PENDING"),
            # Not recorded, or recorded under another ARN: left alone.
            summary("c", "ACTIVE"),
            JobSummary(name="b", arn="arn:aws:personalize:::batch-segment-job/b", status="x"),
        ],
        now=NOW,
    )

    assert new.serial == state.serial + 1
    assert (new.jobs["a"].status, new.jobs["a"].created_at) == ("ACTIVE", created)
    assert new.jobs["a"].status_checked_at == NOW
    assert new.jobs["b"].status_checked_at == NOW
    assert "c" not in new.jobs


def test_with_statuses_of_nothing_new_is_the_same_state() -> None:
    state = State.new().with_job(make_record("a", status="ACTIVE", status_checked_at=NOW))

    assert with_statuses(state, [summary("a", "ACTIVE")], now=NOW) is state


def test_record_statuses_writes_only_a_change(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")

    assert record(store, summary("a", "ACTIVE")) is None
    assert store.read() is None

    store.write(State.new().with_job(make_record("a")), expected=None)
    written = record(store, summary("a", "ACTIVE"))
    assert written is not None
    assert written.jobs["a"].status == "ACTIVE"
    assert record(store, summary("a", "ACTIVE")) is None
    assert record(store) is None
    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state == written
