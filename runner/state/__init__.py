"""The state: every batch segment job the runner submitted or adopted, and where it is kept."""

from __future__ import annotations

from runner.digest import canonical_json_digest
from runner.state.model import (
    FORMAT_VERSION,
    JobRecord,
    RecordedBy,
    State,
)
from runner.state.store import (
    STORES,
    LockHolder,
    Snapshot,
    StateConflict,
    StateStore,
    open_store,
)

__all__ = [
    "FORMAT_VERSION",
    "STORES",
    "JobRecord",
    "LockHolder",
    "RecordedBy",
    "Snapshot",
    "State",
    "StateConflict",
    "StateStore",
    "canonical_json_digest",
    "open_store",
]
