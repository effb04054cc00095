"""Spec trees a careful adversary would make (issue 10), through the command line as a
process with a hard timeout: a link to a folder above the spec folder (`..`, `/`) is a loop
and is not walked (a link to `/` walked the whole file system: lint never ended), and a
file name holding a control character (a line break, an escape sequence) is shown escaped
in every output format and not read, like a name that is not UTF-8."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.cli import lint_process, run_process
from tests.support.job_specs import spec_yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and names")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "personalize-runner.yaml").write_text("backend: local\n", encoding="utf-8")
    (root / "specs" / "good.yaml").write_text(spec_yaml("good"), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("target", "shown"),
    [("/", "/"), ("..", None), ("../..", None)],
    ids=["the root", "the repository", "above the repository"],
)
def test_a_link_to_a_folder_above_the_specs_is_a_loop_and_not_walked(
    repo: Path, target: str, shown: str | None
) -> None:
    (repo / "specs" / "up").symlink_to(target, target_is_directory=True)
    where = shown or str((repo / "specs" / target).resolve())

    status, found, document = lint_process(repo, "specs")

    assert (status, found) == (1, [("specs/up", "symlink-loop")])
    assert document["findings"][0]["message"].startswith(
        f"a symbolic link to the folder {where}, which holds it: a loop, not followed"
    )
    # The repository root's personalize-runner.yaml is not read as a spec.
    assert document["files"] == 1

    reconcile = run_process(repo, "reconcile")

    assert reconcile.returncode == 1
    assert reconcile.stderr.endswith(
        "Nothing submitted: 1 problem in the specs must be fixed first.\n"
    )
    assert not (repo / ".personalize-runner" / "state.json").exists()


def test_a_link_to_a_folder_beside_the_specs_is_still_followed(repo: Path) -> None:
    (repo / "shared").mkdir()
    (repo / "shared" / "team.yaml").write_text(spec_yaml("team"), encoding="utf-8")
    (repo / "specs" / "team").symlink_to("../shared", target_is_directory=True)

    assert lint_process(repo, "specs")[:2] == (0, [])


CONTROL_NAMES = {
    "a line break": ("a\nb.yaml", "specs/a\\x0ab.yaml"),
    "an escape sequence": ("a\x1b[31mb.yaml", "specs/a\\x1b[31mb.yaml"),
    "a carriage return": ("a\rb.yaml", "specs/a\\x0db.yaml"),
    "a C1 control": ("a\x9bb.yaml", "specs/a\\x9bb.yaml"),
}


@pytest.mark.parametrize("output_format", ["text", "json", "github", "sarif"])
@pytest.mark.parametrize("which", list(CONTROL_NAMES))
def test_a_file_name_with_a_control_character_is_shown_escaped_and_not_read(
    repo: Path, which: str, output_format: str
) -> None:
    name, shown = CONTROL_NAMES[which]
    (repo / "specs" / name).write_text(spec_yaml("other"), encoding="utf-8")

    ran = run_process(repo, "lint", "--format", output_format, "specs")

    assert (ran.returncode, ran.stderr) == (1, "")
    control = [char for char in ran.stdout if ord(char) < 0x20 and char != "\n"]
    assert control == []
    message = "the file name holds a control character (shown escaped): it is not read"
    if output_format == "json":
        (finding,) = json.loads(ran.stdout)["findings"]
        assert (finding["path"], finding["rule"]) == (shown, "file-name")
        assert finding["message"].startswith(message)
    elif output_format == "sarif":
        (result,) = json.loads(ran.stdout)["runs"][0]["results"]
        assert result["ruleId"] == "file-name"
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "specs/" + shown.removeprefix("specs/").replace("\\", "%5C").replace(
            "[", "%5B"
        )
    elif output_format == "github":
        assert ran.stdout.startswith(f"::error file={shown},line=1,col=1,")
    else:
        assert ran.stdout == (
            f"{shown}:1:1: error: {message}; rename the file [file-name]\n"
            "1 finding (1 error) in 1 file\n"
        )


def test_a_folder_name_with_a_control_character_escapes_its_files_too(repo: Path) -> None:
    (repo / "specs" / "team\x1b]0;owned\x07").mkdir()
    (repo / "specs" / "team\x1b]0;owned\x07" / "x.yaml").write_text(spec_yaml("x"))

    status, found, _ = lint_process(repo, "specs")

    assert (status, found) == (1, [("specs/team\\x1b]0;owned\\x07/x.yaml", "file-name")])
    reconcile = run_process(repo, "reconcile")
    assert reconcile.returncode == 1
    assert "\x1b" not in reconcile.stderr + reconcile.stdout
    assert not (repo / ".personalize-runner" / "state.json").exists()


def test_a_specs_setting_holding_a_nul_byte_is_a_finding_not_a_crash(repo: Path) -> None:
    # No command line can carry a NUL byte; personalize-runner.yaml can (`"\0"`).
    (repo / "personalize-runner.yaml").write_text(
        'backend: local\nspecs: "sp\\0ecs"\n', encoding="utf-8"
    )
    finding = "sp\\x00ecs:1:1: error: the path holds a NUL byte: check the path [no-such-file]\n"

    lint = run_process(repo, "lint")
    reconcile = run_process(repo, "reconcile")

    assert (lint.returncode, lint.stdout) == (1, finding + "1 finding (1 error) in 0 files\n")
    assert (reconcile.returncode, reconcile.stdout) == (1, "")
    assert reconcile.stderr == (
        finding + "Nothing submitted: 1 problem in the specs must be fixed first.\n"
    )
