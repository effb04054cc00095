"""The state's JSON: the one encoding of a job record and of a whole state.

The canonical form is what the stores persist. It is written by `encode_state` only, is
stable (same state, same bytes) so that a state kept in git diffs well, and is read back
by `decode_state`, which refuses anything it does not fully understand: a state that
cannot be read stops the run instead of being overwritten.

Format versions: 1, and 2, which adds to every record where its spec stood in its file
(`spec_index`, `spec_documents`: what lets `plan` skip parsing a file it has recorded
whole), and 3, whose records may also say which period of a recurring spec the job is
of (`period`) and which solution version a `latestOf` was resolved to
(`solution_version_arn`): each written only when it has a value. Older states are read
(the fields they lack are then unknown, None) and become the newest version with their
first change; until then a state is written in its own version.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple, cast

from runner.errors import StateError
from runner.jsonread import JsonLimitError, Limits, parse
from runner.kinds import DEFAULT_KIND, KINDS, kind_of_arn
from runner.state.record import RECORDED_BY, JobRecord, RecordedBy
from runner.times import UTC, format_optional_time, format_time

FORMAT_VERSION = 3
# The first version whose records have `spec_index` and `spec_documents`.
DOCUMENTS_VERSION = 2
# The first version whose records may have `period` and `solution_version_arn`.
RECURRING_VERSION = 3
# Fields of a record written only when they have a value (from RECURRING_VERSION on).
OPTIONAL_FIELDS = ("period", "solution_version_arn")
# A record's kind, written for kinds other than batch segment jobs (whose records keep the
# form they had before there were other kinds); such a record's key is `<resource
# type>/<name>` (`JobKind.key`), so that jobs of two kinds may share a name.
KIND_FIELD = "kind"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# A lineage as the runner writes it (`uuid4`); any other form is checked by `uuid.UUID`.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LINE_ENCODER = json.JSONEncoder(sort_keys=True, separators=(", ", ": "))
# Every value's type is checked and nothing nests deeper than a record: Python's own guard
# against deep nesting is enough (`runner.jsonread`). 256 MiB: some 400,000 records.
_LIMITS = Limits(max_depth=None)
DEFAULT_REMEDY = (
    "Restore it from a backup or from version control; the runner will not overwrite it."
)


# `runner.state.cache.MIN_BYTES`, without importing it for a small state.
_CACHED_BYTES = 256 * 1024


class StateFields(NamedTuple):
    """A decoded state, field by field (`State.from_json` makes the value of them)."""

    format_version: int
    lineage: str
    serial: int
    jobs: dict[str, JobRecord]


def record_to_json(record: JobRecord, *, documents: bool = True) -> dict[str, Any]:
    """A record's fields as the state writes them (all but its name, which is the key)."""
    fields: dict[str, Any] = {
        "arn": record.arn,
        "partition": record.partition,
        "region": record.region,
        "account": record.account,
        "spec_file": record.spec_file,
        "spec_digest": record.spec_digest,
        "request_digest": record.request_digest,
        "git_commit": record.git_commit,
        "submitted_at": format_time(record.submitted_at),
        "recorded_by": record.recorded_by,
        "status": record.status,
        "created_at": format_optional_time(record.created_at),
        "updated_at": format_optional_time(record.updated_at),
        "failure_reason": record.failure_reason,
        "status_checked_at": format_optional_time(record.status_checked_at),
    }
    if documents:
        fields["spec_index"] = record.spec_index
        fields["spec_documents"] = record.spec_documents
    for field in OPTIONAL_FIELDS:
        value = getattr(record, field)
        if value is not None:
            fields[field] = value
    if record.kind != DEFAULT_KIND.name:
        fields[KIND_FIELD] = record.kind
    return fields


def encode_state(
    *, format_version: int, lineage: str, serial: int, jobs: Mapping[str, JobRecord]
) -> bytes:
    """The canonical form: keys sorted (so `format_version` first), one line per job.

    One line per job keeps a state of 10,000 jobs quick to write and its diffs short.
    """
    lines = [
        "{",
        f'  "format_version": {format_version},',
        '  "jobs": {' if jobs else '  "jobs": {},',
    ]
    if jobs:
        encode = _LINE_ENCODER.encode
        documents = format_version >= DOCUMENTS_VERSION
        lines.append(
            ",\n".join(
                f"    {encode(key)}: " + encode(record_to_json(jobs[key], documents=documents))
                for key in sorted(jobs)
            )
        )
        lines.append("  },")
    lines.append(f'  "lineage": {_LINE_ENCODER.encode(lineage)},')
    lines.append(f'  "serial": {serial}')
    lines.append("}\n")
    return "\n".join(lines).encode("ascii")


def decode_state(
    data: bytes, *, source: str, remedy: str = DEFAULT_REMEDY, sha256: str | None = None
) -> StateFields:
    """Parse the canonical form, or raise `StateError` naming `source` and the problem.

    `remedy` says how to get a readable state back (where the backups are). `sha256`, the
    digest of a stored state's `data`: a large one's records are taken from, or kept in,
    the cache of decoded states (`runner.state.cache`).
    """
    if sha256 is None or len(data) < _CACHED_BYTES:
        with _reading(source, remedy):
            return _state_from_json(data)
    from runner.state.cache import load, store

    cached = load(sha256)
    if cached is not None:
        return StateFields(*cached)
    with _reading(source, remedy):
        fields = _state_from_json(data)
    store(sha256, fields)
    return fields


@contextlib.contextmanager
def _reading(source: str, remedy: str) -> Iterator[None]:
    """The codec's own errors, as the `StateError` that names `source` and the way back."""
    try:
        yield
    except _Invalid as invalid:
        raise StateError(f"cannot read the state in {source}: {invalid}. {remedy}") from None
    except _TooNew as too_new:
        raise StateError(
            f"cannot read the state in {source}: it was written by a newer "
            f"personalize-runner (state format version {too_new.version}; this one reads "
            f"version {FORMAT_VERSION}). Upgrade personalize-runner; "
            "the runner will not overwrite it."
        ) from None


class _Invalid(Exception):
    pass


class _TooNew(Exception):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Invalid(f"the key {json.dumps(key)} appears twice in one object")
            seen.add(key)
    return result


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _check_fields(obj: dict[str, Any], expected: Iterable[str], where: str) -> None:
    expected = set(expected)
    missing = sorted(expected - obj.keys())
    if missing:
        raise _Invalid(f"{where} has no {', '.join(repr(m) for m in missing)}")
    unknown = sorted(obj.keys() - expected)
    if unknown:
        raise _Invalid(f"{where} has the unknown field {', '.join(repr(u) for u in unknown)}")


def _job(name: str) -> str:
    return f"jobs[{json.dumps(name)}]"


def _at(job: str | None, field: str) -> str:
    return field if job is None else f"{_job(job)}.{field}"


def _int(value: object, job: str | None, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid(f"{_at(job, field)} must be an integer, not {_describe(value)}")
    return value


def _str(value: object, job: str | None, field: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{_at(job, field)} must be a string, not {_describe(value)}")
    if not value:
        raise _Invalid(f"{_at(job, field)} is empty")
    return value


def _digest(value: object, job: str | None, field: str) -> str:
    text = _str(value, job, field)
    if not _SHA256_HEX.fullmatch(text):
        raise _Invalid(f"{_at(job, field)} must be a sha256 in lowercase hex, not {text!r}")
    return text


def _time(value: object, job: str | None, field: str) -> datetime.datetime:
    text = _str(value, job, field)
    try:
        parsed = _fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() != _ZERO:
        raise _Invalid(f"{_at(job, field)} must be an ISO 8601 time in UTC, not {text!r}")
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


_fromisoformat = datetime.datetime.fromisoformat
_ZERO = datetime.timedelta(0)


def _recorded_by(value: object, job: str | None, field: str) -> RecordedBy:
    text = _str(value, job, field)
    if text not in RECORDED_BY:
        choices = ", ".join(RECORDED_BY)
        raise _Invalid(f"{_at(job, field)} must be one of {choices}, not {text!r}")
    return cast(RecordedBy, text)


def _spec_file(value: object, job: str | None, field: str) -> str:
    text = _str(value, job, field)
    if text.startswith("/") or "\\" in text:
        raise _Invalid(
            f"{_at(job, field)} must be a path relative to the repository, with /, not {text!r}"
        )
    return text


_RECORD_FIELDS_V1 = frozenset(
    (
        "arn",
        "partition",
        "region",
        "account",
        "spec_file",
        "spec_digest",
        "request_digest",
        "git_commit",
        "submitted_at",
        "recorded_by",
        "status",
        "created_at",
        "updated_at",
        "failure_reason",
        "status_checked_at",
    )
)
_RECORD_FIELDS = _RECORD_FIELDS_V1 | {"spec_index", "spec_documents"}
_STATE_FIELDS = frozenset(("format_version", "lineage", "serial", "jobs"))
_STR_FIELDS = ("partition", "region", "account", "status")
_OPTIONAL_STR_FIELDS = ("git_commit", "failure_reason")
_OPTIONAL_TIME_FIELDS = ("created_at", "updated_at", "status_checked_at")
_new_record = object.__new__
_set_attributes = object.__setattr__


def _optional_count(value: object, job: str, field: str, minimum: int) -> int | None:
    if value is None:
        return None
    count = _int(value, job, field)
    if count < minimum:
        raise _Invalid(f"{_at(job, field)} must be at least {minimum}, not {count}")
    return count


def _record_from_json(name: str, obj: object, version: int) -> JobRecord:
    """One record. Built without `JobRecord.__init__`, whose checks the parsing makes
    (times in UTC): a state holds tens of thousands of records, so a well-formed one is
    checked in one expression, and anything else field by field for the message."""
    if (
        type(obj) is dict
        and obj.keys() == (_RECORD_FIELDS if version >= DOCUMENTS_VERSION else _RECORD_FIELDS_V1)
        and type(arn := obj["arn"]) is str
        and arn.endswith("/" + name)
        and type(obj["partition"]) is str
        and obj["partition"]
        and type(obj["region"]) is str
        and obj["region"]
        and type(obj["account"]) is str
        and obj["account"]
        and type(obj["status"]) is str
        and obj["status"]
        and type(spec_file := obj["spec_file"]) is str
        and spec_file
        and spec_file[0] != "/"
        and "\\" not in spec_file
        and type(spec_digest := obj["spec_digest"]) is str
        and _SHA256_HEX.fullmatch(spec_digest)
        and type(request_digest := obj["request_digest"]) is str
        and _SHA256_HEX.fullmatch(request_digest)
        and obj["recorded_by"] in RECORDED_BY
        and _optional_text(obj["git_commit"])
        and _optional_text(obj["failure_reason"])
        and type(submitted := obj["submitted_at"]) is str
        and submitted.endswith("Z")
        and _optional_utc_text(obj["created_at"])
        and _optional_utc_text(obj["updated_at"])
        and _optional_utc_text(obj["status_checked_at"])
        and _counts_ok(obj.get("spec_index"), obj.get("spec_documents"))
    ):
        try:
            submitted_at = _fromisoformat(submitted)
            times = [_utc_or_none(obj[field]) for field in _OPTIONAL_TIME_FIELDS]
        except ValueError:
            return _record_from_json_checked(name, obj, version)
        # The decoded object, this record's own, becomes the record's attributes.
        obj["name"] = name
        obj["submitted_at"] = submitted_at
        for field, time in zip(_OPTIONAL_TIME_FIELDS, times, strict=True):
            obj[field] = time
        if version < DOCUMENTS_VERSION:
            obj["spec_index"] = obj["spec_documents"] = None
        record = _new_record(JobRecord)
        _set_attributes(record, "__dict__", obj)
        return record
    return _record_from_json_checked(name, obj, version)


def _record_with_optional(key: str, obj: object, version: int) -> JobRecord:
    """A record with the fields written only when they have a value (`OPTIONAL_FIELDS`,
    and the kind of a job of another kind than batch segment jobs)."""
    if type(obj) is dict and KIND_FIELD in obj:
        return _record_of_kind(key, obj, version)
    if version < RECURRING_VERSION or type(obj) is not dict:
        return _record_from_json(key, obj, version)
    name = key
    optional = {field: obj.pop(field) for field in OPTIONAL_FIELDS if field in obj}
    for field, value in optional.items():
        _str(value, name, field)
    record = _record_from_json(name, obj, version)
    record.__dict__.update(optional)
    return record


def _record_of_kind(key: str, obj: object, version: int) -> JobRecord:
    """A record keyed `<resource type>/<name>` (`JobKind.key`), whose `kind` says which."""
    if version < RECURRING_VERSION or type(obj) is not dict:
        raise _Invalid(
            f"{_job(key)}: only a state of format version {RECURRING_VERSION} or "
            "later holds jobs of kinds other than batch segment jobs"
        )
    kind_name = obj.pop(KIND_FIELD, None)
    kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        known = ", ".join(name for name in KINDS if name != DEFAULT_KIND.name)
        raise _Invalid(
            f"{_job(key)}.kind must be one of {known}, not "
            f"{'missing' if kind_name is None else json.dumps(kind_name)}"
        )
    name = key.rpartition("/")[2]
    if kind.key(name) != key:
        raise _Invalid(f"{_job(key)}: the key of a {kind.noun} is {json.dumps(kind.key(name))}")
    record = _record_with_optional(name, obj, version)
    if kind_of_arn(record.arn) is not kind:
        raise _Invalid(f"{_job(key)}.arn is not the ARN of a {kind.noun}: {record.arn!r}")
    record.__dict__["kind"] = kind.name
    return record


def _optional_text(value: object) -> bool:
    return value is None or (type(value) is str and value != "")


def _optional_utc_text(value: object) -> bool:
    return value is None or (type(value) is str and value.endswith("Z"))


def _utc_or_none(text: str | None) -> datetime.datetime | None:
    return None if text is None else _fromisoformat(text)


def _counts_ok(index: object, documents: object) -> bool:
    if index is None and documents is None:
        return True
    return type(index) is int and type(documents) is int and 0 <= index < documents


def _record_from_json_checked(name: str, obj: object, version: int) -> JobRecord:
    """One record, checked field by field, with a message for what is wrong."""
    if type(obj) is not dict:
        raise _Invalid(f"{_job(name)} must be an object, not {_describe(obj)}")
    expected = _RECORD_FIELDS if version >= DOCUMENTS_VERSION else _RECORD_FIELDS_V1
    if obj.keys() != expected:
        _check_fields(obj, expected, _job(name))
    arn = _str(obj["arn"], name, "arn")
    if not arn.endswith(f"/{name}"):
        raise _Invalid(f"{_job(name)}.arn is the ARN of another job: {arn!r}")
    fields: dict[str, Any] = {"name": name, "arn": arn}
    for field in _STR_FIELDS:
        value = obj[field]
        fields[field] = value if type(value) is str and value else _str(value, name, field)
    fields["spec_file"] = _spec_file(obj["spec_file"], name, "spec_file")
    for field in ("spec_digest", "request_digest"):
        value = obj[field]
        if type(value) is not str or len(value) != 64 or not _SHA256_HEX.fullmatch(value):
            _digest(value, name, field)
        fields[field] = value
    for field in _OPTIONAL_STR_FIELDS:
        value = obj[field]
        fields[field] = value if value is None else _str(value, name, field)
    fields["submitted_at"] = _time(obj["submitted_at"], name, "submitted_at")
    fields["recorded_by"] = _recorded_by(obj["recorded_by"], name, "recorded_by")
    for field in _OPTIONAL_TIME_FIELDS:
        value = obj[field]
        fields[field] = None if value is None else _time(value, name, field)
    fields["spec_index"] = _optional_count(obj.get("spec_index"), name, "spec_index", 0)
    fields["spec_documents"] = _optional_count(obj.get("spec_documents"), name, "spec_documents", 1)
    if (fields["spec_index"] is None) != (fields["spec_documents"] is None):
        raise _Invalid(f"{_job(name)} has one of spec_index and spec_documents without the other")
    if fields["spec_index"] is not None and fields["spec_index"] >= fields["spec_documents"]:
        raise _Invalid(
            f"{_job(name)}.spec_index must be less than spec_documents "
            f"({fields['spec_documents']}), not {fields['spec_index']}"
        )
    record = _new_record(JobRecord)
    record.__dict__.update(fields)
    return record


def _state_from_json(data: bytes) -> StateFields:
    if not data or data.isspace():
        raise _Invalid("the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Invalid(f"it is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if len(data) <= _LIMITS.max_bytes:
        # The form this codec writes, read without building its JSON tree (issue 11);
        # imported here: a state taken from the cache of decoded ones needs no reader.
        from runner.state.canonical import decode as decode_canonical

        canonical = decode_canonical(text)
        if canonical is not None:
            return StateFields(*canonical)
    del text
    try:
        # The bytes, not the text: UTF-8 holds no lone surrogate, which the reader then
        # need not search 6 MB of text for (a state of 10,000 records; issue 11).
        document = parse(data, limits=_LIMITS, object_pairs_hook=_reject_duplicates)
    except JsonLimitError as error:
        raise _Invalid(str(error)) from None
    except json.JSONDecodeError as error:
        raise _Invalid(
            f"it is not valid JSON ({error.msg} at line {error.lineno} column {error.colno}; "
            "a truncated or garbled file?)"
        ) from None
    return _state_from_document(document)


def decode_document(document: object, *, source: str, remedy: str = DEFAULT_REMEDY) -> StateFields:
    """`decode_state` of a document already parsed (with `runner.jsonread`): a journal
    line's or a delta object's records (`runner.state.delta`)."""
    with _reading(source, remedy):
        return _state_from_document(document)


def _state_from_document(document: object) -> StateFields:
    if not isinstance(document, dict):
        raise _Invalid(f"it must hold a JSON object, not {_describe(document)}")
    if "format_version" not in document:
        raise _Invalid("it has no 'format_version': it is not a personalize-runner state")
    version = _int(document["format_version"], None, "format_version")
    if version > FORMAT_VERSION:
        raise _TooNew(version)
    if version < 1:
        raise _Invalid(f"format_version {version} does not exist")
    _check_fields(document, _STATE_FIELDS, "the state")
    lineage = _str(document["lineage"], None, "lineage")
    try:
        if not _UUID.fullmatch(lineage):
            # Imported only here: `uuid` (and `platform`) cost a plan's start-up 6 ms.
            import uuid

            uuid.UUID(lineage)
    except ValueError:
        raise _Invalid(f"lineage must be a UUID, not {lineage!r}") from None
    serial = _int(document["serial"], None, "serial")
    if serial < 0:
        raise _Invalid(f"serial must not be negative, not {serial}")
    jobs = document["jobs"]
    if not isinstance(jobs, dict):
        raise _Invalid(f"jobs must be an object, not {_describe(jobs)}")
    return StateFields(version, lineage, serial, _records(jobs, version))


def _records(jobs: dict[str, Any], version: int) -> dict[str, JobRecord]:
    """Every record, in the state's order: those of the usual form (every field, a spec
    document's place, nothing optional; `runner.state.columns`) checked all at once, the others
    one by one, as are all of them if one of the usual form is not well-formed (for the
    message)."""
    if version < DOCUMENTS_VERSION:
        return {name: _record_with_optional(name, obj, version) for name, obj in jobs.items()}
    names: list[str] = []
    objects: list[dict[str, Any]] = []
    other = False
    for name, obj in jobs.items():
        if type(obj) is dict and obj.keys() == _RECORD_FIELDS:
            names.append(name)
            objects.append(obj)
        else:
            other = True
    # Imported here, as the canonical reader is: a state read by it, or taken from the
    # cache of decoded states, has no JSON tree to check.
    from runner.state.columns import usual_records

    usual = usual_records(names, objects)
    if usual is None:
        return {name: _record_with_optional(name, obj, version) for name, obj in jobs.items()}
    if not other:
        return usual
    return {
        name: usual.get(name) or _record_with_optional(name, obj, version)
        for name, obj in jobs.items()
    }
