"""The one JSON shape of a job record in output (`status`, `state list`, `state show`):
the state's own encoding of a record, its name and what people look for first in front."""

from __future__ import annotations

from typing import Any

from runner.state import JobRecord
from runner.state.codec import KIND_FIELD, OPTIONAL_FIELDS, record_to_json

FIRST = ("arn", "status", "recorded_by")


def record_fields(record: JobRecord) -> dict[str, Any]:
    """The record as the state writes it, its name first: the fields the state leaves out
    when they are not set (`period`, say) are left out here too."""
    fields = record_to_json(record)
    fields.pop(KIND_FIELD, None)
    first = {key: fields.pop(key) for key in FIRST}
    # The kind of every record, of the first kind too (the state writes it for the others).
    return {"name": record.name, "kind": record.kind, **first, **fields}


def record_json(record: JobRecord) -> dict[str, Any]:
    """The record in a JSON document: every key, `null` for a field not set (docs/json.md)."""
    fields = record_fields(record)
    for field in OPTIONAL_FIELDS:
        fields.setdefault(field, None)
    return fields
