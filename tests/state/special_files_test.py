"""A FIFO, a socket or a device where the runner reads or writes a file of its own: the
state, its journal, backup and lock, a saved plan, `--out`, `--report`, the configuration.
Each command says what is there and exits 1 at once; none waits (issue 10, "Never
stuck": opening a FIFO waits for its other end forever). Each runs as a process of its
own with a hard timeout, so that a command that hangs fails its test."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer

# Far more than any of these commands takes; a FIFO opened for reading waits forever.
HANG = 60


@pytest.fixture
def repo(tmp_path: Path, personalize_server: PersonalizeServer) -> Path:
    """A repository whose specs go to the HTTP stand-in (in `os.environ` since the
    fixture), with one spec."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    write_specs(root / "specs", ["alpha"])
    return root


def state_path(repo: Path) -> Path:
    return repo / ".personalize-runner" / "state.json"


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`personalize-runner ARGS` in `repo`, as a process; `TimeoutExpired` if it hangs."""
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=repo,
        env=dict(os.environ, NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )


def refused(ran: subprocess.CompletedProcess[str]) -> str:
    """The one-line error of a command that exits 1 (no traceback)."""
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr
    assert ran.stderr.startswith("error: "), ran.stderr
    return ran.stderr


@pytest.mark.parametrize(
    "command",
    [["status"], ["plan"], ["state", "list"], ["reconcile"], ["reconcile", "--dry-run"]],
)
def test_a_fifo_in_place_of_the_state_is_refused_by_every_command(
    repo: Path, personalize_server: PersonalizeServer, command: list[str]
) -> None:
    path = state_path(repo)
    path.parent.mkdir()
    os.mkfifo(path)

    error = refused(cli(repo, *command))

    assert error == (
        f"error: state file {path} is a named pipe (FIFO), not a regular file: the runner "
        "neither reads nor replaces it. Remove it, or give the state file's path (--state).\n"
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0


def test_a_fifo_given_as_the_state(repo: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    assert "is a named pipe (FIFO), not a regular file" in refused(
        cli(repo, "plan", "--state", str(fifo))
    )


def test_a_fifo_as_the_saved_plan(repo: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)

    assert refused(cli(repo, "reconcile", "--plan", str(fifo))) == (
        f"error: --plan {fifo}: cannot read the plan: a named pipe (FIFO), not a regular "
        "file; give the file that `personalize-runner plan --out FILE` saved\n"
    )


@pytest.mark.parametrize(
    ("command", "option", "what"),
    [
        (["plan", "--out"], "--out", "the plan"),
        (["reconcile", "--report"], "--report", "the report"),
    ],
)
def test_a_fifo_or_a_device_to_write_is_refused_before_anything_is_done(
    repo: Path,
    tmp_path: Path,
    personalize_server: PersonalizeServer,
    command: list[str],
    option: str,
    what: str,
) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)

    for target, kind in ((fifo, "a named pipe (FIFO)"), (Path(os.devnull), "a character device")):
        assert refused(cli(repo, *command, str(target))) == (
            f"error: {option} {target}: cannot write {what} there: it is {kind}, not a "
            "regular file. Give the path of a regular file, or of one to make.\n"
        )
    # Refused first: nothing submitted, no state written.
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert not state_path(repo).exists()
    # A regular file is written as before.
    out = tmp_path / "written.json"
    ran = cli(repo, *command, str(out))
    assert ran.returncode == 0, ran.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["format"].startswith("personalize-runner/")


def test_a_fifo_in_place_of_the_configuration(repo: Path) -> None:
    config = repo / "personalize-runner.yaml"
    config.unlink()
    os.mkfifo(config)

    assert refused(cli(repo, "plan")) == (
        f"error: {config}: a named pipe (FIFO), not a regular file: the configuration is a "
        "YAML file; remove it, or put the file in its place\n"
    )


@pytest.mark.parametrize("beside", ["journal", "lock"])
def test_a_fifo_beside_the_state(
    repo: Path, personalize_server: PersonalizeServer, beside: str
) -> None:
    assert cli(repo, "reconcile").returncode == 0
    path = state_path(repo)
    recorded = path.read_bytes()
    fifo = Path(f"{path}.{beside}")
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    write_specs(repo / "specs", ["alpha", "beta"])

    if beside == "lock":
        commands = [["reconcile"]]
        expected = (
            f"error: the state lock {fifo} is a named pipe (FIFO), not a regular file: it "
            "cannot be locked. Remove it (the runner makes the lock file).\n"
        )
    else:
        commands = [["status"], ["plan"], ["reconcile"]]
        expected = (
            f"error: the journal {fifo} of state file {path} is a named pipe (FIFO), not a "
            "regular file: the runner neither reads nor replaces it. Remove it (the runner "
            "makes the journal when it needs one).\n"
        )
    for command in commands:
        assert refused(cli(repo, *command)) == expected

    assert personalize_server.count("CreateBatchSegmentJob") == 1
    assert path.read_bytes() == recorded
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_in_place_of_the_backup_is_not_replaced(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    assert cli(repo, "reconcile").returncode == 0
    path = state_path(repo)
    backup = Path(f"{path}.backup")
    backup.unlink(missing_ok=True)
    os.mkfifo(backup)
    write_specs(repo / "specs", ["alpha", "beta"])

    ran = cli(repo, "reconcile")

    # beta is recorded (in the journal, which reads the same); folding it into the
    # snapshot would replace the backup, which is left as it is, with a warning.
    assert ran.returncode == 0, ran.stderr
    assert f"({backup} is a named pipe (FIFO), not a regular file)" in ran.stderr
    assert personalize_server.count("CreateBatchSegmentJob") == 2
    assert "beta" in cli(repo, "status").stdout
    assert stat.S_ISFIFO(backup.stat().st_mode)


@pytest.mark.parametrize("name", ["jobs.json", "jobs.lock"])
def test_a_fifo_in_the_local_service_s_folder(repo: Path, name: str) -> None:
    (repo / "personalize-runner.yaml").write_text("backend: local\n", encoding="utf-8")
    folder = repo / ".personalize-local" / "service"
    folder.mkdir(parents=True)
    fifo = folder / name
    os.mkfifo(fifo)

    error = refused(cli(repo, "reconcile"))

    assert "a named pipe (FIFO), not a regular file" in error
    assert f"Move the folder {folder.parent} away" in error


def test_a_fifo_in_place_of_the_digest_cache_is_no_cache(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runner.digest import sha256_hex

    cache = tmp_path / "cache"
    folder = cache / "personalize-runner" / "digests"
    folder.mkdir(parents=True)
    fifo = folder / f"{sha256_hex(os.fsencode(str(repo.resolve())))[:32]}.json"
    os.mkfifo(fifo)
    assert cli(repo, "reconcile").returncode == 0
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))

    ran = cli(repo, "plan")

    assert (ran.returncode, ran.stderr) == (0, "")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
