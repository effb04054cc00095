"""Parsing one spec file's bytes: decoded, validated against its kind's schema, checked
across fields, into `JobSpec`s and findings (`runner.spec.loader` reads the files).

Apart from the loader so that a run that parses no file (a `plan` of a repository the
state records whole, issue 11) does not import the YAML decoder's users, the validator,
the checks and the schedules.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from runner.arn import Arn
from runner.digest import sha256_hex
from runner.findings import Finding, Severity, file_finding
from runner.kinds import KINDS, kind_named
from runner.schedule import Schedule
from runner.spec import API_VERSION_V1, ENVELOPE_FIELDS, JobSpec
from runner.spec.checks import check_document
from runner.spec.comments import Comments
from runner.spec.latest import model_arn
from runner.spec.recurring import SCHEDULE, check_recurring, schedule_of
from runner.spec.schema import KIND_SCHEMA_FILES, SCHEMA_FILES
from runner.spec.validate import validator
from runner.yaml.document import Document, YamlSyntaxError
from runner.yaml.reader import decode


class ParsedFile(NamedTuple):
    specs: list[JobSpec]
    findings: list[Finding]
    # The spec documents found, valid or not (lint counts them).
    documents: int


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
