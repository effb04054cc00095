"""Records and states for the state tests (also imported by their subprocesses)."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

from runner.state import JobRecord, State

LINEAGE = "0b7e5d8c-3f6a-4c2e-9a41-5d2f8e6b1c07"
SUBMITTED = datetime.datetime(2026, 11, 1, 12, 30, tzinfo=datetime.UTC)


def make_record(name: str = "holiday-promo-2026-11", **changes: Any) -> JobRecord:
    record = JobRecord(
        name=name,
        arn=f"arn:aws:personalize:us-east-1:123456789012:batch-segment-job/{name}",
        partition="aws",
        region="us-east-1",
        account="123456789012",
        spec_file=f"specs/{name}.yaml",
        spec_digest="5" * 64,
        request_digest="a" * 64,
        git_commit="4fd8ee1c" * 5,
        submitted_at=SUBMITTED,
        recorded_by="created",
        status="CREATE PENDING",
    )
    return replace(record, **changes)


def make_state(jobs: int = 1, *, lineage: str = LINEAGE, serial: int = 1) -> State:
    records = {f"job-{i:05d}": make_record(f"job-{i:05d}") for i in range(jobs)}
    return State(format_version=1, lineage=lineage, serial=serial, jobs=records)
