"""The state: every batch segment job the runner submitted or adopted, as one frozen value.

Every change makes a new `State` with the next serial; its JSON is `runner.state.codec`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from runner.errors import StateError
from runner.state.codec import (
    DEFAULT_REMEDY,
    DOCUMENTS_VERSION,
    FORMAT_VERSION,
    OPTIONAL_FIELDS,
    RECURRING_VERSION,
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

    def __post_init__(self) -> None:
        jobs = dict(self.jobs)
        for name, record in jobs.items():
            if name != record.name:
                raise ValueError(f"job key {name!r} differs from its record's name {record.name!r}")
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
        return cls(format_version=FORMAT_VERSION, lineage=str(uuid.uuid4()), serial=0, jobs={})

    def with_job(self, record: JobRecord) -> State:
        """This state with `record` added, or replacing the record of the same name."""
        return self._changed({**self.jobs, record.name: record})

    def with_jobs(self, records: Iterable[JobRecord]) -> State:
        """This state with all of `records` added or replaced, as one change."""
        new = {}
        for record in records:
            if record.name in new:
                raise ValueError(f"two records for the job {record.name!r}")
            new[record.name] = record
        if not new:
            return self
        return self._changed({**self.jobs, **new})

    def without_job(self, name: str) -> State:
        """This state without the record `name` (a `KeyError` if there is none)."""
        jobs = dict(self.jobs)
        del jobs[name]
        return self._changed(jobs)

    def _changed(self, jobs: Mapping[str, JobRecord]) -> State:
        # Every change writes the newest format.
        return replace(self, format_version=FORMAT_VERSION, serial=self.serial + 1, jobs=jobs)

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
        jobs = (
            self.jobs
            if since is None
            else {
                name: record
                for name, record in self.jobs.items()
                if since.jobs.get(name) is not record
            }
        )
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
    def from_json(cls, data: bytes, *, source: str, remedy: str = DEFAULT_REMEDY) -> State:
        """Parse the canonical form, or raise `StateError` naming `source` and the problem.

        `remedy` says how to get a readable state back (where the backups are).
        """
        return cls(*decode_state(data, source=source, remedy=remedy))
