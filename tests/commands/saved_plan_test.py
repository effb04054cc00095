"""`reconcile --plan FILE` applies a saved plan only if it is the plan made now from the same
specs and state (issue 10 point 5): an edited plan is refused, nothing is submitted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer

FIX = (
    " Nothing was submitted. Make and review a new plan (personalize-runner plan --out FILE), "
    "then apply that one.\n"
)


def edit_plan(repo: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = repo / "plan.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def empty_jobs(document: dict[str, Any]) -> None:
    document["jobs"] = []


def other_region(document: dict[str, Any]) -> None:
    document["jobs"][0]["region"] = "eu-west-1"


def unchanged(document: dict[str, Any]) -> None:
    document["jobs"][0]["change"] = "unchanged"
    document["summary"] = {**document["summary"], "create": 1, "unchanged": 1}


def extra_job(document: dict[str, Any]) -> None:
    document["jobs"].append({**document["jobs"][0], "name": "gamma"})


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (
            empty_jobs,
            "it does not list the BatchSegmentJob alpha (create); "
            "it does not list the BatchSegmentJob beta (create).",
        ),
        (other_region, 'the BatchSegmentJob alpha: region "eu-west-1" (now "us-east-1").'),
        (
            unchanged,
            'the BatchSegmentJob alpha: change "unchanged" (now "create"); its summary differs.',
        ),
        (extra_job, "it lists the BatchSegmentJob gamma, which the plan made now does not."),
    ],
)
def test_an_edited_saved_plan_is_refused_and_nothing_is_submitted(
    repo: Path,
    personalize_server: PersonalizeServer,
    edit: Callable[[dict[str, Any]], None],
    why: str,
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    assert run_cli("plan", "--out", "plan.json").status == 0
    edit_plan(repo, edit)

    ran = run_cli("reconcile", "--plan", "plan.json")

    assert (ran.status, ran.out) == (1, "")
    assert ran.err == (
        "error: the saved plan is not the plan made now from the same specs and state (was it "
        f"edited?): {why.removesuffix('.')}.{FIX}"
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert not (repo / ".personalize-runner" / "state.json").exists()


@pytest.mark.parametrize("refresh", [False, True])
def test_the_saved_plan_as_it_was_made_is_applied(
    repo: Path, personalize_server: PersonalizeServer, refresh: bool
) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])
    assert run_cli("reconcile").status == 0
    write_specs(repo / "specs", ["gamma"])
    # An offline plan, or one that asked the service, whose statuses may move meanwhile.
    made = run_cli("plan", "--out", "plan.json", *(["--refresh"] if refresh else []))
    assert made.status == 0
    personalize_server.clear_calls()

    ran = run_cli("reconcile", "--plan", "plan.json")

    assert (ran.status, ran.err) == (0, "")
    assert ran.out.endswith("Reconcile: 1 created, 2 unchanged (state serial 3).\n")
    assert [
        call.body["jobName"]
        for call in personalize_server.calls
        if call.operation.startswith("Create")
    ] == ["gamma"]


def test_a_saved_plan_of_recurring_specs_is_applied_at_the_instant_it_was_made(
    repo: Path, personalize_server: PersonalizeServer
) -> None:
    # A tick between `plan --out` and `reconcile --plan` (the action runs them seconds apart,
    # the scheduled workflow just after a tick): the reviewed plan's period is submitted.
    write_specs(repo / "specs", ["alpha"])
    (repo / "specs" / "alpha.yaml").write_text(
        (repo / "specs" / "alpha.yaml")
        .read_text(encoding="utf-8")
        .replace("jobName: alpha", 'jobName: alpha-{date}\nschedule:\n  cron: "0 6 * * *"')
        .replace("/out/alpha/", "/out/alpha/{date}/"),
        encoding="utf-8",
    )
    made = run_cli("plan", "--now", "2026-11-02T06:30:00Z", "--out", "plan.json")
    assert made.status == 0, made.err
    saved = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    assert saved["planned_at"] == "2026-11-02T06:30:00Z"

    ran = run_cli("reconcile", "--plan", "plan.json")

    assert (ran.status, ran.err) == (0, "")
    assert [
        call.body["jobName"]
        for call in personalize_server.calls
        if call.operation.startswith("Create")
    ] == ["alpha-2026-11-02"]
    # An instant given says otherwise: the plan at that instant (the next day's period) is not
    # the saved one, which is refused, and nothing more is sent.
    again = run_cli("plan", "--now", "2026-11-02T06:30:00Z", "--out", "plan.json")
    assert again.status == 0, again.err
    personalize_server.clear_calls()
    later = run_cli("reconcile", "--plan", "plan.json", "--now", "2026-11-03T06:30:00Z")
    assert later.status == 1
    assert later.err.startswith("error: the saved plan no longer applies: ")
    assert not [call for call in personalize_server.calls if call.operation.startswith("Create")]
