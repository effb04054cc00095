"""State format 3: a record says which period of a recurring spec its job is of, and which
solution version a `latestOf` was resolved to; older states still read (issue 12)."""

from __future__ import annotations

import json

import pytest

from runner.errors import StateError
from runner.state import State
from tests.state.support import LINEAGE, make_record

PERIOD = "2026-11-02T06:00:00+01:00"
VERSION = "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c"


def test_period_and_resolved_version_round_trip() -> None:
    record = make_record(
        "genre-fans-2026-11-02",
        spec_index=0,
        spec_documents=1,
        period=PERIOD,
        solution_version_arn=VERSION,
    )
    state = State.new().with_job(record)

    data = state.to_json()

    line = json.loads(data)["jobs"]["genre-fans-2026-11-02"]
    assert (line["period"], line["solution_version_arn"]) == (PERIOD, VERSION)
    assert State.from_json(data, source="state.json") == state


def test_fields_without_a_value_are_not_written() -> None:
    state = State.new().with_job(make_record("one-off", spec_index=0, spec_documents=1))

    line = json.loads(state.to_json())["jobs"]["one-off"]

    assert "period" not in line
    assert "solution_version_arn" not in line
    assert State.from_json(state.to_json(), source="state.json") == state


def test_a_version_2_state_reads_without_periods_and_becomes_version_3() -> None:
    old = State(
        format_version=2,
        lineage=LINEAGE,
        serial=1,
        jobs={"one-off": make_record("one-off", spec_index=0, spec_documents=1)},
    )
    read = State.from_json(old.to_json(), source="state.json")
    assert read.format_version == 2
    assert read.jobs["one-off"].period is None

    new = read.with_job(make_record("genre-fans-2026-11-02", period=PERIOD))

    assert new.format_version == 3
    assert json.loads(new.to_json())["jobs"]["genre-fans-2026-11-02"]["period"] == PERIOD


def test_a_version_2_state_cannot_hold_a_period() -> None:
    with pytest.raises(ValueError, match="cannot hold period or solution_version_arn"):
        State(
            format_version=2,
            lineage=LINEAGE,
            serial=1,
            jobs={"a": make_record("a", period=PERIOD)},
        )


def test_a_period_in_a_version_2_state_is_refused() -> None:
    document = json.loads(State.new().with_job(make_record("a", period=PERIOD)).to_json())
    document["format_version"] = 2

    with pytest.raises(StateError, match="unknown field 'period'"):
        State.from_json(json.dumps(document).encode(), source="state.json")


def test_an_empty_period_is_refused() -> None:
    document = json.loads(State.new().with_job(make_record("a", period=PERIOD)).to_json())
    document["jobs"]["a"]["period"] = ""

    with pytest.raises(StateError, match=r'jobs\["a"\]\.period is empty'):
        State.from_json(json.dumps(document).encode(), source="state.json")
