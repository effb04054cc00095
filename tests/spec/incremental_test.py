"""Incremental planning (issue 5): a spec file that the state records whole and whose bytes
did not change is not parsed; any other file is, and the plan is the same either way."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path

import pytest

from runner.planner import Change, make_plan, recorded_files
from runner.spec import JobSpec, LoadResult
from runner.spec import loader as loader_module
from runner.spec.checks import check_against_state
from runner.spec.loader import load_specs
from runner.spec.parse import ParsedFile
from runner.state import JobRecord, Snapshot, State, new_record
from tests.support.job_specs import spec_yaml, write_specs

SUBMITTED = datetime.datetime(2026, 11, 1, 12, 30, tzinfo=datetime.UTC)


def record_of(spec: JobSpec, **changes: object) -> JobRecord:
    """The record a reconcile makes of `spec`."""
    record = new_record(
        spec,
        spec.job_arn,
        recorded_by="created",
        status="ACTIVE",
        description=None,
        git_commit=None,
        now=SUBMITTED,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


class ParseCounter:
    """Counts the files the loader parses, through the module's own `parse_file`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[str] = []
        parse = loader_module.parse_file

        def counting(data: bytes, name: str, ignore: frozenset[str] = frozenset()) -> ParsedFile:
            self.files.append(name)
            return parse(data, name, ignore)

        monkeypatch.setattr(loader_module, "parse_file", counting)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_specs(tmp_path / "specs", ["alpha", "beta", "gamma"])
    return tmp_path


def load(repo: Path, state: State | None) -> LoadResult:
    return load_specs([repo / "specs"], root=repo, recorded=recorded_files(state))


def recorded_state(repo: Path) -> State:
    full = load(repo, None)
    assert full.findings == []
    return State.new().with_jobs(record_of(spec) for spec in full.specs)


def snapshot(state: State) -> Snapshot:
    return Snapshot(state, "v1")


def test_unchanged_files_are_not_parsed_and_plan_the_same(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = recorded_state(repo)
    full_plan = make_plan(load(repo, None).specs, snapshot(state))
    counter = ParseCounter(monkeypatch)

    loaded = load(repo, state)

    assert counter.files == []
    assert (loaded.specs, loaded.findings, loaded.files) == ([], [], 3)
    assert loaded.unchanged_files == ["specs/alpha.yaml", "specs/beta.yaml", "specs/gamma.yaml"]
    plan = make_plan(loaded.specs, snapshot(state), unchanged_files=loaded.unchanged_files)
    assert plan.to_dict() == full_plan.to_dict()
    assert [job.change for job in plan.jobs] == [Change.UNCHANGED] * 3


def test_a_changed_spec_is_parsed_and_checked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = recorded_state(repo)
    (repo / "specs" / "beta.yaml").write_text(
        spec_yaml("beta").replace("items.jsonl", "other.jsonl"), encoding="utf-8"
    )
    counter = ParseCounter(monkeypatch)

    loaded = load(repo, state)

    assert counter.files == ["specs/beta.yaml"]
    assert [spec.job_name for spec in loaded.specs] == ["beta"]
    findings = check_against_state(loaded.specs, state)
    assert [(finding.path, finding.rule) for finding in findings] == [
        ("specs/beta.yaml", "spec-changed")
    ]


def test_a_byte_change_that_keeps_the_request_is_parsed_and_unchanged(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = recorded_state(repo)
    path = repo / "specs" / "gamma.yaml"
    path.write_text("# a comment\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    counter = ParseCounter(monkeypatch)

    loaded = load(repo, state)

    assert counter.files == ["specs/gamma.yaml"]
    plan = make_plan(loaded.specs, snapshot(state), unchanged_files=loaded.unchanged_files)
    assert [job.change for job in plan.jobs] == [Change.UNCHANGED] * 3


def test_an_unrecorded_document_in_a_recorded_file_is_planned(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = spec_yaml("delta") + "---\n" + spec_yaml("epsilon")
    (repo / "specs" / "two.yaml").write_text(both, encoding="utf-8")
    full = load(repo, None)
    # Only delta was recorded (epsilon's create failed, say): the file's bytes are the same.
    state = State.new().with_jobs(
        record_of(spec) for spec in full.specs if spec.job_name != "epsilon"
    )
    counter = ParseCounter(monkeypatch)

    loaded = load(repo, state)

    assert counter.files == ["specs/two.yaml"]
    plan = make_plan(loaded.specs, snapshot(state), unchanged_files=loaded.unchanged_files)
    assert {job.name: job.change for job in plan.jobs}["epsilon"] is Change.CREATE
    assert {job.name: job.change for job in plan.jobs}["delta"] is Change.UNCHANGED


def test_records_that_disagree_about_their_file_make_it_parsed(repo: Path) -> None:
    state = recorded_state(repo)
    alpha = state.jobs["alpha"]
    for odd in (
        replace(alpha, spec_documents=None, spec_index=None),  # a version 1 record
        replace(alpha, spec_documents=2),  # a document the state does not record
    ):
        files = recorded_files(state.with_job(odd))
        assert "specs/alpha.yaml" not in files
        assert "specs/beta.yaml" in files


def test_a_new_spec_with_the_name_of_an_unchanged_one_is_a_duplicate(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = recorded_state(repo)
    (repo / "specs" / "copy.yaml").write_text(spec_yaml("alpha"), encoding="utf-8")
    counter = ParseCounter(monkeypatch)

    loaded = load(repo, state)

    assert counter.files == ["specs/copy.yaml"]
    assert [(finding.path, finding.rule) for finding in loaded.findings] == [
        ("specs/copy.yaml", "duplicate-job-name")
    ]
    assert loaded.findings[0].message == (
        "jobName: 'alpha' is also the name of the job in specs/alpha.yaml; "
        "job names are the idempotency key and must be unique"
    )


def test_a_spec_moved_to_another_file_is_not_a_duplicate(repo: Path) -> None:
    state = recorded_state(repo)
    (repo / "specs" / "alpha.yaml").rename(repo / "specs" / "moved.yaml")

    loaded = load(repo, state)

    assert loaded.findings == []
    plan = make_plan(loaded.specs, snapshot(state), unchanged_files=loaded.unchanged_files)
    assert [(job.name, job.change) for job in plan.jobs] == [
        ("alpha", Change.UNCHANGED),
        ("beta", Change.UNCHANGED),
        ("gamma", Change.UNCHANGED),
    ]
