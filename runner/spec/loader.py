"""Reading spec files: from bytes to valid `JobSpec`s and findings, never an exception.

Every file is read whole and checked on its own (size, encoding, YAML, schema, the checks
across fields), then the checks across files run over what passed. All findings of all
files are collected, so one run reports everything.

`plan` and `reconcile` pass the files the state records whole (`RecordedFile`): a file
whose bytes still have the recorded digest is not parsed (issue 5). Any other file is: a
new one, a changed one, one with a document the state does not record.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from runner.digest import sha256_hex
from runner.findings import Finding, Related, Severity
from runner.spec import JobSpec, LoadResult, RecordedFile
from runner.spec.fingerprints import Digests, now_ns
from runner.spec.limits import cap_per_file
from runner.spec.tree import discover, read_file
from runner.yaml.span import Span

if TYPE_CHECKING:
    from runner.spec.parse import ParsedFile

_FILE_START = Span(1, 1, 1, 1)


def load_specs(
    paths: Sequence[str | Path],
    *,
    root: Path,
    recorded: Mapping[str, RecordedFile] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> LoadResult:
    """Read, validate and check every spec file named or found under `paths`, but those
    whose bytes are still those `recorded` (by file name relative to `root`); the rules in
    `ignore` (`lint.ignore`, ignorable ones only) are silenced."""
    files, findings = discover(paths, root=os.path.abspath(root))
    recorded = recorded or {}
    # The recorded files' digests, taken unread where their fingerprints allow (issue 11).
    digests = Digests(root) if recorded else None
    specs: list[JobSpec] = []
    unchanged: list[str] = []
    seen: set[str] = set()
    documents = 0
    # The moment of the files' fingerprints for the cache's rule, taken before the first:
    # for any later file an earlier moment than its own, which only makes the rule stricter.
    hashed_at = now_ns()
    for path, name in files:
        if name in seen:
            continue
        seen.add(name)
        known = recorded.get(name)
        status = None
        if known is not None and digests is not None:
            try:
                status = os.stat(path)
            except OSError:
                status = None
            if status is not None and digests.unchanged(name, status, known.digest):
                unchanged.append(name)
                continue
        data = read_file(path, name)
        if isinstance(data, Finding):
            findings.append(data)
            continue
        if known is not None:
            digest = sha256_hex(data)
            if status is not None and digests is not None:
                digests.remember(name, status, digest, hashed_at=hashed_at)
            if digest == known.digest:
                unchanged.append(name)
                continue
        parsed = parse_file(data, name, ignore)
        specs += parsed.specs
        findings += parsed.findings
        documents += parsed.documents
    if digests is not None:
        digests.save()
    if specs:
        # Imported here: a run that parses no file needs neither (issue 11).
        from runner.spec.checks import check_job_names
        from runner.spec.recurring import check_period_names

        findings += check_job_names([spec for spec in specs if spec.schedule is None])
        findings += check_period_names(specs)
        if unchanged:
            findings += check_names_of_unchanged(
                specs, {name: recorded[name] for name in unchanged}
            )
    findings.sort(key=lambda finding: finding.sort_key)
    findings = cap_per_file(findings)
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    warnings = [finding for finding in findings if finding.severity is not Severity.ERROR]
    return LoadResult(
        specs=specs,
        findings=errors,
        files=len(seen),
        unchanged_files=unchanged,
        warnings=warnings,
        documents=documents,
    )


def check_names_of_unchanged(
    specs: Iterable[JobSpec], unchanged: Mapping[str, RecordedFile]
) -> list[Finding]:
    """A parsed spec with the `jobName` of a document of an unchanged file (not parsed)."""
    names = {name: file for file, known in unchanged.items() for name in known.job_names}
    findings = []
    for spec in specs:
        other = names.get(spec.key)
        if other is None or other == spec.file:
            continue
        span = spec.document.locate(("jobName",))
        findings.append(
            Finding(
                spec.file,
                span,
                "duplicate-job-name",
                f"jobName: {spec.job_name!r} is also the name of the job in {other}; "
                "job names are the idempotency key and must be unique",
                related=(Related(other, _FILE_START, "the same jobName"),),
            )
        )
    return findings


def parse_specs(data: bytes, name: str) -> tuple[list[JobSpec], list[Finding]]:
    """The valid specs of one file's bytes, and the findings of all its documents."""
    specs, findings, _ = parse_file(data, name)
    return specs, findings


def parse_file(data: bytes, name: str, ignore: frozenset[str] = frozenset()) -> ParsedFile:
    """The specs and findings of one file's bytes (`runner.spec.parse`, imported with the
    first file to parse: a plan of files the state records whole parses none)."""
    from runner.spec.parse import parse_file as parse

    return parse(data, name, ignore)
