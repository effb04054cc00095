"""The state: every batch job the runner submitted or adopted, as one frozen value.

Every change makes a new `State` with the next serial; its JSON is `runner.state.codec`'s.
A changed state remembers which records it changed from the state it was made from
(`changes_since`): what lets a store record a change in proportion to its size (a journal
line, a delta object) rather than to the state's (issue 11).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from runner.errors import StateError
from runner.state.codec import (
    DEFAULT_REMEDY,
    DOCUMENTS_VERSION,
    FORMAT_VERSION,
    OPTIONAL_FIELDS,
    RECURRING_VERSION,
    StateFields,
    decode_state,
    encode_state,
)
from runner.state.record import JobRecord


@dataclass(frozen=True)
class State:
    format_version: int
    # Identifies one state's history: a store never overwrites a state of another lineage.
    lineage: str
    # Bumped by every change.
    serial: int
    jobs: Mapping[str, JobRecord]
    # The state this one was made from by one change, and the keys that change added,
    # replaced or removed: not part of the value (`changes_since`).
    _parent: weakref.ref[State] | None = field(default=None, compare=False, repr=False)
    _changed_keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        jobs = dict(self.jobs)
        for key, record in jobs.items():
            if key != record.key:
                raise ValueError(f"job key {key!r} differs from its record's key {record.key!r}")
        if self.format_version < DOCUMENTS_VERSION and any(
            record.spec_index is not None or record.spec_documents is not None
            for record in jobs.values()
        ):
            raise ValueError(
                f"a format version {self.format_version} state cannot hold spec_index or "
                "spec_documents"
            )
        if self.format_version < RECURRING_VERSION and any(
            getattr(record, field) is not None
            for record in jobs.values()
            for field in OPTIONAL_FIELDS
        ):
            raise ValueError(
                f"a format version {self.format_version} state cannot hold "
                f"{' or '.join(OPTIONAL_FIELDS)}"
            )
        object.__setattr__(self, "jobs", MappingProxyType(jobs))

    @classmethod
    def new(cls) -> State:
        import uuid

        return cls(format_version=FORMAT_VERSION, lineage=str(uuid.uuid4()), serial=0, jobs={})

    def with_job(self, record: JobRecord) -> State:
        """This state with `record` added, or replacing the record of the same key (the
        same name and kind)."""
        jobs = _copy(self.jobs)
        jobs[record.key] = record
        return self._changed(jobs, (record.key,))

    def with_jobs(self, records: Iterable[JobRecord]) -> State:
        """This state with all of `records` added or replaced, as one change."""
        new = {}
        for record in records:
            if record.key in new:
                raise ValueError(f"two records for the job {record.key!r}")
            new[record.key] = record
        if not new:
            return self
        jobs = _copy(self.jobs)
        jobs.update(new)
        return self._changed(jobs, new)

    def without_job(self, key: str) -> State:
        """This state without the record of `key` (a `KeyError` if there is none)."""
        jobs = _copy(self.jobs)
        del jobs[key]
        return self._changed(jobs, (key,))

    def _changed(self, jobs: dict[str, JobRecord], keys: Iterable[str]) -> State:
        """The next state: `jobs`, which differ from this state's in `keys` only. Only the
        records of `keys` are checked (the others were, when this state was made), so that
        a change costs in proportion to its size. Every change writes the newest format."""
        keys = frozenset(keys)
        for key in keys:
            record = jobs.get(key)
            if record is not None and key != record.key:
                raise ValueError(f"job key {key!r} differs from its record's key {record.key!r}")
        changed = object.__new__(State)
        for name, value in (
            ("format_version", FORMAT_VERSION),
            ("lineage", self.lineage),
            ("serial", self.serial + 1),
            ("jobs", MappingProxyType(jobs)),
            ("_parent", weakref.ref(self)),
            ("_changed_keys", keys),
        ):
            object.__setattr__(changed, name, value)
        return changed

    def changes_since(self, other: State) -> dict[str, JobRecord | None] | None:
        """What changed from `other` to this state, by key (None: the record was removed),
        if this state was made from `other` by one change (`with_job`, `with_jobs`,
        `without_job`); None when that is not known (then compare the states whole)."""
        if other is self:
            return {}
        parent = None if self._parent is None else self._parent()
        if parent is not other:
            return None
        return {key: self.jobs.get(key) for key in self._changed_keys}

    def to_json(self) -> bytes:
        """The canonical form (see `runner.state.codec`)."""
        return encode_state(
            format_version=self.format_version,
            lineage=self.lineage,
            serial=self.serial,
            jobs=self.jobs,
        )

    def check_readable(self, *, where: str, since: State | None = None) -> None:
        """Refuse (`StateError`) this state if the reader would not read it back as it is:
        the runner never writes a state it cannot read (issue 10).

        The records of `since` that this state keeps (the same objects) are not checked
        again: they were read by the reader, or checked before they were written. The
        others are encoded with the header, read back and compared.
        """
        changes = None if since is None else self.changes_since(since)
        if changes is not None:
            jobs: Mapping[str, JobRecord] = {
                key: record for key, record in changes.items() if record is not None
            }
        elif since is None:
            jobs = self.jobs
        else:
            jobs = {
                name: record
                for name, record in self.jobs.items()
                if since.jobs.get(name) is not record
            }
        try:
            data = encode_state(
                format_version=self.format_version,
                lineage=self.lineage,
                serial=self.serial,
                jobs=jobs,
            )
        except (TypeError, ValueError, UnicodeEncodeError) as error:
            raise StateError(
                f"refusing to write {where}: a record cannot be encoded ({error}). Nothing was "
                "written."
            ) from None
        fields = decode_state(
            data,
            source=f"{where} as this run would write it",
            remedy="Nothing was written: the runner writes no state that it cannot read back.",
        )
        read_back = State(*fields)
        if (read_back.format_version, read_back.lineage, read_back.serial) != (
            self.format_version,
            self.lineage,
            self.serial,
        ) or dict(read_back.jobs) != dict(jobs):
            changed = sorted(name for name in jobs if read_back.jobs.get(name) != jobs[name]) or [
                "the header"
            ]
            raise StateError(
                f"refusing to write {where}: read back, it would differ from what this run "
                f"meant to write ({', '.join(changed)}). Nothing was written. This is a bug "
                "in personalize-runner: please report it."
            )

    @classmethod
    def from_json(
        cls,
        data: bytes,
        *,
        source: str,
        remedy: str = DEFAULT_REMEDY,
        sha256: str | None = None,
    ) -> State:
        """Parse the canonical form, or raise `StateError` naming `source` and the problem.

        `remedy` says how to get a readable state back (where the backups are); `sha256`,
        the digest of a stored state's bytes, lets a large one be cached decoded
        (`runner.state.cache`).
        """
        return cls.decoded(decode_state(data, source=source, remedy=remedy, sha256=sha256))

    @classmethod
    def decoded(cls, fields: StateFields) -> State:
        """The state of what the reader decoded, whose checks are `__post_init__`'s (a
        record's key is its own, no field the format version lacks): not made again for
        each of 10,000 records."""
        state = object.__new__(cls)
        for name, value in (
            ("format_version", fields.format_version),
            ("lineage", fields.lineage),
            ("serial", fields.serial),
            ("jobs", MappingProxyType(fields.jobs)),
            ("_parent", None),
            ("_changed_keys", frozenset()),
        ):
            object.__setattr__(state, name, value)
        return state


def _copy(jobs: Mapping[str, JobRecord]) -> dict[str, JobRecord]:
    """A new dict of `jobs`. A state's jobs are a `MappingProxyType`, whose `copy` is its
    dict's own: `dict(proxy)` and `{**proxy}` go key by key, 8x slower (160 us a change of
    a state of 2,000 records, what every recorded job paid: issue 11)."""
    if isinstance(jobs, MappingProxyType):
        return jobs.copy()
    return dict(jobs)
