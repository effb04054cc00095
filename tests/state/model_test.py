from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.digest import canonical_json_digest
from runner.errors import StateError
from runner.state import FORMAT_VERSION, JobRecord, State, canonical, columns
from tests.state.support import LINEAGE, SUBMITTED, make_record, make_state

# The canonical form of `_canonical_state()`, byte for byte.
CANONICAL = (Path(__file__).parent / "canonical-state.json").read_bytes()
REMEDY = "Restore it from a backup or from version control; the runner will not overwrite it."


def _canonical_state() -> State:
    # Given out of order and with a non-UTC time: the output must not depend on either.
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    return State(
        format_version=1,
        lineage=LINEAGE,
        serial=7,
        jobs={
            "b-job": make_record(
                "b-job",
                status="CREATE FAILED",
                failure_reason="Solution version not found \u2013 check it",
                status_checked_at=SUBMITTED,
            ),
            "a-job": make_record(
                "a-job",
                recorded_by="adopted",
                git_commit=None,
                status="ACTIVE",
                created_at=datetime.datetime(2026, 11, 1, 14, 30, 5, 250000, tzinfo=plus_two),
            ),
        },
    )


def test_to_json_is_canonical() -> None:
    assert _canonical_state().to_json() == CANONICAL


def test_empty_state_to_json() -> None:
    state = State(format_version=1, lineage=LINEAGE, serial=0, jobs={})
    assert state.to_json() == (
        b'{\n  "format_version": 1,\n  "jobs": {},\n'
        b'  "lineage": "0b7e5d8c-3f6a-4c2e-9a41-5d2f8e6b1c07",\n  "serial": 0\n}\n'
    )
    assert State.from_json(state.to_json(), source="state.json") == state


def test_round_trip() -> None:
    state = State.from_json(CANONICAL, source="state.json")
    assert state == _canonical_state()
    assert state.to_json() == CANONICAL
    assert state.jobs["a-job"].created_at == datetime.datetime(
        2026, 11, 1, 12, 30, 5, 250000, tzinfo=datetime.UTC
    )


def test_times_are_normalized_to_utc() -> None:
    record = _canonical_state().jobs["a-job"]
    assert record.created_at is not None
    assert record.created_at.tzinfo is datetime.UTC


def test_naive_time_is_a_bug() -> None:
    with pytest.raises(ValueError, match=r"^submitted_at must be an aware datetime"):
        make_record(submitted_at=datetime.datetime(2026, 11, 1, 12, 30))


def test_new_state() -> None:
    first, second = State.new(), State.new()
    assert (first.format_version, first.serial, dict(first.jobs)) == (FORMAT_VERSION, 0, {})
    assert uuid.UUID(first.lineage).version == 4
    assert first.lineage != second.lineage


def test_with_job_adds_and_replaces_and_leaves_the_original() -> None:
    empty = State.new()
    one = empty.with_job(make_record())
    updated = one.with_job(make_record(status="ACTIVE"))
    assert (empty.serial, one.serial, updated.serial) == (0, 1, 2)
    assert dict(empty.jobs) == {}
    assert one.jobs["holiday-promo-2026-11"].status == "CREATE PENDING"
    assert updated.jobs["holiday-promo-2026-11"].status == "ACTIVE"
    assert updated.lineage == empty.lineage


def test_with_jobs_is_one_change() -> None:
    state = make_state(2, serial=3).with_jobs([make_record("x"), make_record("job-00000")])
    assert state.serial == 4
    assert sorted(state.jobs) == ["job-00000", "job-00001", "x"]


def test_with_no_jobs_is_no_change() -> None:
    state = make_state(serial=3)
    assert state.with_jobs([]) is state


def test_with_jobs_refuses_two_records_of_one_name() -> None:
    with pytest.raises(ValueError, match=r"^two records for the job 'x'$"):
        State.new().with_jobs([make_record("x"), make_record("x")])


def test_without_job() -> None:
    state = make_state(2, serial=3)
    assert sorted(state.without_job("job-00000").jobs) == ["job-00001"]
    assert state.without_job("job-00000").serial == 4
    with pytest.raises(KeyError):
        state.without_job("nope")


def test_jobs_cannot_be_changed_in_place() -> None:
    jobs = {"x": make_record("x")}
    state = State(format_version=1, lineage=LINEAGE, serial=1, jobs=jobs)
    jobs["y"] = make_record("y")
    assert list(state.jobs) == ["x"]
    with pytest.raises(TypeError):
        state.jobs["y"] = make_record("y")  # type: ignore[index]


def test_job_key_must_be_its_name() -> None:
    with pytest.raises(ValueError, match=r"^job key 'x' differs from its record's key 'y'$"):
        State(format_version=1, lineage=LINEAGE, serial=1, jobs={"x": make_record("y")})


def test_canonical_json_digest_ignores_key_order() -> None:
    first = {"jobName": "x", "jobInput": {"s3DataSource": {"path": "s3://b/in/"}}}
    second = {"jobInput": {"s3DataSource": {"path": "s3://b/in/"}}, "jobName": "x"}
    assert canonical_json_digest(first) == canonical_json_digest(second)
    assert len(canonical_json_digest(first)) == 64


def _document(**changes: Any) -> bytes:
    document = json.loads(CANONICAL)
    for key, value in changes.items():
        document[key] = value
    return json.dumps(document).encode()


def _job_document(**changes: Any) -> bytes:
    document = json.loads(CANONICAL)
    job = document["jobs"]["a-job"]
    for key, value in changes.items():
        if value is _DELETE:
            del job[key]
        else:
            job[key] = value
    return json.dumps(document).encode()


_DELETE = object()

INVALID = [
    pytest.param(b"", "the file is empty", id="empty"),
    pytest.param(b"  \n", "the file is empty", id="blank"),
    pytest.param(
        CANONICAL[:200],
        "it is not valid JSON (Expecting property name enclosed in double quotes "
        "at line 4 column 164; a truncated or garbled file?)",
        id="truncated",
    ),
    pytest.param(
        b"<<<<<<< HEAD\n",
        "it is not valid JSON (Expecting value at line 1 column 1; a truncated or garbled file?)",
        id="garbage",
    ),
    pytest.param(
        b"\xff\xfe{}", "it is not UTF-8 text (invalid start byte at byte 0)", id="not-utf-8"
    ),
    pytest.param(b"[1]", "it must hold a JSON object, not an array", id="array"),
    pytest.param(
        b"{}", "it has no 'format_version': it is not a personalize-runner state", id="no-format"
    ),
    pytest.param(_document(format_version="1"), "format_version must be an integer, not a string"),
    pytest.param(
        _document(format_version=True), "format_version must be an integer, not a boolean"
    ),
    pytest.param(_document(format_version=0), "format_version 0 does not exist"),
    pytest.param(
        b'{"format_version": 1, "lineage": "' + LINEAGE.encode() + b'", "serial": 1}',
        "the state has no 'jobs'",
        id="no-jobs",
    ),
    pytest.param(_document(extra=1), "the state has the unknown field 'extra'"),
    pytest.param(_document(lineage=7), "lineage must be a string, not a number"),
    pytest.param(_document(lineage="main"), "lineage must be a UUID, not 'main'"),
    pytest.param(_document(serial=-1), "serial must not be negative, not -1"),
    pytest.param(_document(serial=1.5), "serial must be an integer, not a number"),
    pytest.param(_document(jobs=[]), "jobs must be an object, not an array"),
    pytest.param(_document(jobs={"x": "arn"}), 'jobs["x"] must be an object, not a string'),
    pytest.param(
        _job_document(arn=_DELETE, region=_DELETE), "jobs[\"a-job\"] has no 'arn', 'region'"
    ),
    pytest.param(_job_document(tags=[]), "jobs[\"a-job\"] has the unknown field 'tags'"),
    pytest.param(_job_document(arn=None), 'jobs["a-job"].arn must be a string, not null'),
    pytest.param(_job_document(status=""), 'jobs["a-job"].status is empty'),
    pytest.param(
        _job_document(git_commit=1), 'jobs["a-job"].git_commit must be a string, not a number'
    ),
    pytest.param(
        _job_document(arn="arn:aws:personalize:us-east-1:123456789012:batch-segment-job/other"),
        'jobs["a-job"].arn is the ARN of another job: '
        "'arn:aws:personalize:us-east-1:123456789012:batch-segment-job/other'",
    ),
    pytest.param(
        _job_document(spec_digest="ABC"),
        "jobs[\"a-job\"].spec_digest must be a sha256 in lowercase hex, not 'ABC'",
    ),
    pytest.param(
        _job_document(submitted_at="2026-11-01T12:30:00"),
        "jobs[\"a-job\"].submitted_at must be an ISO 8601 time in UTC, not '2026-11-01T12:30:00'",
    ),
    pytest.param(
        _job_document(updated_at="2026-11-01T14:30:00+02:00"),
        'jobs["a-job"].updated_at must be an ISO 8601 time in UTC, '
        "not '2026-11-01T14:30:00+02:00'",
    ),
    pytest.param(
        _job_document(created_at="yesterday"),
        "jobs[\"a-job\"].created_at must be an ISO 8601 time in UTC, not 'yesterday'",
    ),
    pytest.param(
        _job_document(recorded_by="guessed"),
        "jobs[\"a-job\"].recorded_by must be one of created, adopted, imported, not 'guessed'",
    ),
    pytest.param(
        _job_document(spec_file="/home/ci/specs/a.yaml"),
        'jobs["a-job"].spec_file must be a path relative to the repository, with /, '
        "not '/home/ci/specs/a.yaml'",
    ),
    pytest.param(
        CANONICAL.replace(b'"b-job": {', b'"a-job": {'),
        'the key "a-job" appears twice in one object',
        id="duplicate-job",
    ),
]


@pytest.mark.parametrize(("data", "problem"), INVALID)
def test_invalid_state(data: bytes, problem: str) -> None:
    with pytest.raises(StateError) as info:
        State.from_json(data, source="ci/state.json")
    assert str(info.value) == f"cannot read the state in ci/state.json: {problem}. {REMEDY}"


def test_remedy_is_the_callers() -> None:
    with pytest.raises(StateError) as info:
        State.from_json(b"", source="s.json", remedy="Ask your admin.")
    assert str(info.value) == "cannot read the state in s.json: the file is empty. Ask your admin."


def test_newer_format_version() -> None:
    with pytest.raises(StateError) as info:
        State.from_json(_document(format_version=4, future={}), source="ci/state.json")
    assert str(info.value) == (
        "cannot read the state in ci/state.json: it was written by a newer personalize-runner "
        "(state format version 4; this one reads version 3). Upgrade personalize-runner; "
        "the runner will not overwrite it."
    )


_PLUS_FIVE_THIRTY = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
_times = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.sampled_from([datetime.UTC, _PLUS_FIVE_THIRTY]),
)
_text = st.text(min_size=1, max_size=12)
_digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@st.composite
def _records(draw: st.DrawFn) -> JobRecord:
    name = draw(_text)
    return JobRecord(
        name=name,
        arn=f"arn:{draw(_text)}:batch-segment-job/{name}",
        partition=draw(_text),
        region=draw(_text),
        account=draw(_text),
        spec_file=draw(_text.filter(lambda s: not s.startswith("/") and "\\" not in s)),
        spec_digest=draw(_digests),
        request_digest=draw(_digests),
        git_commit=draw(st.none() | _text),
        submitted_at=draw(_times),
        recorded_by=draw(st.sampled_from(["created", "adopted", "imported"])),
        status=draw(_text),
        created_at=draw(st.none() | _times),
        updated_at=draw(st.none() | _times),
        failure_reason=draw(st.none() | _text),
        status_checked_at=draw(st.none() | _times),
    )


_states = st.builds(
    lambda lineage, serial, records: State(
        format_version=1,
        lineage=str(lineage),
        serial=serial,
        jobs={record.name: record for record in records},
    ),
    st.uuids(),
    st.integers(min_value=0, max_value=2**63),
    st.lists(_records(), max_size=4),
)


# Shared CI machines are slow at times: that is no reason to fail.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_states)
def test_any_state_round_trips(state: State) -> None:
    data = state.to_json()
    parsed = State.from_json(data, source="state.json")
    assert parsed == state
    assert parsed.to_json() == data


def test_a_record_differs_by_any_field() -> None:
    assert make_record() != replace(make_record(), status_checked_at=SUBMITTED)


def test_a_version_1_state_becomes_version_2_with_its_first_change() -> None:
    old = State.from_json(CANONICAL, source="state.json")
    assert old.format_version == 1
    assert old.jobs["a-job"].spec_documents is None

    new = old.with_job(make_record("c-job", spec_index=0, spec_documents=1))

    assert new.format_version == FORMAT_VERSION == 3
    data = new.to_json()
    assert b'"spec_documents": null, "spec_file": "specs/a-job.yaml", "spec_index": null' in data
    assert b'"spec_documents": 1, "spec_file": "specs/c-job.yaml", "spec_index": 0' in data
    assert State.from_json(data, source="state.json") == new


def test_a_version_1_state_cannot_hold_document_positions() -> None:
    with pytest.raises(ValueError, match="format version 1 state cannot hold"):
        State(
            format_version=1,
            lineage=LINEAGE,
            serial=1,
            jobs={"x": make_record("x", spec_index=0, spec_documents=1)},
        )


@pytest.mark.parametrize(
    ("index", "documents", "problem"),
    [
        (0, None, 'jobs["x"] has one of spec_index and spec_documents without the other'),
        (-1, 1, 'jobs["x"].spec_index must be at least 0, not -1'),
        (0, 0, 'jobs["x"].spec_documents must be at least 1, not 0'),
        ("0", 1, 'jobs["x"].spec_index must be an integer, not a string'),
    ],
)
def test_document_positions_are_checked(index: object, documents: object, problem: str) -> None:
    document = json.loads(State.new().with_job(make_record("x")).to_json())
    document["jobs"]["x"].update(spec_index=index, spec_documents=documents)
    with pytest.raises(StateError) as info:
        State.from_json(json.dumps(document).encode(), source="s.json")
    assert str(info.value) == f"cannot read the state in s.json: {problem}. {REMEDY}"


# A state of the newest format reads the records of the usual form (every field, a spec
# document's place, nothing optional) all at once (`runner.state.codec._usual_records`):
# what it refuses, it refuses as each record's own checks do, naming the record and field.

_MANY = State.new().with_jobs(
    make_record(name, spec_index=0, spec_documents=1) for name in ("a-job", "b-job", "c-job")
)

_RECORD_PROBLEMS = [
    ({"arn": None}, 'jobs["b-job"].arn must be a string, not null'),
    ({"partition": ""}, 'jobs["b-job"].partition is empty'),
    ({"region": 1}, 'jobs["b-job"].region must be a string, not a number'),
    ({"account": [1]}, 'jobs["b-job"].account must be a string, not an array'),
    ({"status": ""}, 'jobs["b-job"].status is empty'),
    (
        {"arn": "arn:aws:personalize:us-east-1:123456789012:batch-segment-job/a-job"},
        'jobs["b-job"].arn is the ARN of another job: '
        "'arn:aws:personalize:us-east-1:123456789012:batch-segment-job/a-job'",
    ),
    (
        {"spec_file": "/abs/b.yaml"},
        'jobs["b-job"].spec_file must be a path relative to the repository, with /, '
        "not '/abs/b.yaml'",
    ),
    (
        {"spec_file": "specs\\b.yaml"},
        'jobs["b-job"].spec_file must be a path relative to the repository, with /, '
        "not 'specs\\\\b.yaml'",
    ),
    ({"spec_file": ""}, 'jobs["b-job"].spec_file is empty'),
    (
        {"spec_digest": "A" * 64},
        f'jobs["b-job"].spec_digest must be a sha256 in lowercase hex, not {"A" * 64!r}',
    ),
    (
        {"request_digest": "a" * 63},
        f'jobs["b-job"].request_digest must be a sha256 in lowercase hex, not {"a" * 63!r}',
    ),
    ({"spec_digest": {}}, 'jobs["b-job"].spec_digest must be a string, not an object'),
    (
        {"recorded_by": "guessed"},
        "jobs[\"b-job\"].recorded_by must be one of created, adopted, imported, not 'guessed'",
    ),
    ({"recorded_by": []}, 'jobs["b-job"].recorded_by must be a string, not an array'),
    ({"git_commit": ""}, 'jobs["b-job"].git_commit is empty'),
    ({"failure_reason": 2}, 'jobs["b-job"].failure_reason must be a string, not a number'),
    (
        {"submitted_at": "2026-11-01T12:30:00"},
        "jobs[\"b-job\"].submitted_at must be an ISO 8601 time in UTC, not '2026-11-01T12:30:00'",
    ),
    (
        {"submitted_at": "2026-13-01T12:30:00Z"},
        "jobs[\"b-job\"].submitted_at must be an ISO 8601 time in UTC, not '2026-13-01T12:30:00Z'",
    ),
    ({"submitted_at": None}, 'jobs["b-job"].submitted_at must be a string, not null'),
    (
        {"created_at": "2026-11-01T14:30:00+02:00"},
        'jobs["b-job"].created_at must be an ISO 8601 time in UTC, '
        "not '2026-11-01T14:30:00+02:00'",
    ),
    (
        {"status_checked_at": "soonZ"},
        "jobs[\"b-job\"].status_checked_at must be an ISO 8601 time in UTC, not 'soonZ'",
    ),
    ({"spec_index": True}, 'jobs["b-job"].spec_index must be an integer, not a boolean'),
    (
        {"spec_index": 1},
        'jobs["b-job"].spec_index must be less than spec_documents (1), not 1',
    ),
    ({"spec_index": -1}, 'jobs["b-job"].spec_index must be at least 0, not -1'),
    ({"spec_documents": 1.0}, 'jobs["b-job"].spec_documents must be an integer, not a number'),
    (
        {"spec_documents": None},
        'jobs["b-job"] has one of spec_index and spec_documents without the other',
    ),
    ({"tags": []}, "jobs[\"b-job\"] has the unknown field 'tags'"),
]


@pytest.mark.parametrize(("changes", "problem"), _RECORD_PROBLEMS)
def test_a_malformed_record_among_many_is_named(changes: dict[str, Any], problem: str) -> None:
    document = json.loads(_MANY.to_json())
    document["jobs"]["b-job"].update(changes)
    with pytest.raises(StateError) as info:
        State.from_json(json.dumps(document).encode(), source="s.json")
    message = str(info.value)
    assert message.startswith(f"cannot read the state in s.json: {problem}")
    assert message.endswith(f". {REMEDY}")


_usual_records = st.builds(
    lambda record, index: replace(record, spec_index=index, spec_documents=index + 1),
    _records(),
    st.integers(min_value=0, max_value=3),
)
_other_records = st.builds(
    lambda record, period, version: (
        replace(
            record,
            period=period,
            solution_version_arn=version,
            spec_index=None,
            spec_documents=None,
        )
        if period or version
        else record
    ),
    _usual_records,
    st.none() | st.just("2026-11-02T06:00:00+01:00"),
    st.none() | _text,
)
_newest_states = st.builds(
    lambda lineage, serial, records: State(
        format_version=FORMAT_VERSION,
        lineage=str(lineage),
        serial=serial,
        jobs={record.name: record for record in records},
    ),
    st.uuids(),
    st.integers(min_value=0, max_value=2**63),
    st.lists(_usual_records | _other_records, max_size=6),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_newest_states)
def test_any_state_of_the_newest_format_round_trips(state: State) -> None:
    data = state.to_json()
    parsed = State.from_json(data, source="state.json")
    assert parsed == state
    assert list(parsed.jobs) == sorted(state.jobs)
    assert parsed.to_json() == data


def test_the_usual_form_is_a_record_of_the_newest_format_with_every_field() -> None:
    data = json.loads(_MANY.to_json())
    assert set(data["jobs"]["a-job"]) == set(columns.FIELDS)


# A state in the canonical form, with no escape in it, is read line by line without a JSON
# parser (`runner.state.canonical`); anything else by the JSON parser. Both read the same
# records, and anything the first cannot take the second refuses with its own message.


def _canonical_text(document: dict[str, Any]) -> bytes:
    """`document` in the layout `encode_state` writes, whatever its values."""
    line = json.JSONEncoder(sort_keys=True, separators=(", ", ": ")).encode
    jobs = document["jobs"]
    body = ",\n".join(f"    {line(key)}: {line(value)}" for key, value in jobs.items())
    middle = f'  "jobs": {{\n{body}\n  }},' if jobs else '  "jobs": {},'
    return (
        f'{{\n  "format_version": {line(document["format_version"])},\n{middle}\n'
        f'  "lineage": {line(document["lineage"])},\n  "serial": {line(document["serial"])}\n}}\n'
    ).encode()


def test_the_canonical_layout_is_the_encoders() -> None:
    for state in (_MANY, State.new()):
        assert _canonical_text(json.loads(state.to_json())) == state.to_json()


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_newest_states)
def test_a_state_reads_the_same_in_its_canonical_form_and_any_other(state: State) -> None:
    data = state.to_json()
    other_layout = data.rstrip(b"\n")

    canonical_read = State.from_json(data, source="state.json")
    json_read = State.from_json(other_layout, source="state.json")

    assert canonical_read == json_read == state
    assert [vars(record) for record in canonical_read.jobs.values()] == [
        vars(record) for record in json_read.jobs.values()
    ]
    text = data.decode()
    if "\\" not in text and text.isascii():
        assert canonical.decode(text) is not None
    else:
        assert canonical.decode(text) is None


def test_a_usual_state_is_read_without_the_json_parser() -> None:
    decoded = canonical.decode(_MANY.to_json().decode())
    assert decoded is not None
    version, lineage, serial, jobs = decoded
    assert (version, lineage, serial) == (_MANY.format_version, _MANY.lineage, _MANY.serial)
    assert jobs == dict(_MANY.jobs)


@pytest.mark.parametrize(("changes", "problem"), _RECORD_PROBLEMS)
def test_a_malformed_record_in_the_canonical_layout_is_named(
    changes: dict[str, Any], problem: str
) -> None:
    document = json.loads(_MANY.to_json())
    document["jobs"]["b-job"].update(changes)
    data = _canonical_text(document)
    assert canonical.decode(data.decode()) is None
    with pytest.raises(StateError) as info:
        State.from_json(data, source="s.json")
    assert str(info.value).startswith(f"cannot read the state in s.json: {problem}")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda text: text.replace(
                '"status": "CREATE PENDING"', '"status": "CREATE\tPENDING"', 1
            ),
            "it is not valid JSON (Invalid control character at",
        ),
        (
            lambda text: text.replace('"b-job": {', '"a-job": {'),
            'the key "a-job" appears twice in one object',
        ),
        (
            lambda text: text.replace('"format_version": 3', '"format_version": 2'),
            "jobs[\"a-job\"] has the unknown field 'period'",
        ),
        (
            lambda text: text.replace(
                '"spec_index": 0', '"spec_index": 0000000000000000000000000000001', 1
            ),
            "it is not valid JSON",
        ),
    ],
    ids=["control-character", "duplicate-name", "period-in-version-2", "leading-zeros"],
)
def test_what_the_canonical_reader_cannot_take_the_json_reader_refuses(
    change: Any, problem: str
) -> None:
    state = _MANY.with_job(make_record("a-job", spec_index=0, spec_documents=1, period="p"))
    text = change(state.to_json().decode())
    assert canonical.decode(text) is None
    with pytest.raises(StateError) as info:
        State.from_json(text.encode(), source="s.json")
    assert str(info.value).startswith(f"cannot read the state in s.json: {problem}")


def test_escaped_text_is_read_by_the_json_reader() -> None:
    state = _MANY.with_job(
        make_record("c-job", spec_index=0, spec_documents=1, failure_reason='bad "input" \u2013 x')
    )
    text = state.to_json().decode()
    assert "\\" in text
    assert canonical.decode(text) is None
    assert State.from_json(text.encode(), source="s.json") == state


_ascii = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=8
)
_utc_times = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2200, 1, 1)
).map(lambda value: value.replace(tzinfo=datetime.UTC))


@st.composite
def _ascii_records(draw: st.DrawFn) -> JobRecord:
    name = draw(_ascii)
    documents = draw(st.integers(min_value=1, max_value=3))
    return make_record(
        name,
        arn=f"arn:{draw(_ascii)}:batch-segment-job/{name}",
        partition=draw(_ascii),
        status=draw(_ascii),
        spec_file=draw(_ascii.filter(lambda s: not s.startswith("/") and "\\" not in s)),
        git_commit=draw(st.none() | _ascii),
        failure_reason=draw(st.none() | _ascii),
        submitted_at=draw(_utc_times),
        created_at=draw(st.none() | _utc_times),
        status_checked_at=draw(st.none() | _utc_times),
        recorded_by=draw(st.sampled_from(["created", "adopted", "imported"])),
        spec_index=draw(st.integers(min_value=0, max_value=documents - 1)),
        spec_documents=documents,
        period=draw(st.none() | _ascii),
        solution_version_arn=draw(st.none() | _ascii),
    )


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_ascii_records(), max_size=5))
def test_a_state_of_plain_text_is_read_without_the_json_parser_as_with_it(
    records: list[JobRecord],
) -> None:
    state = State.new().with_jobs({record.key: record for record in records}.values())
    data = state.to_json()
    text = data.decode()

    canonical_read = State.from_json(data, source="state.json")

    assert canonical_read == State.from_json(data.rstrip(b"\n"), source="state.json") == state
    assert (canonical.decode(text) is None) == ("\\" in text)
