"""Job specs: the model, its JSON Schema, the loader and the checks.

`load_specs` is what every command starts from: it reads spec files, validates every
document against the published JSON Schema and runs the checks that need more than one
field or more than one file, and returns the specs that passed with every finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from runner.findings import Finding
from runner.kinds import BATCH_SEGMENT_JOB, JobKind

if TYPE_CHECKING:
    from runner.schedule import Schedule
    from runner.yaml.document import Document

API_VERSION_V1 = "personalize-runner/v1"
KIND = BATCH_SEGMENT_JOB.name
# Fields of a spec that are not fields of its kind's create request.
ENVELOPE_FIELDS = ("apiVersion", "kind", "schedule")


@dataclass(frozen=True)
class JobSpec:
    """One valid spec document: the job it asks for, and where it was written."""

    file: str
    """The spec file, relative to the repository root, with `/` separators."""
    index: int
    """The document's index within its file (0 for the first)."""
    job_name: str
    request: Mapping[str, Any]
    """Exactly the `CreateBatchSegmentJob` request the spec asks for."""
    file_digest: str
    """sha256 of the whole file's bytes: lets a later run skip parsing an unchanged file."""
    partition: str
    region: str
    account: str
    document: Document = field(repr=False, compare=False)
    documents: int = 1
    """How many spec documents its file holds: a state records it, so that a later run
    knows when it has recorded all of a file."""
    kind: JobKind = BATCH_SEGMENT_JOB
    """The kind of job: its create request, its ARN, its quota."""
    schedule: Schedule | None = field(default=None, repr=False, compare=False)
    """A recurring spec's schedule: `job_name` and `request` are then templates, filled in
    for each period (`runner.recurring.expand`)."""
    period: str | None = None
    """The period of a recurring spec's job (its tick's key, ISO 8601 local time with the
    offset); None for a one-off spec, and for a recurring spec not expanded."""

    @property
    def job_arn(self) -> str:
        """The ARN the service gives the spec's job."""
        return self.kind.job_arn(self.partition, self.region, self.account, self.job_name)

    @property
    def key(self) -> str:
        """The job's key among the jobs of every kind (the state's): `JobKind.key`."""
        return self.kind.key(self.job_name)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.document.locate(('jobName',)).line}"

    @cached_property
    def request_digest(self) -> str:
        """sha256 of the request's canonical JSON: what decides whether a spec changed.

        Found when first asked for: `lint` without a state never needs it.
        """
        from runner.digest import canonical_json_digest

        return canonical_json_digest(self.request)


class RecordedFile(NamedTuple):
    """A spec file whose every document the state records as the job of one spec, with
    the file's digest then: while its bytes have that digest, it needs no parsing. (A
    tuple: a plan of 10,000 recorded files makes one for each.)"""

    digest: str
    job_names: tuple[str, ...]


@dataclass
class LoadResult:
    specs: list[JobSpec]
    findings: list[Finding]
    files: int
    # Files not parsed: their bytes are those of a `RecordedFile`.
    unchanged_files: list[str] = field(default_factory=list)
    # Findings of warning level: lint shows them; they stop nothing (`findings` are errors).
    warnings: list[Finding] = field(default_factory=list)
    # The spec documents found in the files parsed, valid or not.
    documents: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings
