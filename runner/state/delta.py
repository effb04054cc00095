"""A delta: one change of the state, recorded apart from the snapshot (issue 11).

Recording a job rewrote the whole state, so a run's cost grew with the state it kept. A
store now records each change as a delta, in proportion to the change: a line of the file
store's journal (`runner.state.journal`), an object of the S3 store's (`runner.state.s3`),
and folds the deltas into the snapshot at the end of the run (compaction).

How a delta relates to the snapshot: a delta of serial `n` of lineage `L` is the change
from the state at serial `n - 1` of `L` to the state at `n`; it names both. The snapshot
is the state at some serial `p`; the state is the snapshot with the deltas `p + 1`,
`p + 2`, … applied in order, and a delta of serial `p` or lower is already in the
snapshot (a compaction wrote the snapshot and was stopped before it removed the delta):
it is ignored. A delta that does not follow (another lineage, a gap) makes the state
unreadable: the runner stops rather than guess.

A delta's JSON is the state's own (`runner.state.codec`): `format_version`, `lineage`,
`serial` and the `jobs` it adds or replaces, each record as the snapshot writes it, and
`removed`, the keys of the records it removes; it is read back with the snapshot's reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from runner.errors import StateError
from runner.jsonread import JsonLimitError, Limits, parse
from runner.state.codec import (
    DEFAULT_REMEDY,
    DOCUMENTS_VERSION,
    decode_document,
    record_to_json,
)
from runner.state.model import State
from runner.state.record import JobRecord

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
# A delta holds the records of one change: a run records one job per change.
_LIMITS = Limits(max_bytes=64 * 1024 * 1024, max_depth=None)


@dataclass(frozen=True)
class Delta:
    format_version: int
    lineage: str
    serial: int
    # By key: the record added or replaced, or None for one removed.
    changes: Mapping[str, JobRecord | None]

    @classmethod
    def of(cls, state: State, changes: Mapping[str, JobRecord | None]) -> Delta:
        """The delta that makes `state` of the state before it (`State.changes_since`)."""
        return cls(state.format_version, state.lineage, state.serial, changes)

    def to_json(self) -> bytes:
        """One line of JSON (no newline)."""
        documents = self.format_version >= DOCUMENTS_VERSION
        return _ENCODER.encode(
            {
                "format_version": self.format_version,
                "lineage": self.lineage,
                "serial": self.serial,
                "jobs": {
                    key: record_to_json(record, documents=documents)
                    for key, record in sorted(self.changes.items())
                    if record is not None
                },
                "removed": sorted(key for key, record in self.changes.items() if record is None),
            }
        ).encode("ascii")

    @classmethod
    def from_json(cls, data: bytes, *, source: str, remedy: str = DEFAULT_REMEDY) -> Delta:
        """A delta back (`StateError` naming `source` if it is not one this runner wrote)."""
        try:
            document = parse(data, limits=_LIMITS)
        except (ValueError, UnicodeDecodeError) as error:
            # json.JSONDecodeError and JsonLimitError are ValueErrors.
            reason = str(error) if isinstance(error, JsonLimitError) else "it is not JSON"
            raise StateError(f"cannot read the state delta {source}: {reason}. {remedy}") from None
        removed = document.pop("removed", None) if isinstance(document, dict) else None
        if not (isinstance(removed, list) and all(isinstance(key, str) and key for key in removed)):
            raise StateError(
                f"cannot read the state delta {source}: it has no list of removed keys. {remedy}"
            )
        fields = decode_document(document, source=source, remedy=remedy)
        if fields.serial < 1:
            raise StateError(f"cannot read the state delta {source}: serial 0. {remedy}")
        changes: dict[str, JobRecord | None] = dict(fields.jobs)
        for key in removed:
            if key in changes:
                raise StateError(
                    f"cannot read the state delta {source}: it both records and removes "
                    f"{key!r}. {remedy}"
                )
            changes[key] = None
        return cls(fields.format_version, fields.lineage, fields.serial, changes)


def apply(snapshot: State, deltas: list[Delta], *, where: str) -> State:
    """`snapshot` with `deltas` applied; the deltas must follow it (see the docstring):
    those it already holds are skipped, a gap or another lineage is a `StateError`."""
    deltas = [delta for delta in deltas if delta.serial > snapshot.serial]
    if not deltas:
        return snapshot
    jobs = dict(snapshot.jobs)
    serial, format_version = snapshot.serial, snapshot.format_version
    for delta in deltas:
        if delta.lineage != snapshot.lineage or delta.serial != serial + 1:
            what = (
                f"of another lineage ({delta.lineage})"
                if delta.lineage != snapshot.lineage
                else f"of serial {delta.serial}, where serial {serial + 1} should follow"
            )
            raise StateError(
                f"cannot read {where}: a delta {what} does not continue the state at serial "
                f"{serial}. The snapshot was replaced or a delta removed by hand: restore the "
                "state that the deltas continue, or remove the deltas to go back to the "
                "snapshot; the runner will not overwrite it."
            )
        for key, record in delta.changes.items():
            if record is None:
                jobs.pop(key, None)
            else:
                jobs[key] = record
        serial, format_version = delta.serial, delta.format_version
    return State(format_version=format_version, lineage=snapshot.lineage, serial=serial, jobs=jobs)
