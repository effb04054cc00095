from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.job_requests import job_request
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.personalize_server import PersonalizeServer


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def test_the_default_plan_needs_no_credentials(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(repo / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(repo / "none"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", "http://127.0.0.1:9")
    write_specs(repo / "specs", ["alpha"])

    ran = run_cli("plan", "--detailed-exitcode")

    assert (ran.status, ran.err) == (2, "")
    assert ran.out == (
        "Plan: 1 to create (offline, no state yet)\n"
        "\n"
        "+ alpha  create     us-east-1 123456789012  specs/alpha.yaml\n"
        "\n"
        "`personalize-runner reconcile` would submit 1 job.\n"
    )
    assert run_cli("plan").status == 0


def test_markdown_and_json(repo: Path) -> None:
    write_specs(repo / "specs", ["alpha"])

    markdown = run_cli("plan", "--format", "markdown").out
    document = json.loads(run_cli("plan", "--format", "json").out)

    assert "| `+` | `alpha` | create | `specs/alpha.yaml` |  |\n" in markdown
    assert (document["format"], document["version"]) == ("personalize-runner/plan", 1)
    assert [job["change"] for job in document["jobs"]] == ["create"]


def test_refresh_finds_jobs_to_adopt(repo: Path, personalize_server: PersonalizeServer) -> None:
    personalize_server.service.create_batch_segment_job(
        job_request("alpha", output_path="s3://acme-personalize/batch/out/alpha/")
    )
    write_specs(repo / "specs", ["alpha"])

    ran = run_cli("plan", "--refresh", "--detailed-exitcode")

    assert ran.status == 2
    assert ran.out == (
        "Plan: 1 to adopt (the service consulted, no state yet)\n"
        "\n"
        "~ alpha  adopt      us-east-1 123456789012  specs/alpha.yaml\n"
        "    exists at the service with the same parameters: recorded, not submitted again\n"
        "\n"
        "`personalize-runner reconcile` would record 1 existing job.\n"
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0


def test_an_invalid_spec_gives_no_plan(repo: Path) -> None:
    (repo / "specs" / "alpha.yaml").write_text(
        spec_yaml("alpha", extra="numResult: 10\n"), encoding="utf-8"
    )

    ran = run_cli("plan")

    assert ran.status == 1
    assert ran.out == ""
    assert ran.err.startswith("specs/alpha.yaml:12:1: error: ")
    assert ran.err.endswith("No plan: fix the specs first (personalize-runner lint).\n")


def test_a_spec_edited_in_place_with_its_size_and_times_put_back_is_seen_changed(
    repo: Path,
    personalize_server: PersonalizeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The digest cache (`runner.spec.fingerprints`) takes a recorded file's digest unread
    only while its fingerprint (device, inode, size, modification and change times) is the
    one cached: an edit of the same size with the modification time set back still moves
    the change time, so the file is read, and the plan sees the edit."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_specs(repo / "specs", ["alpha"])
    path = repo / "specs" / "alpha.yaml"
    assert run_cli("reconcile").status == 0
    # Written well before now (more than the 2 s within which a digest is not cached).
    old = path.stat().st_mtime_ns - 10_000_000_000
    os.utime(path, ns=(old, old))
    assert run_cli("plan").out.startswith("Plan: 1 unchanged")
    cached = json.loads(next((tmp_path / "cache").rglob("*.json")).read_text(encoding="utf-8"))
    assert list(cached["files"]) == ["specs/alpha.yaml"]
    before = path.stat()

    text = path.read_text(encoding="utf-8")
    edited = text.replace("batch/out/alpha/", "batch/out/alphx/")
    assert len(edited) == len(text)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    ran = run_cli("plan")

    assert ran.status == 1
    assert ran.out.startswith("Plan: 1 conflict")
    assert "the spec changed after its job was submitted" in ran.out
