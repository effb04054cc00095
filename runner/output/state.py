"""`state list` and `state show`: the recorded jobs, as a table or JSON
(`personalize-runner/state-list` and `personalize-runner/state-show`, each with its schema
in `schemas/`)."""

from __future__ import annotations

from typing import Any

from runner.kinds import KINDS, job_order
from runner.output.columns import columns
from runner.output.documents import dumps, header
from runner.output.records import record_fields, record_json
from runner.state import JobRecord, State, StateStore
from runner.times import format_time

LIST = "state-list"
SHOW = "state-show"
VERSION = 1


def render_list_text(store: StateStore, state: State | None, *, color: bool = False) -> str:
    if state is None:
        return f"No state yet: {store.describe()} does not exist.\n"
    count = len(state.jobs)
    lines = [
        f"{store.describe()}: serial {state.serial}, "
        f"{count} job{'' if count == 1 else 's'}, lineage {state.lineage}"
    ]
    rows = [("JOB", "STATUS", "RECORDED", "SUBMITTED", "SPEC")] + [
        (
            KINDS[record.kind].display(record.name),
            record.status,
            record.recorded_by,
            format_time(record.submitted_at),
            record.spec_file,
        )
        for record in _records(state)
    ]
    lines += ["  ".join(cells) for cells in columns(rows)]
    return "\n".join(lines) + "\n"


def render_list_json(store: StateStore, state: State | None, *, color: bool = False) -> str:
    document: dict[str, Any] = {
        **header(LIST, VERSION),
        "state": store.location,
        "serial": None if state is None else state.serial,
        "lineage": None if state is None else state.lineage,
        "jobs": [] if state is None else [record_json(record) for record in _records(state)],
    }
    return dumps(document)


def _records(state: State) -> list[JobRecord]:
    """By name, both kinds side by side: the jobs of one name are neighbours."""
    return sorted(state.jobs.values(), key=lambda record: job_order(record.name, record.kind))


def render_record_text(record: JobRecord, *, color: bool = False) -> str:
    fields = record_fields(record)
    width = max(len(key) for key in fields)
    return "".join(
        f"{key.ljust(width)}  {'-' if value is None else value}\n" for key, value in fields.items()
    )


def render_record_json(record: JobRecord, *, color: bool = False) -> str:
    return dumps({**header(SHOW, VERSION), "job": record_json(record)})
