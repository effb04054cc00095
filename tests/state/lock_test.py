"""The lock and the atomic writes against real processes, killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.errors import LockError
from runner.state.file import FileStateStore
from runner.state.model import State
from runner.state.store import LockHolder
from tests.state.support import make_record, make_state

ROOT = Path(__file__).parents[2]

HOLD = """\
import sys, time
from runner.state.file import FileStateStore
from runner.state.store import LockHolder

store = FileStateStore(sys.argv[1])
with store.lock(holder=LockHolder.current(command="personalize-runner reconcile"), timeout=10):
    print("locked", flush=True)
    time.sleep(120)
"""

# Adds one job per write, for ever, from whatever state is there.
WRITE = """\
import sys
from runner.state.file import FileStateStore
from tests.state.support import make_record

store = FileStateStore(sys.argv[1])
snapshot = store.read()
state, version = snapshot.state, snapshot.version
for i in range(1_000_000):
    state = state.with_job(make_record(f"added-{state.serial:06d}"))
    version = store.write(state, expected=version)
    if i == 3:
        print("writing", flush=True)
"""

GITHUB_ENV = {
    "GITHUB_RUN_ID": "4242",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/segments",
}


@contextmanager
def _child(script: str, path: Path, *, ready: str) -> Iterator[subprocess.Popen[str]]:
    """A Python process running `script` on `path`, once it has printed `ready`."""
    env = {**os.environ, **GITHUB_ENV}
    with subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == f"{ready}\n"
            yield process
        finally:
            process.kill()
            process.wait()


def _take(store: FileStateStore, *, timeout: float) -> None:
    with store.lock(holder=LockHolder.current(command="test"), timeout=timeout):
        pass


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with _child(HOLD, path, ready="locked") as holder:
        recorded = json.loads(Path(f"{path}.lock").read_bytes())
        started = time.monotonic()
        with pytest.raises(LockError) as info:
            _take(FileStateStore(path), timeout=0.4)
        assert time.monotonic() - started >= 0.4
    assert str(info.value) == (
        f"the state lock {path}.lock is held by pid {holder.pid} on {socket.gethostname()} "
        "(personalize-runner reconcile), CI run "
        f"https://github.com/acme/segments/actions/runs/4242 since {recorded['since']}; "
        "gave up after 0.4s. Another run is using the state: wait for it to finish and run the "
        "command again, or allow a longer lock timeout. (The lock is released as soon as its "
        "holder exits, even if it is killed: there is nothing to delete.)"
    )


def test_write_waits_for_the_lock_of_another_process(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with _child(HOLD, path, ready="locked"):
        store = FileStateStore(path, write_lock_timeout=0.2)
        with pytest.raises(LockError, match=r"^the state lock .* is held by pid "):
            store.write(State.new(), expected=None)
    assert not path.exists()


def test_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with _child(HOLD, path, ready="locked") as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        started = time.monotonic()
        _take(FileStateStore(path), timeout=5)
        assert time.monotonic() - started < 1


def test_lock_records_its_holder_while_held(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    lock_file = Path(f"{path}.lock")
    holder = LockHolder(pid=12, host="ci-runner-3", command="personalize-runner reconcile")
    with store.lock(holder=holder, timeout=0):
        recorded = LockHolder.from_json(lock_file.read_bytes())
        assert recorded is not None
        assert recorded[0] == holder
        # The store that holds the lock writes without taking it again.
        store.write(State.new(), expected=None)
    assert lock_file.read_bytes() == b""


def test_lock_held_by_a_process_that_recorded_nobody(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = FileStateStore(path)
    with first.lock(holder=LockHolder.current(), timeout=0):
        Path(f"{path}.lock").write_bytes(b"")
        with pytest.raises(LockError) as info:
            _take(FileStateStore(path), timeout=0)
    assert str(info.value).startswith(
        f"the state lock {path}.lock is held by another process, which did not record who it "
        "is; gave up after 0s."
    )


def test_killed_writer_never_leaves_a_torn_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    FileStateStore(path).write(make_state(300), expected=None)
    serial = 1
    for delay in (0.0, 0.01, 0.03, 0.05, 0.1, 0.2, 0.35):
        before = serial
        with _child(WRITE, path, ready="writing") as writer:
            deadline = time.monotonic() + delay
            while True:
                # Reading while the other process writes: always a whole state.
                snapshot = FileStateStore(path).read()
                assert snapshot is not None
                assert snapshot.state.serial >= serial
                serial = snapshot.state.serial
                if time.monotonic() >= deadline:
                    break
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        snapshot = FileStateStore(path).read()
        assert snapshot is not None
        # It printed "writing" after its fourth write.
        assert snapshot.state.serial >= before + 4
        assert len(snapshot.state.jobs) == 300 + snapshot.state.serial - 1
        backup = State.from_json(Path(f"{path}.backup").read_bytes(), source="backup")
        # Killed between the backup and the state: the backup is a copy of the state.
        assert backup.serial in (snapshot.state.serial - 1, snapshot.state.serial)
        serial = snapshot.state.serial
    # The next write clears what killed writers left behind.
    snapshot = FileStateStore(path).read()
    assert snapshot is not None
    FileStateStore(path).write(
        snapshot.state.with_jobs([]).with_job(make_record("last")), expected=snapshot.version
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "state.json",
        "state.json.backup",
        "state.json.lock",
    ]
