"""The file store's journal and the S3 store's deltas (issue 11): a change under the lock
costs its own size, readers get the same records from the snapshot and what follows it,
and what no crash leaves (a damaged line before whole ones, a journal of another state, a
delta of a serial already folded) is refused, never guessed at."""

# The fixtures are imported from tests.state.s3_server: arguments redefine them.
# ruff: noqa: F811
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from runner.errors import StateError
from runner.state import LockHolder, State, StateConflict
from runner.state.file import FileStateStore
from runner.state.s3 import S3StateStore
from runner.state.writer import changing
from tests.state.s3_server import (  # noqa: F401
    S3Server,
    aws_environment,
    s3_bucket,
    s3_server,
    s3_server_session,
)
from tests.state.support import make_record, make_state

HOLDER = LockHolder(pid=1, host="test", command="test")
KEY = "personalize/state.json"
ROOT = Path(__file__).resolve().parents[2]


KILLED = """
import os, signal, sys
from runner.state import LockHolder
from runner.state.file import FileStateStore
from runner.state.writer import changing
from tests.state.support import make_record

store = FileStateStore(sys.argv[1])
with changing(store, holder=LockHolder(pid=1, host="test", command="test"), timeout=5) as writer:
    for name in sys.argv[2:]:
        writer.write(writer.state.with_job(make_record(name)))
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _journaled(path: Path, names: list[str]) -> FileStateStore:
    """A state file of 3 records, and the journal of `names` that a run killed (SIGKILL)
    under the lock left."""
    store = FileStateStore(path)
    store.write(make_state(3), expected=None)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, str(path), *names], cwd=ROOT, check=False
    )
    assert killed.returncode == -signal.SIGKILL
    assert store.journal_path.exists()
    return store


def test_a_change_under_the_lock_appends_one_line_of_its_own_size(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    store.write(make_state(300), expected=None)
    snapshot = path.read_bytes()

    with changing(store, holder=HOLDER, timeout=1) as writer:
        writer.write(writer.state.with_job(make_record("added-1")))
        one = store.journal_path.stat().st_size
        writer.write(writer.state.with_job(make_record("added-2")))
        two = store.journal_path.stat().st_size
        assert path.read_bytes() == snapshot
        assert FileStateStore(path).read() == store.read()

    header_and_line = one
    line = two - one
    assert line < 1200
    assert header_and_line - line < 300
    # Folded: the snapshot holds both, the previous one is the backup.
    assert not store.journal_path.exists()
    assert Path(f"{path}.backup").read_bytes() == snapshot
    assert {"added-1", "added-2"} <= set(State.from_json(path.read_bytes(), source="t").jobs)


def test_a_killed_runs_journal_is_read_and_folded_by_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    _journaled(path, ["added-1", "added-2"])

    read = FileStateStore(path).read()
    assert read is not None
    assert read.state.serial == 3
    assert "added-2" in read.state.jobs

    store = FileStateStore(path)
    with changing(store, holder=HOLDER, timeout=1) as writer:
        assert writer.state == read.state
    assert not store.journal_path.exists()
    assert State.from_json(path.read_bytes(), source="test") == read.state


def test_a_torn_last_line_is_ignored_and_cut_off_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = _journaled(path, ["added-1", "added-2"])
    whole = store.journal_path.read_bytes()
    store.journal_path.write_bytes(whole[:-40])

    read = FileStateStore(path).read()
    assert read is not None
    assert "added-1" in read.state.jobs
    assert "added-2" not in read.state.jobs

    store = FileStateStore(path)
    with changing(store, holder=HOLDER, timeout=1) as writer:
        writer.write(writer.state.with_job(make_record("added-3")))
        # The torn line is gone, the new one follows the whole ones.
        assert b"added-2" not in store.journal_path.read_bytes()
    after = FileStateStore(path).read()
    assert after is not None
    assert {"added-1", "added-3"} <= set(after.state.jobs)
    assert "added-2" not in after.state.jobs


def test_a_damaged_line_before_whole_ones_makes_the_state_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = _journaled(path, ["added-1", "added-2", "added-3"])
    lines = store.journal_path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"added-1", b"added-9")
    store.journal_path.write_bytes(b"\n".join(lines))

    with pytest.raises(StateError, match=r"line 2 is damaged .* and whole lines follow it"):
        FileStateStore(path).read()


def test_a_journal_of_another_snapshot_makes_the_state_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    _journaled(path, ["added-1"])
    # The file replaced (restored from version control) while the journal had changes.
    path.write_bytes(make_state(5).to_json())

    with pytest.raises(StateError, match=r"its journal .* continues another state"):
        FileStateStore(path).read()


def test_s3_changes_under_the_lock_are_deltas_folded_at_the_end(
    s3_bucket: str, s3_server: S3Server
) -> None:
    client = boto3.client("s3")
    store = S3StateStore(s3_bucket, KEY, client=client, warn=lambda _: None)
    store.write(make_state(300), expected=None)
    before = client.get_object(Bucket=s3_bucket, Key=KEY)["Body"].read()

    with changing(store, holder=HOLDER, timeout=1) as writer:
        writer.write(writer.state.with_job(make_record("added-1")))
        writer.write(writer.state.with_job(make_record("added-2")))
        listed = client.list_objects_v2(Bucket=s3_bucket, Prefix=f"{KEY}.deltas/")
        assert [item["Size"] < 1200 for item in listed["Contents"]] == [True, True]
        assert client.get_object(Bucket=s3_bucket, Key=KEY)["Body"].read() == before
        other = S3StateStore(s3_bucket, KEY, client=client).read()
        assert other is not None
        assert other.state == writer.state

    listed = client.list_objects_v2(Bucket=s3_bucket, Prefix=f"{KEY}.deltas/")
    assert listed.get("KeyCount", 0) == 0
    body = client.get_object(Bucket=s3_bucket, Key=KEY)["Body"].read()
    folded = State.from_json(body, source="test")
    assert {"added-1", "added-2"} <= set(folded.jobs)


def test_s3_a_run_that_extends_a_serial_another_run_extended_is_refused(
    s3_bucket: str, s3_server: S3Server
) -> None:
    client = boto3.client("s3")
    first = S3StateStore(s3_bucket, KEY, client=client, warn=lambda _: None)
    first.write(make_state(3), expected=None)
    second = S3StateStore(s3_bucket, KEY, client=client, warn=lambda _: None)
    read = second.read()
    assert read is not None

    with changing(first, holder=HOLDER, timeout=1) as writer:
        writer.write(writer.state.with_job(make_record("first")))
        # The second run read before the first wrote (a broken lease): its delta of the
        # same serial is refused.
        with pytest.raises(StateConflict, match="changed since this run read it"):
            second.write(read.state.with_job(make_record("second")), expected=read.version)
    final = S3StateStore(s3_bucket, KEY, client=client).read()
    assert final is not None
    assert "first" in final.state.jobs
    assert "second" not in final.state.jobs
