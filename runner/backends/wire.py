"""The service's answers, checked and turned into the backend records, for both backends.

Every answer is untrusted (issue 10): each function here reads one answer of the API as its
model documents it and raises `MalformedAnswer` for anything else — a body that is not a
JSON object, a missing or mistyped field, a timestamp that is none, the ARN of another job
than the one asked for or created (the ARN a job of a kind must have is the kind table's,
`JobKind.job_arn`). Callers turn that into the one job's error: never a traceback, never a
record. A status is checked to be a string only: a status that no batch job has is the
poller's to report (`runner.backends.KNOWN_STATUSES`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from runner.arn import Arn
from runner.backends import (
    JobDescription,
    JobSummary,
    MalformedAnswer,
    SolutionDescription,
    SolutionVersionSummary,
    normalize_status,
)
from runner.jsonread import lone_surrogate
from runner.kinds import JobKind


def to_datetime(value: object) -> datetime.datetime | None:
    """A wire timestamp (epoch seconds, or what botocore already parsed) in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        if isinstance(value, str):
            return to_datetime(datetime.datetime.fromisoformat(value))
    except (OverflowError, OSError, ValueError):
        pass
    raise MalformedAnswer(f"not a timestamp: {_shown(value)}")


def created_arn(kind: JobKind, request: Mapping[str, Any], answer: object) -> str:
    """The ARN in the kind's create answer (`CreateBatchSegmentJob`), which must be the ARN
    of the job the request names."""
    body = _object(answer, f"the {kind.create_operation} answer")
    arn = _text(body, kind.arn_key, f"the {kind.create_operation} answer")
    expected = _expected_arn(kind, request)
    if expected is not None and arn != expected:
        raise MalformedAnswer(
            f"the {kind.create_operation} answer names the job {arn}, not the job created "
            f"({expected})"
        )
    return arn


def job_summary(kind: JobKind, body: object, *, what: str = "a job summary") -> JobSummary:
    """A summary of the kind's listing (`BatchSegmentJobSummary`), or its description
    (`BatchSegmentJob`)."""
    body = _object(body, what)
    name = _text(body, "jobName", what)
    arn = _text(body, kind.arn_key, what)
    parsed = Arn.try_parse(arn)
    if parsed is None or parsed.service != "personalize":
        raise MalformedAnswer(f"{what} has {kind.arn_key} {_shown(arn)}: not an ARN of a job")
    if parsed.resource != f"{kind.resource_type}/{name}":
        raise MalformedAnswer(
            f"{what} says the job {name!r} has the ARN {arn}, which is not a {kind.noun}'s "
            f"of that name"
        )
    try:
        created_at = to_datetime(body.get("creationDateTime"))
        updated_at = to_datetime(body.get("lastUpdatedDateTime"))
    except MalformedAnswer as error:
        raise MalformedAnswer(f"{what} of {name!r}: {error.message}") from None
    return JobSummary(
        name=name,
        arn=arn,
        status=normalize_status(_text(body, "status", what)),
        solution_version_arn=_optional_text(body, "solutionVersionArn", what),
        created_at=created_at,
        updated_at=updated_at,
        failure_reason=_optional_text(body, "failureReason", what),
    )


def job_description(kind: JobKind, body: object, *, arn: str | None = None) -> JobDescription:
    """The kind's description (`DescribeBatchSegmentJob`'s `batchSegmentJob`); with `arn`,
    it must be the description of that job."""
    what = f"the {kind.describe_operation} answer"
    summary = job_summary(kind, body, what=what)
    if arn is not None and summary.arn != arn:
        raise MalformedAnswer(f"{what} describes the job {summary.arn}, not {arn}")
    assert isinstance(body, Mapping)
    return JobDescription(
        summary=summary,
        request={
            field: body[field] for field in kind.request_fields if body.get(field) is not None
        },
    )


def described_job(kind: JobKind, answer: object, arn: str) -> JobDescription:
    """The whole describe answer (`{"batchSegmentJob": {…}}`) of the job `arn`."""
    body = _object(answer, f"the {kind.describe_operation} answer")
    if kind.describe_key not in body:
        raise MalformedAnswer(f"the {kind.describe_operation} answer has no {kind.describe_key}")
    return job_description(kind, body[kind.describe_key], arn=arn)


def job_page(kind: JobKind, answer: object) -> tuple[list[JobSummary], str | None]:
    """One page of the kind's listing (`ListBatchSegmentJobs`): its summaries, every one
    readable (a page with one that is not cannot be trusted), and the next page's token."""
    what = f"the {kind.list_operation} answer"
    body = _object(answer, what)
    entries = body.get(kind.list_key, [])
    if not isinstance(entries, list):
        raise MalformedAnswer(f"{what}: {kind.list_key} is {_shown(entries)}, not a list")
    resource = f"{kind.resource_type}/"
    summaries = [
        _usual_summary(kind.arn_key, resource, entry)
        or job_summary(kind, entry, what=f"a summary of {what}")
        for entry in entries
    ]
    return summaries, _optional_text(body, "nextToken", what)


def _usual_summary(arn_key: str, resource: str, body: object) -> JobSummary | None:
    """`job_summary` of a summary of the usual form (a poll reads 100 a call, issue 11):
    every field of its type (the times as the answers' reader makes them, in UTC), the
    ARN a job of that name has, no lone surrogate. None for anything else, which
    `job_summary` then reads (and says what is wrong)."""
    if type(body) is not dict:
        return None
    name = body.get("jobName")
    arn = body.get(arn_key)
    status = body.get("status")
    version = body.get("solutionVersionArn")
    reason = body.get("failureReason")
    created = body.get("creationDateTime")
    updated = body.get("lastUpdatedDateTime")
    if not (
        type(name) is str
        and name
        and type(arn) is str
        and type(status) is str
        and status
        and (version is None or type(version) is str)
        and (reason is None or type(reason) is str)
    ):
        return None
    try:
        created = _usual_time(created)
        updated = _usual_time(updated)
    except (OverflowError, OSError, ValueError):
        return None
    parts = arn.split(":", 5)
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "personalize"
        or parts[5] != resource + name
        or lone_surrogate(f"{name}{arn}{status}{version or ''}{reason or ''}") is not None
    ):
        return None
    summary = _new_summary(JobSummary)
    _set_attribute(
        summary,
        "__dict__",
        {
            "name": name,
            "arn": arn,
            "status": normalize_status(status),
            "solution_version_arn": version,
            "created_at": created,
            "updated_at": updated,
            "failure_reason": reason,
        },
    )
    return summary


def _usual_time(value: object) -> datetime.datetime | None:
    """`to_datetime` of None, epoch seconds or a UTC datetime; `ValueError` for the rest."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is _UTC:
            return value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return _from_timestamp(value, _UTC)
    raise ValueError(value)


_UTC = datetime.UTC
_from_timestamp = datetime.datetime.fromtimestamp
_new_summary = object.__new__
_set_attribute = object.__setattr__


def tags(answer: object) -> list[dict[str, str]]:
    """`ListTagsForResource`'s tags: `[{"tagKey": …, "tagValue": …}]`."""
    what = "the ListTagsForResource answer"
    body = _object(answer, what)
    entries = body.get("tags", [])
    if not isinstance(entries, list):
        raise MalformedAnswer(f"{what}: tags is {_shown(entries)}, not a list")
    found = []
    for entry in entries:
        tag = _object(entry, f"a tag of {what}")
        found.append({"tagKey": _text(tag, "tagKey", what), "tagValue": _tag_value(tag, what)})
    return found


def solution_version_summary(body: object) -> SolutionVersionSummary:
    """A `SolutionVersionSummary` of `ListSolutionVersions` or `DescribeSolution`."""
    what = "a solution version summary"
    body = _object(body, what)
    return SolutionVersionSummary(
        arn=_text(body, "solutionVersionArn", what),
        status=normalize_status(_text(body, "status", what)),
        created_at=to_datetime(body.get("creationDateTime")),
        updated_at=to_datetime(body.get("lastUpdatedDateTime")),
        failure_reason=_optional_text(body, "failureReason", what),
    )


def solution_description(body: object) -> SolutionDescription:
    """`DescribeSolution`'s `solution`."""
    what = "the DescribeSolution answer"
    body = _object(body, what)
    latest = body.get("latestSolutionVersion")
    return SolutionDescription(
        arn=_text(body, "solutionArn", what),
        status=_optional_text(body, "status", what),
        latest_version=None if latest is None else solution_version_summary(latest),
    )


def member(answer: object, key: str, what: str) -> object:
    """The member `key` of an answer that must be a JSON object holding it."""
    body = _object(answer, what)
    if key not in body:
        raise MalformedAnswer(f"{what} has no {key}")
    return body[key]


def _expected_arn(kind: JobKind, request: Mapping[str, Any]) -> str | None:
    name, model = request.get("jobName"), request.get("solutionVersionArn")
    if not isinstance(name, str) or not isinstance(model, str) or Arn.try_parse(model) is None:
        return None
    return kind.job_arn_for(model, name)


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedAnswer(f"{what} is {_shown(value)}, not a JSON object")
    return value


def _text(body: Mapping[str, Any], key: str, what: str) -> str:
    value = body.get(key)
    if value is None:
        raise MalformedAnswer(f"{what} has no {key}")
    if not isinstance(value, str) or not value:
        raise MalformedAnswer(f"{what} has {key} {_shown(value)}, not a string")
    return _checked_text(value, key, what)


def _optional_text(body: Mapping[str, Any], key: str, what: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedAnswer(f"{what} has {key} {_shown(value)}, not a string")
    return _checked_text(value, key, what)


def _checked_text(value: str, key: str, what: str) -> str:
    if lone_surrogate(value) is not None:
        raise MalformedAnswer(f"{what} has {key} {_shown(value)}, which is not text")
    return value


def _tag_value(tag: Mapping[str, Any], what: str) -> str:
    # A tag's value may be empty.
    value = tag.get("tagValue")
    if not isinstance(value, str):
        raise MalformedAnswer(f"{what} has a tag whose tagValue is {_shown(value)}")
    return _checked_text(value, "tagValue", what)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
