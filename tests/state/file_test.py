from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runner.errors import StateError
from runner.state import FORMAT_VERSION
from runner.state.file import FileStateStore
from runner.state.model import State
from runner.state.store import StateConflict
from tests.state.support import make_record, make_state

OTHER_LINEAGE = "6c1f0a2e-8d4b-4e7f-b3a5-9e0d2c4f6a81"


def _remedy(path: Path) -> str:
    """What an unreadable state's message says to do: a backup is named only if it exists."""
    if Path(f"{path}.backup").exists():
        return (
            f"Restore it from {path}.backup or from version control; the runner will not "
            "overwrite it."
        )
    return (
        f"Restore it from version control (there is no backup: {path}.backup does not exist); "
        "the runner will not overwrite it."
    )


def test_no_state_yet(tmp_path: Path) -> None:
    assert FileStateStore(tmp_path / "missing" / "state.json").read() is None


def test_describe(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    assert store.describe() == f"state file {tmp_path}/state.json"
    assert store.location == f"{tmp_path}/state.json"


def test_first_write_creates_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "ci" / "state" / "state.json"
    store = FileStateStore(path)
    state = State.new().with_job(make_record())
    version = store.write(state, expected=None)
    snapshot = store.read()
    assert snapshot is not None
    assert snapshot.state == state
    assert snapshot.version == version
    assert path.read_bytes() == state.to_json()
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_every_write_keeps_the_previous_version_as_backup(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    first = State.new()
    second = first.with_job(make_record("a"))
    third = second.with_job(make_record("b"))
    version = store.write(first, expected=None)
    version = store.write(second, expected=version)
    assert Path(f"{path}.backup").read_bytes() == first.to_json()
    store.write(third, expected=version)
    assert Path(f"{path}.backup").read_bytes() == second.to_json()
    assert path.read_bytes() == third.to_json()
    # No temporary file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "state.json",
        "state.json.backup",
        "state.json.lock",
    ]


def test_write_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(State.new(), expected=None)
    path.chmod(0o640)
    snapshot = store.read()
    assert snapshot is not None
    store.write(snapshot.state.with_job(make_record()), expected=version)
    assert path.stat().st_mode & 0o777 == 0o640


def test_write_refuses_a_state_that_moved(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = FileStateStore(path)
    second = FileStateStore(path)
    first.write(make_state(serial=1), expected=None)
    mine, theirs = first.read(), second.read()
    assert mine is not None
    assert theirs is not None
    written = theirs.state.with_job(make_record("theirs"))
    second.write(written, expected=theirs.version)
    with pytest.raises(StateConflict) as info:
        first.write(mine.state.with_job(make_record("mine")), expected=mine.version)
    assert str(info.value) == (
        f"state file {path} changed since this run read it: it moved from serial 1 to serial 2, "
        "written by another run. Run the command again to start from the current state."
    )
    assert path.read_bytes() == written.to_json()


def test_write_refuses_a_state_created_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    FileStateStore(path).write(make_state(serial=4), expected=None)
    with pytest.raises(StateConflict) as info:
        FileStateStore(path).write(State.new(), expected=None)
    assert str(info.value) == (
        f"state file {path} exists (serial 4), but this run expected no state: another run "
        "created it meanwhile. Run the command again to start from it."
    )
    assert path.read_bytes() == make_state(serial=4).to_json()


def test_write_refuses_a_state_removed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(make_state(serial=1), expected=None)
    path.unlink()
    with pytest.raises(StateConflict) as info:
        store.write(make_state(serial=2), expected=version)
    assert str(info.value) == (
        f"state file {path} was removed since this run read it. Restore it from "
        "version control, then run the command again."
    )
    assert not path.exists()


def test_write_never_replaces_another_lineage(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(make_state(serial=1), expected=None)
    with pytest.raises(StateConflict) as info:
        store.write(make_state(serial=2, lineage=OTHER_LINEAGE), expected=version)
    assert str(info.value) == (
        f"state file {path} belongs to another lineage (0b7e5d8c-3f6a-4c2e-9a41-5d2f8e6b1c07) "
        f"than the state this run would write ({OTHER_LINEAGE}): refusing to overwrite it. "
        "Check the state location (--state, personalize-runner.yaml); the runner never "
        "replaces a state by an unrelated one."
    )
    assert path.read_bytes() == make_state(serial=1).to_json()


def test_write_never_replaces_another_lineage_put_in_place_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(make_state(serial=1), expected=None)
    other = make_state(serial=9, lineage=OTHER_LINEAGE).to_json()
    path.write_bytes(other)
    with pytest.raises(StateConflict, match=r"belongs to another lineage \(6c1f0a2e-"):
        store.write(make_state(serial=2), expected=version)
    assert path.read_bytes() == other


def test_write_refuses_a_serial_that_does_not_move_on(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(make_state(serial=3), expected=None)
    with pytest.raises(StateConflict) as info:
        store.write(make_state(serial=3), expected=version)
    assert str(info.value) == (
        f"state file {path} is at serial 3; refusing to write serial 3 over it, which would "
        "lose the changes since. Run the command again."
    )


def test_write_refuses_a_version_it_never_gave(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    store.write(make_state(serial=3), expected=None)
    with pytest.raises(
        StateConflict, match=r"^state file .* changed since this run read it: it moved to serial 3,"
    ):
        store.write(make_state(serial=4), expected="garbage")


CORRUPT = [
    pytest.param(b"", "the file is empty", id="empty"),
    pytest.param(
        make_state(3).to_json()[:300],
        "it is not valid JSON (Expecting value at line 4 column 264; a truncated or garbled file?)",
        id="truncated",
    ),
    pytest.param(
        b"\x00" * 512,
        "it is not valid JSON (Expecting value at line 1 column 1; a truncated or garbled file?)",
        id="zeros",
    ),
    pytest.param(
        make_state(1).to_json().replace(b'"serial": 1', b'"serial": "1"'),
        "serial must be an integer, not a string",
        id="wrong-type",
    ),
]


@pytest.mark.parametrize(("data", "problem"), CORRUPT)
def test_unreadable_state_is_never_overwritten(tmp_path: Path, data: bytes, problem: str) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(make_state(1), expected=None)
    path.write_bytes(data)
    message = f"cannot read the state in {path}: {problem}. {_remedy(path)}"
    with pytest.raises(StateError) as info:
        store.read()
    assert str(info.value) == message
    for expected in (None, version):
        with pytest.raises(StateError) as info:
            store.write(make_state(2, serial=2), expected=expected)
        assert str(info.value) == message
    assert path.read_bytes() == data
    assert not Path(f"{path}.backup").exists()


def test_newer_state_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    document = json.loads(make_state(1).to_json())
    document["format_version"] = FORMAT_VERSION + 1
    data = json.dumps(document).encode()
    path.write_bytes(data)
    store = FileStateStore(path)
    message = (
        f"cannot read the state in {path}: it was written by a newer personalize-runner "
        f"(state format version {FORMAT_VERSION + 1}; this one reads version {FORMAT_VERSION}). "
        "Upgrade personalize-runner; "
        "the runner will not overwrite it."
    )
    with pytest.raises(StateError) as info:
        store.read()
    assert str(info.value) == message
    with pytest.raises(StateError) as info:
        store.write(make_state(2, serial=2), expected=None)
    assert str(info.value) == message
    assert path.read_bytes() == data


def test_a_removed_state_with_a_backup_left_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(make_state(serial=1), expected=None)
    version = store.write(make_state(serial=2), expected=version)
    path.unlink()
    message = (
        f"state file {path} does not exist, but its backup {path}.backup does: the state was "
        "removed. Restore it (rename the backup, or take it from version control); to really "
        "start afresh, delete the backup too."
    )
    with pytest.raises(StateError) as info:
        store.read()
    assert str(info.value) == message
    with pytest.raises(StateError) as info:
        store.write(State.new(), expected=None)
    assert str(info.value) == message
    assert not path.exists()


def test_a_directory_in_place_of_the_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.mkdir()
    with pytest.raises(StateError) as info:
        FileStateStore(path).read()
    assert str(info.value) == (
        f"state file {path} is a folder, not a regular file: the runner neither reads nor "
        "replaces it. Remove it, or give the state file's path (--state)."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_directory(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = FileStateStore(path)
    version = store.write(State.new(), expected=None)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(StateError, match=r"^cannot write state file .*: Permission denied"):
            store.write(State.new().with_job(make_record()), expected=version)
    finally:
        tmp_path.chmod(0o700)
