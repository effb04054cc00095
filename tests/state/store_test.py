from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from runner.errors import ConfigError
from runner.state import STORES, StateStore, open_store
from runner.state.file import FileStateStore
from runner.state.store import LockHolder, process_identity


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ("state.json", "state.json"),
        ("ci/personalize/state.json", "ci/personalize/state.json"),
        ("file://ci/state.json", "ci/state.json"),
        ("FILE:///srv/state.json", "/srv/state.json"),
    ],
)
def test_open_local_store(location: str, path: str) -> None:
    store = open_store(location)
    assert isinstance(store, FileStateStore)
    assert store.location == path
    assert store.describe() == f"state file {path}"


def test_open_s3_store_imports_boto3_only_then() -> None:
    from runner.state.s3 import S3StateStore

    store = open_store("s3://acme-state/personalize/state.json")
    assert isinstance(store, S3StateStore)
    assert (store.bucket, store.key) == ("acme-state", "personalize/state.json")
    assert store.describe() == "state s3://acme-state/personalize/state.json"


@pytest.mark.parametrize("location", ["s3://acme-state", "s3://acme-state/", "s3:///state.json"])
def test_s3_needs_bucket_and_key(location: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_store(location)
    assert str(info.value) == (
        f"--state {location}: give a bucket and an object key, "
        "e.g. s3://acme-state/personalize/state.json."
    )


def test_unknown_scheme() -> None:
    with pytest.raises(ConfigError) as info:
        open_store("gs://acme-state/state.json")
    assert str(info.value) == (
        "--state gs://acme-state/state.json: unknown scheme gs://. Give a local path or one of: "
        "file://, s3://."
    )


def test_empty_path() -> None:
    with pytest.raises(ConfigError) as info:
        open_store("file://")
    assert str(info.value) == "--state file://: the path is empty."


def test_stores_table() -> None:
    assert sorted(STORES) == ["file", "s3"]


def test_holder_on_github_actions() -> None:
    holder = LockHolder.current(
        command="personalize-runner reconcile",
        environ={
            "CI": "true",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/segments",
        },
    )
    assert holder.ci_run == "https://github.com/acme/segments/actions/runs/4242"
    assert holder.describe() == (
        f"pid {holder.pid} on {holder.host} (personalize-runner reconcile), "
        "CI run https://github.com/acme/segments/actions/runs/4242"
    )


@pytest.mark.parametrize(
    ("environ", "ci_run"),
    [
        ({}, None),
        ({"CI": "false"}, None),
        ({"CI": "true"}, "(id unknown)"),
        ({"GITHUB_RUN_ID": "17"}, "17"),
    ],
)
def test_holder_ci_run(environ: dict[str, str], ci_run: str | None) -> None:
    assert LockHolder.current(command="x", environ=environ).ci_run == ci_run


def test_holder_command_defaults_to_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["personalize-runner", "reconcile", "--state", "a b.json"])
    assert (
        LockHolder.current(environ={}).command == "personalize-runner reconcile --state 'a b.json'"
    )


def test_holder_json_round_trip() -> None:
    holder = LockHolder(pid=7, host="h", command="c", ci_run="https://ci/1", started="b n 42")
    since = datetime.datetime(2026, 11, 1, 12, 30, tzinfo=datetime.UTC)
    data = holder.to_json(since=since)
    assert data == (
        b'{"ci_run": "https://ci/1", "command": "c", "host": "h", "pid": 7, '
        b'"since": "2026-11-01T12:30:00Z", "started": "b n 42"}\n'
    )
    assert LockHolder.from_json(data) == (holder, since)


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"pid": "x"}', b"\xff"])
def test_garbled_holder_is_none(data: bytes) -> None:
    assert LockHolder.from_json(data) is None


def test_state_store_protocol_accepts_local_store(tmp_path: Path) -> None:
    store: StateStore = FileStateStore(tmp_path / "state.json")
    assert store.read() is None


def test_this_process_is_alive() -> None:
    holder = LockHolder.current()
    assert holder.started == process_identity(os.getpid())
    assert holder.alive() is True


def test_a_holder_that_exited_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    holder = LockHolder(
        pid=child.pid,
        host=socket.gethostname(),
        command="personalize-runner reconcile",
        started=process_identity(child.pid),
    )
    child.wait()
    assert holder.alive() is False


def test_a_reused_pid_is_not_its_holder() -> None:
    identity = process_identity(os.getpid())
    assert identity is not None
    boot, namespace, ticks = identity.split(" ")
    # This pid, started at another time: another process than the one that took the lock.
    earlier = replace(LockHolder.current(), started=f"{boot} {namespace} {int(ticks) - 1}")
    assert earlier.alive() is False


@pytest.mark.parametrize(
    "holder",
    [
        LockHolder(pid=1, host="ci-runner-7", command="c"),
        replace(LockHolder.current(), started="another-boot pid:[1] 5"),
        replace(LockHolder.current(), started="garbled"),
    ],
    ids=["another-host", "another-boot", "garbled"],
)
def test_a_holder_this_process_cannot_check(holder: LockHolder) -> None:
    assert holder.alive() is None


def test_a_holder_that_exited_unreaped_is_not_alive() -> None:
    # A zombie: dead, not yet waited for by its parent (this test), its pid still taken.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    holder = LockHolder(
        pid=child.pid,
        host=socket.gethostname(),
        command="personalize-runner reconcile",
        started=process_identity(child.pid),
    )
    try:
        deadline = time.monotonic() + 10
        while holder.alive() is not False:
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        assert child.poll() == 0
    finally:
        child.wait()
