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
from typing import Any, NamedTuple

from runner.arn import Arn
from runner.digest import sha256_hex
from runner.findings import Finding, Related, Severity, file_finding
from runner.kinds import KINDS, kind_named
from runner.schedule import Schedule
from runner.spec import API_VERSION_V1, ENVELOPE_FIELDS, JobSpec, LoadResult, RecordedFile
from runner.spec.checks import check_document, check_job_names
from runner.spec.comments import Comments
from runner.spec.fingerprints import Digests, now_ns
from runner.spec.latest import model_arn
from runner.spec.limits import cap_per_file
from runner.spec.recurring import SCHEDULE, check_period_names, check_recurring, schedule_of
from runner.spec.schema import KIND_SCHEMA_FILES, SCHEMA_FILES
from runner.spec.tree import discover, read_file
from runner.spec.validate import validator
from runner.yaml import Document, Span, YamlSyntaxError, decode

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
    for path, name in files:
        if name in seen:
            continue
        seen.add(name)
        known = recorded.get(name)
        status = None
        hashed_at = 0
        if known is not None and digests is not None:
            hashed_at = now_ns()
            try:
                status = os.stat(path)
            except OSError:
                status = None
            if status is not None and digests.cached(name, status) == known.digest:
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
    findings += check_job_names([spec for spec in specs if spec.schedule is None])
    findings += check_period_names(specs)
    if unchanged:
        findings += check_names_of_unchanged(specs, {name: recorded[name] for name in unchanged})
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


def load_file(path: str, name: str) -> tuple[list[JobSpec], list[Finding]]:
    """The valid specs of one file, and the findings of all its documents."""
    data = read_file(path, name)
    if isinstance(data, Finding):
        return [], [data]
    return parse_specs(data, name)


class ParsedFile(NamedTuple):
    specs: list[JobSpec]
    findings: list[Finding]
    # The spec documents found, valid or not (lint counts them).
    documents: int


def parse_specs(data: bytes, name: str) -> tuple[list[JobSpec], list[Finding]]:
    """The valid specs of one file's bytes, and the findings of all its documents."""
    specs, findings, _ = parse_file(data, name)
    return specs, findings


def parse_file(data: bytes, name: str, ignore: frozenset[str] = frozenset()) -> ParsedFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        # In characters, as editors count: what precedes the bad byte is valid UTF-8.
        line_start = data.rfind(b"\n", 0, error.start) + 1
        col = len(data[line_start : error.start].decode("utf-8-sig")) + 1
        finding = file_finding(
            name,
            "encoding",
            f"byte 0x{data[error.start]:02x} is not UTF-8: save the file as UTF-8",
            line=line,
            col=col,
        )
        return ParsedFile([], [finding], 0)
    try:
        decoded = decode(text)
    except YamlSyntaxError as error:
        return ParsedFile([], [Finding(name, error.span, error.rule, error.message)], 0)
    findings = [
        Finding(
            name,
            duplicate.span,
            "duplicate-key",
            f"duplicate key {duplicate.key!r}: first given on line {duplicate.first.line}; "
            "keep one",
        )
        for duplicate in decoded.duplicate_keys
    ]
    documents = [document for document in decoded.documents if document.data is not None]
    if not documents:
        findings.append(
            file_finding(name, "empty-file", "the file holds no spec: write one, or delete it")
        )
        return ParsedFile([], findings, 0)
    file_digest = sha256_hex(data)
    specs: list[JobSpec] = []
    # Ignore comments and `lint.ignore` silence findings before they can refuse a spec.
    comments = Comments(name, text, ignore)
    for document in documents:
        spec, document_findings = _load_document(document, name, file_digest, len(documents), text)
        document_findings = comments.silence(document_findings)
        findings += document_findings
        if spec is not None and all(
            finding.severity is not Severity.ERROR for finding in document_findings
        ):
            specs.append(spec)
    findings += comments.findings(documents)
    late = documents[0].syntax_error
    if late is not None:
        # Finding a position met an error the decoding did not: the file is not YAML after
        # all, and that is its one finding, as if the decoding had said so.
        return ParsedFile([], [Finding(name, late.span, late.rule, late.message)], 0)
    if any(finding.rule == "duplicate-key" for finding in findings):
        specs = []
    return ParsedFile(specs, findings, len(documents))


def _load_document(
    document: Document, name: str, file_digest: str, documents: int, text: str
) -> tuple[JobSpec | None, list[Finding]]:
    data = document.data
    if not isinstance(data, dict):
        return None, [
            Finding(
                name,
                document.locate(()),
                "not-a-spec",
                "expected a mapping of spec fields (apiVersion, kind, jobName, …), "
                f"got {'a list' if isinstance(data, list) else 'a single value'}",
            )
        ]
    api_version = data.get("apiVersion")
    schema = SCHEMA_FILES.get(api_version) if isinstance(api_version, str) else None
    if schema is None:
        known = ", ".join(SCHEMA_FILES)
        if "apiVersion" not in data:
            message = f"missing required key 'apiVersion'; this runner knows {known}"
            span = document.locate(())
            span = type(span)(span.line, span.col, span.line, span.col + 1)
        else:
            message = f"apiVersion: unknown version {api_version!r}; this runner knows {known}"
            span = document.locate(("apiVersion",))
        return None, [Finding(name, span, "api-version", message)]
    kind_name = data.get("kind")
    if isinstance(kind_name, str) and kind_name in KINDS:
        # The kind chooses the schema: each kind has its own fields.
        schema = KIND_SCHEMA_FILES[str(api_version), kind_name]
    elif "kind" in data:
        return None, [_unknown_kind(name, document, kind_name)]
    errors = validator(schema)(data)
    if errors:
        return None, [
            Finding(name, document.locate(error.path, key=error.at_key), error.rule, error.message)
            for error in errors
        ]
    findings = check_document(name, document) + check_recurring(name, document, text)
    return _job_spec(document, name, file_digest, data, documents), findings


def _unknown_kind(name: str, document: Document, kind: object) -> Finding:
    """A `kind` of no schema: nothing else is checked without it, as without apiVersion."""
    import difflib

    from runner.spec.validate import describe

    known = ", ".join(f'"{known}"' for known in KINDS)
    hint = ""
    if isinstance(kind, str):
        close = difflib.get_close_matches(kind, list(KINDS), n=1, cutoff=0.6)
        hint = f": did you mean {close[0]!r}?" if close else ""
    return Finding(
        name,
        document.locate(("kind",)),
        "enum",
        f"kind: must be one of {known}, not {describe(kind)}{hint}",
    )


def _job_spec(
    document: Document, name: str, file_digest: str, data: dict[str, Any], documents: int
) -> JobSpec:
    assert data["apiVersion"] == API_VERSION_V1
    # The schema admits the kinds of the table only.
    kind = kind_named(data["kind"])
    request = {key: value for key, value in data.items() if key not in ENVELOPE_FIELDS}
    if type(request.get("numResults")) is float:
        # JSON Schema's integers include 100.0 (the schema and lint take it); the API wants 100.
        request["numResults"] = int(request["numResults"])
    arn = Arn.parse(model_arn(data))
    schedule = schedule_of(data) if SCHEDULE in data else None
    return JobSpec(
        file=name,
        index=document.index,
        job_name=data["jobName"],
        request=request,
        file_digest=file_digest,
        partition=arn.partition,
        region=arn.region,
        account=arn.account,
        document=document,
        documents=documents,
        kind=kind,
        schedule=schedule if isinstance(schedule, Schedule) else None,
    )
