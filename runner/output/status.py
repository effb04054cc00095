"""`status`: the recorded jobs and their last known status, as a table or JSON
(`personalize-runner/status`, `schemas/status.v1.json`)."""

from __future__ import annotations

from typing import Any

from runner.backends import ACTIVE, CREATE_FAILED
from runner.kinds import KINDS, job_order
from runner.output.columns import columns
from runner.output.documents import dumps, header
from runner.output.records import record_json
from runner.output.terminal import paint
from runner.state import JobRecord, State
from runner.times import format_minute

NAME = "status"
VERSION = 1
STATUS_COLORS = {ACTIVE: "32", CREATE_FAILED: "1;31"}
# Any other status is a job still on its way.
PENDING_COLOR = "33"


def _records(state: State | None) -> list[JobRecord]:
    if state is None:
        return []
    # Both kinds side by side: the jobs of one name are neighbours.
    return sorted(state.jobs.values(), key=lambda record: job_order(record.name, record.kind))


def render_status_text(state: State | None, *, color: bool = False) -> str:
    records = _records(state)
    if not records:
        return "No jobs recorded.\n"
    header = ("JOB", "STATUS", "REGION", "ACCOUNT", "SUBMITTED", "RECORDED")
    rows = [
        (
            KINDS[record.kind].display(record.name),
            record.status,
            record.region,
            record.account,
            format_minute(record.submitted_at),
            record.recorded_by,
        )
        for record in records
    ]
    head, *cells = columns([header, *rows])
    lines = ["  ".join(head)]
    for record, row in zip(records, cells, strict=True):
        row[1] = paint(row[1], STATUS_COLORS.get(record.status, PENDING_COLOR), color=color)
        lines.append("  ".join(row))
        if record.failure_reason:
            lines.append(f"    {record.failure_reason}")
    return "\n".join(lines) + "\n"


def status_to_dict(state: State | None) -> dict[str, Any]:
    return {
        **header(NAME, VERSION),
        "jobs": [record_json(record) for record in _records(state)],
    }


def render_status_json(state: State | None, *, color: bool = False) -> str:
    return dumps(status_to_dict(state))
