"""A state is never poisoned (issue 10), through the command line: nothing is written that
its reader would refuse, what would be refused stops the run before its first create, a
state that cannot be written is found out before the first create, a symlinked state is
written through, and oversized or overnested documents are clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.errors import LockError, StateError
from runner.state import LockHolder, State
from runner.state.file import FileStateStore
from runner.state.writer import StateWriter
from tests.state.support import make_record, make_state
from tests.support.cli import PROJECT_ROOT, run_cli
from tests.support.clock import ManualClock
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.personalize_server import PersonalizeServer


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def state_file(repo: Path) -> Path:
    return repo / ".personalize-runner" / "state.json"


def read_state(path: Path) -> State:
    return State.from_json(path.read_bytes(), source="test")


# What the reader would refuse is refused before the first create.


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_specs_outside_the_repository_are_refused_before_any_create(
    repo: Path, personalize_server: PersonalizeServer, absolute: bool
) -> None:
    outside = repo.parent / "elsewhere"
    write_specs(outside, ["alpha"])
    specs = str(outside) if absolute else "../elsewhere"
    recorded = f"{outside}/alpha.yaml" if absolute else "../elsewhere/alpha.yaml"
    problem = (
        "is an absolute path, outside the repository"
        if absolute
        else "is outside the repository root"
    )

    ran = run_cli("reconcile", "--specs", specs)

    assert ran.status == 1
    assert ran.err == (
        "error: refusing to submit anything: the state records each job's spec file relative "
        f"to the repository root, and {recorded} (alpha) {problem}. Keep the specs inside the "
        "repository (--specs, personalize-runner.yaml) and name their files without "
        "backslashes.\n"
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert not state_file(repo).exists()


def test_a_spec_file_named_with_a_backslash_is_refused_before_any_create(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    (repo / "specs" / "team\\beta.yaml").write_text(spec_yaml("beta"), encoding="utf-8")

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert "specs/team\\beta.yaml (beta) has a backslash in its name." in ran.err
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert not state_file(repo).exists()
    # Renamed, it goes through, and every later command reads the state.
    (repo / "specs" / "team\\beta.yaml").rename(repo / "specs" / "beta.yaml")
    assert run_cli("reconcile").status == 0
    assert sorted(read_state(state_file(repo)).jobs) == ["alpha", "beta"]
    assert run_cli("status").status == 0


def test_a_record_the_reader_would_refuse_is_never_written(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    writer = StateWriter(store, None)
    writer.write(make_state(1))
    before = (tmp_path / "state.json").read_bytes()
    other = make_record("other").arn

    with pytest.raises(StateError) as info:
        writer.write(writer.state.with_job(make_record("bad", arn=other)))

    assert str(info.value) == (
        f"cannot read the state in state file {tmp_path}/state.json as this run would write "
        f"it: jobs[\"bad\"].arn is the ARN of another job: '{other}'. Nothing was written: the "
        "runner writes no state that it cannot read back."
    )
    assert (tmp_path / "state.json").read_bytes() == before
    assert writer.state.serial == 1


def test_a_spec_file_outside_the_repository_is_never_recorded(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    writer = StateWriter(store, None)

    with pytest.raises(StateError) as info:
        writer.write(State.new().with_job(make_record("bad", spec_file="../other/bad.yaml")))

    assert str(info.value) == (
        f"refusing to write state file {tmp_path}/state.json: the state records each job's "
        "spec file relative to the repository root, and ../other/bad.yaml (bad) is outside "
        "the repository root. Keep the specs inside the repository (--specs, "
        "personalize-runner.yaml) and name their files without backslashes."
    )
    assert not (tmp_path / "state.json").exists()


# Writability, proven before the first create.


def test_a_read_only_state_is_found_out_before_any_create(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    path = state_file(repo)
    before = path.read_bytes()
    path.chmod(0o444)
    write_specs(repo / "specs", ["beta"])
    personalize_server.clear_calls()

    ran = run_cli("reconcile")

    assert ran.status == 1
    assert ran.err == (
        f"error: state file {path} is read-only: this run could not record the jobs it submits, "
        "so it submits nothing. Make it writable (chmod u+w), or give another --state.\n"
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_an_unwritable_state_folder_is_found_out_before_any_create(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    folder = repo / "ci"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        ran = run_cli("reconcile", "--state", "ci/state.json")
    finally:
        folder.chmod(0o755)
    assert ran.status == 1
    assert "This run could not record the jobs it submits, so it submits nothing" in ran.err
    assert personalize_server.count("CreateBatchSegmentJob") == 0


HOLD = """\
import sys, time
from pathlib import Path
from runner.fs import FileLock

lock = FileLock(Path(sys.argv[1]))
assert lock.try_acquire()
print("locked", flush=True)
time.sleep(120)
"""


@contextmanager
def holding(lock_file: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding an flock on `lock_file` (once it exists)."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_file)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "locked\n"
            yield process
        finally:
            process.kill()


def test_a_lock_file_deleted_while_held_is_locked_again_or_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    lock_file = Path(f"{path}.lock")
    warnings: list[str] = []
    store = FileStateStore(path, warn=warnings.append)
    holder = LockHolder.current(command="personalize-runner reconcile")

    with store.lock(holder=holder, timeout=1):
        lock_file.unlink()
        store.check_writable()
        assert warnings == [
            f"warning: the state lock {lock_file} was deleted while this run held it; this run "
            "locked it again. Do not delete the lock file: it is how runs keep out of each "
            "other's way."
        ]
        assert LockHolder.from_json(lock_file.read_bytes()) is not None
        # Deleted again, and another run locks the new file first: this one stops.
        lock_file.unlink()
        with holding(lock_file):
            with pytest.raises(LockError) as info:
                store.check_writable()
            with pytest.raises(LockError):
                store.write(State.new(), expected=None)
    assert str(info.value).startswith(
        f"the state lock {lock_file} was deleted while this run held it, and another run has "
        "locked it since"
    )
    assert not path.exists()


# A state path that is a symbolic link.


def test_a_symlinked_state_is_written_through(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    target = repo / "shared" / "state.json"
    target.parent.mkdir()
    link = repo / "state.json"
    link.symlink_to(Path("shared") / "state.json")
    write_specs(repo / "specs", ["alpha"])

    assert run_cli("reconcile", "--state", "state.json").status == 0
    write_specs(repo / "specs", ["beta"])
    assert run_cli("reconcile", "--state", "state.json").status == 0

    assert link.is_symlink()
    assert sorted(read_state(target).jobs) == ["alpha", "beta"]
    assert sorted(read_state(Path(f"{target}.backup")).jobs) == ["alpha"]
    # Its backup and lock are beside the target, not beside the link.
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "state.json",
        "state.json.backup",
        "state.json.lock",
    ]
    assert not Path(f"{link}.backup").exists()
    assert not Path(f"{link}.lock").exists()


# Documents too deep or too large for their reader.


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"[" * 100_000 + b"]" * 100_000,
            "it nests arrays and objects deeper than the JSON parser goes",
        ),
        (
            b'{"format_version": 2, "jobs": {}, "lineage": "0b7e5d8c-3f6a-4c2e-9a41-5d2f8e6b1c07", '
            b'"serial": ' + b"7" * 5000 + b"}\n",
            "it has an integer of 5,000 digits (at most 30)",
        ),
    ],
    ids=["deep", "long-serial"],
)
def test_a_state_too_deep_or_with_too_long_a_number_is_a_clear_error(
    repo: Path, content: bytes, problem: str
) -> None:
    path = state_file(repo)
    path.parent.mkdir()
    path.write_bytes(content)

    ran = run_cli("status")

    assert ran.status == 1
    assert ran.err == (
        f"error: cannot read the state in {path}: {problem}. Restore it from version control "
        f"(there is no backup: {path}.backup does not exist); the runner will not overwrite "
        "it.\n"
    )
    # With a backup, the message names it.
    Path(f"{path}.backup").write_bytes(make_state(1).to_json())
    ran = run_cli("status")
    assert ran.err.endswith(
        f"Restore it from {path}.backup or from version control; the runner will not "
        "overwrite it.\n"
    )


def test_a_saved_plan_nested_too_deep_is_a_clear_error(repo: Path) -> None:
    (repo / "deep.json").write_bytes(b'{"plan": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")

    ran = run_cli("reconcile", "--plan", "deep.json")

    assert ran.status == 1
    assert ran.err == (
        "error: --plan deep.json: it is not a saved plan (it nests arrays and objects more "
        "than 64 levels deep); save one with `personalize-runner plan --out FILE`\n"
    )


# Read-only commands do not wait for the lock.


def test_status_refresh_does_not_wait_for_a_held_lock(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    path = state_file(repo)
    before = path.read_bytes()

    with holding(Path(f"{path}.lock")):
        began = time.monotonic()
        ran = run_cli("status", "--refresh")
        took = time.monotonic() - began

    assert ran.status == 0
    assert took < 5
    assert ran.err == (
        f"note: the statuses shown were not written to state file {path}: its lock is busy "
        "(another process, which did not record who it is); the run that holds it records "
        "them when it polls.\n"
    )
    assert "alpha" in ran.out
    assert path.read_bytes() == before


def test_wait_does_not_wait_for_a_held_lock_either(
    repo: Path, personalize_server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    path = state_file(repo)
    before = path.read_bytes()
    manual_clock.advance(100)

    with holding(Path(f"{path}.lock")):
        began = time.monotonic()
        ran = run_cli("wait")
        took = time.monotonic() - began

    # The stand-in finds no input for the job: it ends CREATE FAILED, final all the same.
    assert ran.status == 1, ran.err
    assert took < 10
    assert ran.err == (
        f"note: the statuses shown were not written to state file {path}: its lock is busy "
        "(another process, which did not record who it is); the run that holds it records "
        "them when it polls.\n"
    )
    assert ran.out.endswith("0 ACTIVE; 1 CREATE FAILED (alpha).\n")
    assert path.read_bytes() == before
