"""`plan --out` and `reconcile --report` never write over a file of the runner's own or a
spec: the report would replace the state, and with it every recorded ARN (issue 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import STATE


@pytest.fixture
def recorded(repo: Path, personalize_server: PersonalizeServer) -> bytes:
    """The state after alpha's job was created and recorded."""
    write_specs(repo / "specs", ["alpha"])
    ran = run_cli("reconcile")
    assert ran.status == 0, ran.err
    write_specs(repo / "specs", ["beta"])
    return (repo / STATE).read_bytes()


@pytest.mark.parametrize(
    ("target", "what"),
    [
        (STATE, "the state file"),
        (f"{STATE}.lock", "the state file's lock"),
        (f"{STATE}.backup", "the state file's backup"),
        (f"{STATE}.journal", "the state file's journal"),
        ("personalize-runner.yaml", "the configuration"),
        ("specs/alpha.yaml", "a spec file under the specs folder"),
        ("specs/new.yml", "a spec file under the specs folder"),
        ("specs/../.personalize-runner/state.json", "the state file"),
        (
            ".personalize-local/service/jobs.json",
            "in .personalize-local, the local backend's own folder",
        ),
    ],
)
@pytest.mark.parametrize(
    ("command", "option", "written"),
    [(("plan",), "--out", "the plan"), (("reconcile",), "--report", "the report")],
)
def test_an_output_file_of_the_runners_own_is_refused_before_anything_is_done(
    repo: Path,
    recorded: bytes,
    personalize_server: PersonalizeServer,
    target: str,
    what: str,
    command: tuple[str, ...],
    option: str,
    written: str,
) -> None:
    spec = (repo / "specs/alpha.yaml").read_bytes()

    ran = run_cli(*command, option, target)

    assert ran.status == 1
    assert ran.err == (
        f"error: {option} {target}: cannot write {written} there: it is {what}, which it "
        "would replace. Give the path of another file.\n"
    )
    assert (repo / STATE).read_bytes() == recorded
    assert (repo / "specs/alpha.yaml").read_bytes() == spec
    # Refused before the create: beta was not submitted.
    assert personalize_server.count("CreateBatchSegmentJob") == 1


def test_a_link_or_a_hard_link_to_the_state_is_the_state(repo: Path, recorded: bytes) -> None:
    os.symlink(repo / STATE, repo / "report-link.json")
    os.link(repo / STATE, repo / "report-hard.json")

    for target in ("report-link.json", "report-hard.json"):
        ran = run_cli("plan", "--out", target)

        assert ran.status == 1
        assert "it is the state file, which it would replace" in ran.err
    assert (repo / STATE).read_bytes() == recorded


def test_a_report_beside_the_specs_is_written(repo: Path, recorded: bytes) -> None:
    ran = run_cli("plan", "--out", "specs/plan.json")

    assert ran.status == 0, ran.err
    assert (repo / "specs/plan.json").read_text(encoding="utf-8").startswith("{")
