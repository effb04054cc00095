"""Listings that would never end (issue 10), through the CLI against the HTTP stand-in: a
next token given twice in a row (botocore's `PaginationError`, a traceback), tokens that
alternate (A, B, A, …: botocore asked for pages until `--timeout`, or forever), a token
that is not a string. Each is that listing's malformed answer after a bounded number of
calls: the remote view describes the jobs instead, a `latestOf` job fails alone, the run
ends and its lock is released."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from runner.kinds import BATCH_SEGMENT_JOB
from runner.service import MAX_PAGES, MalformedAnswer, ending_pages
from runner.state import State
from tests.support.cli import run_cli
from tests.support.clock import EPOCH
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer
from tests.support.repos import state_path

ACCOUNT = "123456789012"
SOLUTION = f"arn:aws:personalize:us-east-1:{ACCOUNT}:solution/item-affinity"
ACTIVE_VERSION = f"{SOLUTION}/4fd8ee1c"
TRAINING_VERSION = f"{SOLUTION}/00000009"

# The next tokens of a looping listing, and the list calls after which it is refused.
LOOPS: dict[str, tuple[list[str | int], int]] = {
    "repeated": (["same"], 2),
    "alternating": (["A", "B"], 3),
    "a number": ([5], 1),
}


def recorded_names(repo: Path) -> list[str]:
    state = State.from_json(state_path(repo).read_bytes(), source="test")
    return sorted(record.name for record in state.jobs.values())


def loop(server: PersonalizeServer, operation: str, key: str, which: str) -> None:
    """Queue 1,000 empty pages of `operation` whose next tokens loop (not passed on to the
    service, which would refuse them)."""
    tokens, _ = LOOPS[which]
    for token in itertools.islice(itertools.cycle(tokens), 1000):
        server.answer({key: [], "nextToken": token}, operation=operation, apply=False)


@pytest.mark.parametrize("which", list(LOOPS))
def test_a_looping_job_listing_is_read_by_describing_each_job(
    repo: Path, personalize_server: PersonalizeServer, which: str
) -> None:
    # alpha exists at the service, its record lost; beta is new.
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    state_path(repo).unlink()
    write_specs(repo / "specs", ["beta"])
    loop(personalize_server, "ListBatchSegmentJobs", "batchSegmentJobs", which)
    personalize_server.clear_calls()

    ran = run_cli("reconcile", "--timeout", "600")

    assert (ran.status, ran.err) == (0, "")
    assert ran.out.endswith("Reconcile: 1 created, 1 adopted (state serial 2).\n")
    _, calls = LOOPS[which]
    assert personalize_server.count("ListBatchSegmentJobs") == calls
    assert personalize_server.count("CreateBatchSegmentJob") == 1
    assert recorded_names(repo) == ["alpha", "beta"]

    personalize_server.clear_faults()
    assert run_cli("plan", "--detailed-exitcode").status == 0


def latest_of_spec(name: str, *, latest: bool = True) -> str:
    model = (
        f"solutionVersionArn:\n  latestOf: {SOLUTION}"
        if latest
        else (f"solutionVersionArn: {ACTIVE_VERSION}")
    )
    return "\n".join(
        [
            "apiVersion: personalize-runner/v1",
            "kind: BatchSegmentJob",
            f"jobName: {name}",
            model,
            "jobInput:",
            "  s3DataSource:",
            "    path: s3://acme-personalize/batch/in/items.jsonl",
            "jobOutput:",
            "  s3DataDestination:",
            f"    path: s3://acme-personalize/batch/out/{name}/",
            f"roleArn: arn:aws:iam::{ACCOUNT}:role/PersonalizeBatchRole",
            "",
        ]
    )


@pytest.mark.parametrize("which", list(LOOPS))
def test_a_looping_solution_version_listing_fails_the_latest_of_job_alone(
    repo: Path, personalize_server: PersonalizeServer, which: str
) -> None:
    solutions = personalize_server.service.solutions
    solutions.add_version(ACTIVE_VERSION, created=EPOCH - 86_400)
    # The solution's latest version is still training: its versions are listed.
    solutions.add_version(TRAINING_VERSION, created=EPOCH, training_seconds=7200)
    (repo / "specs" / "latest.yaml").write_text(latest_of_spec("latest"), encoding="utf-8")
    (repo / "specs" / "fixed.yaml").write_text(
        latest_of_spec("fixed", latest=False), encoding="utf-8"
    )
    loop(personalize_server, "ListSolutionVersions", "solutionVersions", which)

    ran = run_cli("reconcile", "--timeout", "600")

    assert ran.status == 1
    assert "Traceback" not in ran.out + ran.err
    (failed,) = [line for line in ran.out.splitlines() if line.startswith("failed")]
    assert failed.startswith(
        f"failed   latest: cannot find the newest ACTIVE version of {SOLUTION}: the service's "
        "answer cannot be trusted (MalformedAnswer: page "
    )
    assert " of the ListSolutionVersions listing " in failed
    assert failed.endswith("; the next reconcile tries again")
    assert ran.out.endswith("Reconcile: 1 created, 1 failed (state serial 1).\n")
    _, calls = LOOPS[which]
    assert personalize_server.count("ListSolutionVersions") == calls
    assert recorded_names(repo) == ["fixed"]

    # The lock was released; the listing answered well, the job is submitted.
    personalize_server.clear_faults()
    again = run_cli("reconcile", "--timeout", "600")
    assert again.status == 0, again.err
    assert recorded_names(repo) == ["fixed", "latest"]
    state = State.from_json(state_path(repo).read_bytes(), source="test")
    assert state.jobs["latest"].solution_version_arn == ACTIVE_VERSION


@pytest.mark.parametrize("which", ["repeated", "alternating"])
def test_a_poll_reads_one_page_whatever_its_next_token(
    repo: Path, personalize_server: PersonalizeServer, which: str
) -> None:
    write_specs(repo / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    loop(personalize_server, "ListBatchSegmentJobs", "batchSegmentJobs", which)
    personalize_server.clear_calls()

    ran = run_cli("status", "--refresh", "--timeout", "600")

    assert (ran.status, ran.err) == (0, "")
    assert personalize_server.count("ListBatchSegmentJobs") == 1
    # alpha, on no page, was described.
    assert personalize_server.count("DescribeBatchSegmentJob") == 1
    assert recorded_names(repo) == ["alpha"]


def pages(count: int, *, last_token: str | None = None) -> Iterator[dict[str, str | None]]:
    for number in range(1, count + 1):
        yield {"nextToken": str(number) if number < count else last_token}


def next_token(page: Mapping[str, object]) -> Mapping[str, object]:
    return {"nextToken": page["nextToken"]}


def test_a_listing_of_max_pages_is_read_and_one_past_it_is_refused() -> None:
    read = list(ending_pages(pages(MAX_PAGES), next_token, "ListBatchSegmentJobs"))
    assert len(read) == MAX_PAGES

    with pytest.raises(MalformedAnswer) as refused:
        for _ in ending_pages(pages(MAX_PAGES, last_token="more"), next_token, "ListX"):
            pass
    assert refused.value.message == (
        "page 100,000 of the ListX listing has a next page: at most 100,000 are read"
    )


def test_a_listing_refuses_a_token_of_any_earlier_page() -> None:
    tokens = ["a", "b", "c", "b"]
    listing = ending_pages(
        ({"nextToken": token} for token in tokens), next_token, BATCH_SEGMENT_JOB.list_operation
    )

    assert [next(listing) for _ in range(3)] == [{"nextToken": t} for t in "abc"]
    with pytest.raises(MalformedAnswer) as refused:
        next(listing)
    assert refused.value.message == (
        "page 4 of the ListBatchSegmentJobs listing gives the next token an earlier page gave: "
        "the listing would never end"
    )
