from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from runner.fs import FileLock, locked, remove_temporaries, write_atomically


def test_a_new_file_is_written_whole_with_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "jobs.json"

    write_atomically(path, b"{}\n")

    assert path.read_bytes() == b"{}\n"
    assert path.stat().st_mode & 0o777 == 0o644
    assert os.listdir(path.parent) == ["jobs.json"]


def test_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    path.chmod(0o600)

    write_atomically(path, lambda stream: stream.write(b"new"))

    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_leaves_the_old_content_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")

    def fail(stream: BinaryIO) -> None:
        stream.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, fail)

    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["state.json"]


def test_remove_temporaries_removes_only_the_file_s_own(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    for name in (".state.json.abc.tmp", ".state.json.backup.x.tmp", ".other.json.abc.tmp"):
        (tmp_path / name).write_bytes(b"")
    path.write_bytes(b"kept")

    remove_temporaries(path)

    # `.state.json.backup.x.tmp` starts like a temporary of state.json: the state store
    # holds the lock of both, so neither is being written.
    assert sorted(os.listdir(tmp_path)) == [".other.json.abc.tmp", "state.json"]


def test_a_held_lock_is_refused_to_another_holder_and_shows_its_note(tmp_path: Path) -> None:
    path = tmp_path / "state.json.lock"
    first, second = FileLock(path), FileLock(path)
    try:
        assert first.try_acquire()
        first.note(b"pid 12\n")

        assert not second.try_acquire()
        assert not second.held
        assert second.read_note() == b"pid 12\n"

        first.release()
        assert path.read_bytes() == b""
        assert second.try_acquire()
        assert second.held
    finally:
        first.release()
        second.release()


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "jobs.lock"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from runner.fs import FileLock\n"
        "lock = FileLock(Path(sys.argv[1]))\n"
        "assert lock.try_acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        lock = FileLock(path)
        assert not lock.try_acquire()
        holder.kill()
        holder.wait()
        with locked(path) as taken:
            assert taken.held
        lock.release()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


# In a process of its own: forking a process that runs threads (the test session's
# servers) is unsafe.
FORK = """\
import os, sys, time
from pathlib import Path
from runner.fs import FileLock

path = Path(sys.argv[1])
lock = FileLock(path)
assert lock.try_acquire()
reader, writer = os.pipe()
child = os.fork()
if child == 0:
    os.write(writer, b"forked")
    time.sleep(30)
    os._exit(0)
assert os.read(reader, 6) == b"forked"
lock.release()
# The child lives on, and yet the lock is free: it closed its copy when it was forked.
other = FileLock(path)
print("free" if other.try_acquire() else "held", flush=True)
os.kill(child, 9)
os.waitpid(child, 0)
"""


def test_a_forked_child_does_not_keep_the_lock(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", FORK, str(tmp_path / "state.json.lock")],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert ran.stdout == "free\n"


def test_a_lock_file_replaced_before_the_flock_is_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "state.json.lock"
    lock = FileLock(path)
    assert lock.try_acquire()
    assert lock.in_place()
    path.unlink()
    assert not lock.in_place()
    lock.release()
