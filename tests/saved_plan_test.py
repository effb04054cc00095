"""A saved plan read back, and whether it still applies (`runner.saved_plan`)."""

from __future__ import annotations

import json

import pytest

from runner.errors import PlanError
from runner.output.plan import render_json
from runner.planner import PLAN_FORMAT, PLAN_VERSION, make_plan
from runner.saved_plan import check_saved_plan, read_plan
from tests.planner_test import snapshot_of
from tests.state.support import LINEAGE, make_record
from tests.support.job_specs import make_spec


def test_json_form_is_versioned_and_round_trips() -> None:
    spec = make_spec("same-job")
    snapshot = snapshot_of(make_record("same-job", request_digest=spec.request_digest))
    plan = make_plan([spec, make_spec("new-job")], snapshot)

    document = json.loads(render_json(plan))

    assert (document["format"], document["version"]) == (PLAN_FORMAT, PLAN_VERSION)
    assert list(document) == [
        "format",
        "version",
        "refreshed",
        "planned_at",
        "state",
        "summary",
        "jobs",
        "recurring",
        "specs",
    ]
    assert document["summary"] == {
        "create": 1,
        "adopt": 0,
        "unchanged": 1,
        "conflict": 0,
        "orphan": 0,
    }
    assert document["state"] == {
        "lineage": LINEAGE,
        "serial": 4,
        "version": snapshot.version,
    }
    assert read_plan(document) == plan


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "it is not a personalize-runner plan (the plan must be an object)"),
        ({}, "it is not a personalize-runner plan (no 'format')"),
        (
            {"format": "personalize-runner/plan", "version": 2},
            "it is not a personalize-runner plan (version 2; this personalize-runner "
            "reads version 1)",
        ),
    ],
)
def test_a_document_that_is_not_a_plan(document: object, message: str) -> None:
    with pytest.raises(PlanError) as raised:
        read_plan(document)

    assert str(raised.value) == message


def test_a_saved_plan_applies_only_to_the_same_state_and_specs() -> None:
    spec = make_spec("a")
    snapshot = snapshot_of()
    saved = make_plan([spec], snapshot)

    assert check_saved_plan(saved, [spec], snapshot) == []
    assert check_saved_plan(saved, [spec], snapshot_of(serial=5)) == [
        "the state moved from serial 4 to serial 5 since the plan was made"
    ]
    assert check_saved_plan(saved, [make_spec("a", numResults=9), make_spec("b")], snapshot) == [
        "specs changed since the plan was made: specs/a.yaml#0",
        "specs added since the plan was made: specs/b.yaml#0",
    ]
    assert check_saved_plan(saved, [], None) == [
        "the plan was made from the state at serial 4; there is no state now",
        "specs removed since the plan was made: specs/a.yaml#0",
    ]
    assert check_saved_plan(make_plan([spec], None), [spec], snapshot) == [
        "the plan was made when there was no state; it is now at serial 4"
    ]
