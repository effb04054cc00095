"""The one JSON shape of a job record in output (`status`, `state list`, `state show`):
the state's own encoding of a record, its name and what people look for first in front."""

from __future__ import annotations

from typing import Any

from runner.state import JobRecord
from runner.state.codec import record_to_json

FIRST = ("arn", "status", "recorded_by")


def record_json(record: JobRecord) -> dict[str, Any]:
    fields = record_to_json(record)
    first = {key: fields.pop(key) for key in FIRST}
    return {"name": record.name, **first, **fields}
