"""The cache of decoded states (issue 11): a large state read again gives the records the
codec gave, and an entry that is not what the runner wrote is no entry."""

from __future__ import annotations

import datetime
import os
import pickle
import zlib
from pathlib import Path

import pytest

from runner.digest import sha256_hex
from runner.state import JobRecord, State
from runner.state import cache as state_cache
from runner.state.codec import decode_state
from runner.state.file import FileStateStore
from runner.times import UTC
from tests.support.cli import run_cli
from tests.support.repos import make_repo, state_path

# Enough records for a state past `MIN_BYTES`, some with every optional field.
COUNT = 500


def _records() -> list[JobRecord]:
    start = datetime.datetime(2026, 11, 30, 6, tzinfo=UTC)
    return [
        JobRecord(
            name=f"job-{index:04d}",
            arn=f"arn:aws:personalize:eu-west-1:123456789012:batch-segment-job/job-{index:04d}",
            partition="aws",
            region="eu-west-1",
            account="123456789012",
            spec_file=f"specs/job-{index:04d}.yaml",
            spec_digest=f"{index:064x}",
            request_digest=f"{index + 1:064x}",
            git_commit=None if index % 2 else "c" * 40,
            submitted_at=start + datetime.timedelta(seconds=index),
            recorded_by="adopted" if index % 3 else "created",
            status="ACTIVE" if index % 4 else "CREATE FAILED",
            created_at=start if index % 5 else None,
            updated_at=start + datetime.timedelta(minutes=index) if index % 5 else None,
            failure_reason=None if index % 4 else "the role cannot read the input",
            status_checked_at=start if index % 7 else None,
            spec_index=0,
            spec_documents=1,
        )
        for index in range(COUNT)
    ]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder of the test's own: the session's is shared by every test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def large_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo", backend="local")
    monkeypatch.chdir(repo)
    store = FileStateStore(state_path(repo))
    store.write(State.new().with_jobs(_records()), expected=None)
    assert state_path(repo).stat().st_size >= state_cache.MIN_BYTES
    return repo


def _entries() -> list[Path]:
    folder = state_cache.folder()
    return sorted(folder.glob("*.records")) if folder.exists() else []


def _entry(repo: Path) -> Path:
    return state_cache.folder() / f"{sha256_hex(state_path(repo).read_bytes())}.records"


def test_a_large_state_read_again_is_taken_from_the_cache_as_it_was_decoded(
    large_repo: Path,
) -> None:
    data = state_path(large_repo).read_bytes()
    sha = sha256_hex(data)
    decoded = decode_state(data, source="test")

    assert state_cache.load(sha) is None
    first = decode_state(data, source="test", sha256=sha)
    cached = state_cache.load(sha)

    assert first == decoded
    assert cached is not None
    assert cached == tuple(decoded)
    assert decode_state(data, source="test", sha256=sha) == decoded
    # The records are those the codec makes, field by field and of the same types.
    record = cached[3]["job-0004"]
    assert record == decoded.jobs["job-0004"]
    assert record.submitted_at.tzinfo is UTC
    assert record.failure_reason == "the role cannot read the input"


def test_plan_gives_the_same_plan_from_the_cache(large_repo: Path) -> None:
    first = run_cli("plan", "--now", "2026-12-01T00:00:00Z")
    assert first.status == 0, first.err
    assert [entry.name for entry in _entries()] == [_entry(large_repo).name]

    again = run_cli("plan", "--now", "2026-12-01T00:00:00Z")

    assert (again.status, again.out, again.err) == (first.status, first.out, first.err)
    assert "job-0499" in again.out


def _forbidden_body() -> bytes:
    class Runs:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo owned > owned.txt",))

    return pickle.dumps((3, "lineage", 1, {"job": Runs()}))


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="torn"),
        pytest.param(lambda data: data[:-10] + bytes(10), id="changed"),
        pytest.param(lambda data: b"0000000000000000" + data[16:], id="another-version"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"not an entry at all", id="garbage"),
        pytest.param(
            lambda data: data.partition(b" ")[0] + b" %d\n" % zlib.crc32(b"{}") + b"{}",
            id="not-a-pickle",
        ),
        pytest.param(
            lambda data: (
                data.partition(b" ")[0]
                + b" %d\n" % zlib.crc32(_forbidden_body())
                + _forbidden_body()
            ),
            id="another-class",
        ),
    ],
)
def test_an_entry_that_is_not_what_the_runner_wrote_is_no_entry(
    large_repo: Path, spoil: object
) -> None:
    first = run_cli("plan", "--now", "2026-12-01T00:00:00Z")
    entry = _entry(large_repo)
    assert callable(spoil)
    entry.write_bytes(spoil(entry.read_bytes()))

    again = run_cli("plan", "--now", "2026-12-01T00:00:00Z")

    assert (again.status, again.out, again.err) == (first.status, first.out, first.err)
    assert not (large_repo / "owned.txt").exists()


def test_a_cache_that_cannot_be_written_is_no_cache(
    large_repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))

    first = run_cli("plan", "--now", "2026-12-01T00:00:00Z")
    again = run_cli("plan", "--now", "2026-12-01T00:00:00Z")

    assert first.status == 0, first.err
    assert (again.status, again.out) == (first.status, first.out)


def test_a_changed_state_is_decoded_anew_and_only_the_newest_entries_are_kept(
    large_repo: Path,
) -> None:
    store = FileStateStore(state_path(large_repo))
    for serial in range(state_cache.KEEP + 2):
        snapshot = store.read()
        assert snapshot is not None
        state = snapshot.state
        record = state.jobs["job-0000"]
        changed = state.with_job(JobRecord(**{**vars(record), "status": f"STATUS {serial}"}))
        store.write(changed, expected=snapshot.version)

    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state.jobs["job-0000"].status == f"STATUS {state_cache.KEEP + 1}"
    assert len(_entries()) == state_cache.KEEP
    assert _entry(large_repo) in _entries()


def test_a_small_state_is_not_cached(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    store.write(State.new().with_jobs(_records()[:3]), expected=None)

    assert store.read() is not None
    assert _entries() == []
