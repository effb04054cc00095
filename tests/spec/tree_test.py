"""Spec trees that are not plain folders of files, through the command line as a process.

A FIFO, a socket or a device where a spec could be is a finding and never opened (a FIFO
would block lint, and reconcile while holding the lock); a link to a folder is followed,
with loops and folders reached twice reported; a dangling link is a finding; a file name
that is not UTF-8 is reported, escaped, in every output format. Each run is a process of
its own with a hard timeout, so a hang fails the test instead of stopping the suite, and
its output goes through a real pipe (UTF-8, strict), as a CI log's does.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.support.cli import lint_process, run_process

SPEC = (Path(__file__).resolve().parents[1] / "lint" / "positive" / "minimal.yaml").read_text(
    encoding="utf-8"
)
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


def _spec(name: str) -> str:
    return SPEC.replace("weekly_affinity_1", name)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "specs" / "good.yaml").write_text(_spec("good"), encoding="utf-8")
    return root


def test_a_fifo_in_the_spec_folder_is_a_finding_and_not_opened(repo: Path) -> None:
    os.mkfifo(repo / "specs" / "x.yaml")
    status, found, document = lint_process(repo, "specs")
    assert status == 1
    assert found == [("specs/x.yaml", "special-file")]
    assert "named pipe (FIFO)" in str(document["findings"])
    assert document["files"] == 1  # good.yaml, read


def test_a_fifo_named_on_the_command_line_does_not_block(repo: Path) -> None:
    os.mkfifo(repo / "specs" / "x.yaml")
    status, found, _ = lint_process(repo, "specs/x.yaml", "specs/good.yaml")
    assert (status, found) == (1, [("specs/x.yaml", "special-file")])


def test_a_socket_and_a_device_are_findings(repo: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(repo / "specs" / "s.yaml"))
    except OSError as error:  # a path too long for a socket on some systems
        pytest.skip(f"cannot make a socket: {error}")
    try:
        status, found, document = lint_process(repo, "specs", os.devnull)
    finally:
        server.close()
    assert status == 1
    assert found == [(os.devnull, "special-file"), ("specs/s.yaml", "special-file")]
    messages = [finding["message"] for finding in document["findings"]]
    assert messages[0].startswith("a character device")
    assert messages[1].startswith("a socket")


def test_reconcile_with_a_fifo_refuses_at_once_and_submits_nothing(repo: Path) -> None:
    os.mkfifo(repo / "specs" / "x.yaml")
    ran = run_process(repo, "reconcile", "--backend", "local", "--format", "json")
    assert ran.returncode == 1
    assert "special-file" in ran.stdout + ran.stderr
    assert not (repo / ".personalize-runner" / "state.json").exists()


def test_a_spec_in_a_symlinked_folder_is_found(repo: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "team.yaml").write_text(_spec("team"), encoding="utf-8")
    (repo / "specs" / "team").symlink_to(shared, target_is_directory=True)
    status, found, document = lint_process(repo, "specs")
    assert (status, found) == (0, [])
    assert (document["files"], document["specs"]) == (2, 2)
    # And the job of the linked spec is planned under the link's name.
    plan = run_process(repo, "plan", "--backend", "local", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert "specs/team/team.yaml" in plan.stdout


def test_a_symlink_loop_is_a_finding(repo: Path) -> None:
    (repo / "specs" / "sub").mkdir()
    (repo / "specs" / "sub" / "up").symlink_to("..", target_is_directory=True)
    (repo / "specs" / "self.yaml").symlink_to("self.yaml")
    status, found, _ = lint_process(repo, "specs")
    assert status == 1
    assert found == [("specs/self.yaml", "symlink-loop"), ("specs/sub/up", "symlink-loop")]


def test_a_folder_reached_again_through_a_link_is_read_once_under_its_own_name(
    repo: Path,
) -> None:
    (repo / "specs" / "real").mkdir()
    (repo / "specs" / "real" / "r.yaml").write_text(_spec("real"), encoding="utf-8")
    # `again` sorts before `real`: still `real` is the name its spec is read under.
    (repo / "specs" / "again").symlink_to("real", target_is_directory=True)
    status, found, document = lint_process(repo, "specs")
    assert (status, found) == (1, [("specs/again", "symlink-repeat")])
    assert "specs/real" in str(document["findings"])
    assert document["files"] == 2


def test_links_to_links_are_walked_once_each(repo: Path) -> None:
    # d0 holds two links to d1, which holds two to d2, ...: 2**24 paths, 25 folders.
    depth = 24
    for level in range(depth + 1):
        (repo / "specs" / f"d{level}").mkdir()
    for level in range(depth):
        for link in ("a", "b"):
            (repo / "specs" / f"d{level}" / link).symlink_to(
                f"../d{level + 1}", target_is_directory=True
            )
    (repo / "specs" / f"d{depth}" / "deep.yaml").write_text(_spec("deep"), encoding="utf-8")
    status, found, document = lint_process(repo, "specs")
    assert status == 1
    assert document["files"] == 2
    assert {rule for _, rule in found} == {"symlink-repeat"}
    assert len(found) == 2 * depth


def test_a_dangling_symlink_is_a_finding(repo: Path) -> None:
    (repo / "specs" / "gone.yaml").symlink_to("nowhere.yaml")
    (repo / "specs" / "team").symlink_to("../../elsewhere", target_is_directory=True)
    # What an editor leaves while a file is being edited: hidden, not ours.
    (repo / "specs" / ".#good.yaml").symlink_to("user@host.1234:1700000000")
    status, found, document = lint_process(repo, "specs", "specs/gone.yaml")
    assert status == 1
    assert found == [("specs/gone.yaml", "symlink-dangling"), ("specs/team", "symlink-dangling")]
    assert "nowhere.yaml, which does not exist" in str(document["findings"])


@pytest.mark.parametrize("output_format", ["text", "json", "github", "sarif"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(
    repo: Path, output_format: str
) -> None:
    try:
        (repo / "specs" / os.fsdecode(b"caf\xe9.yaml")).write_text(_spec("cafe"))
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    ran = run_process(repo, "lint", "--format", output_format, "specs")
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 1
    shown = "specs/caf\\xe9.yaml"
    if output_format == "json":
        findings = json.loads(ran.stdout)["findings"]
        assert [(item["path"], item["rule"]) for item in findings] == [(shown, "file-name")]
    elif output_format == "sarif":
        results = json.loads(ran.stdout)["runs"][0]["results"]
        assert [result["ruleId"] for result in results] == ["file-name"]
        uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "specs/caf%5Cxe9.yaml"
    else:
        assert shown in ran.stdout
        assert "file-name" in ran.stdout


def test_a_nul_byte_is_located_where_it_stands(repo: Path) -> None:
    (repo / "specs" / "good.yaml").write_bytes(
        b"apiVersion: personalize-runner/v1\nkind: Batch\xc3\xa9\x00SegmentJob\n"
    )
    status, _, document = lint_process(repo, "specs")
    assert status == 1
    [finding] = document["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("yaml-syntax", 2, 13)
    assert "U+0000 (a NUL byte)" in finding["message"]
