"""An embedded stand-in for the Amazon Personalize control plane's batch jobs.

Operations take and return the JSON bodies of the service's JSON 1.1 protocol and fail
with the service's errors (`ServiceError` subclasses, by AWS error code). Each job kind of
`runner.kinds` has its create, describe and list operations, by the kind's names and keys.
The contract is the service's: requests are checked against botocore's model of the API,
job names are unique per kind, account and region, at most the kind's quota (5) of its
jobs per region are pending or in progress, and a job goes CREATE PENDING → CREATE
IN_PROGRESS → ACTIVE or CREATE FAILED.

Time is an injectable clock; a job's status moves on whenever the service is called, and a
job that finishes running is run then, by its kind's runner (`jobs.CHECKS`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from runner.arn import Arn
from runner.backends import (
    ACTIVE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    CREATE_PENDING,
    FINAL_STATUSES,
    InvalidInput,
    InvalidNextToken,
    LimitExceeded,
    ResourceAlreadyExists,
    ResourceNotFound,
    ServiceError,
    TooManyTags,
)
from runner.backends.local.jobs import CHECKS, JobRunner
from runner.backends.local.model import (
    duplicate_tag_keys,
    known_members,
    validate,
    validation_message,
)
from runner.backends.local.solutions import (
    SolutionRegistry,
    solution_answer,
    versions_answer,
)
from runner.backends.local.store import FolderStore, JobStore, MemoryStore, State
from runner.kinds import BATCH_SEGMENT_JOB, KINDS, JobKind, kind_of_arn

Clock = Callable[[], float]
"""Seconds since the epoch, like `time.time`."""


KnownSolutionVersions = Callable[[str], bool]
KnownFilters = Callable[[str], bool]

MAX_TAGS = 200
DEFAULT_PAGE_SIZE = 100

# The job operations, by API name: the kind, and which of its operations.
_JOB_OPERATIONS: Mapping[str, tuple[JobKind, str]] = {
    name: (kind, what)
    for kind in KINDS.values()
    for name, what in (
        (kind.create_operation, "create"),
        (kind.describe_operation, "describe"),
        (kind.list_operation, "list"),
    )
}
OPERATIONS = (
    *_JOB_OPERATIONS,
    "ListTagsForResource",
    "TagResource",
    "DescribeSolution",
    "ListSolutionVersions",
)

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_ACCOUNT = re.compile(r"\d{12}")
_SOLUTION_VERSION = re.compile(r"solution/[^/]+/[^/]+")


class PersonalizeService:
    """The service, over a store of jobs.

    `pending_seconds` and `running_seconds` are how long a job stays CREATE PENDING and
    CREATE IN_PROGRESS. A finished job is run by its kind's runner in `runners` (by kind
    name), or by `run_job` for every kind when it is given. `solution_versions`, when
    given, says which solution version ARNs exist; without it any well-formed one does;
    `filters` says the same of filter ARNs. `solutions` holds the solutions' versions
    that `DescribeSolution` and `ListSolutionVersions` answer with (default: in memory,
    or in the service's folder for `in_folder`). `quotas` raises a kind's quota (by kind
    name), as Service Quotas does for batch inference jobs.
    """

    def __init__(
        self,
        store: JobStore,
        *,
        s3_root: Path,
        clock: Clock = time.time,
        pending_seconds: float = 1.0,
        running_seconds: float = 3.0,
        run_job: JobRunner | None = None,
        runners: Mapping[str, JobRunner] = CHECKS,
        solution_versions: KnownSolutionVersions | None = None,
        filters: KnownFilters | None = None,
        solutions: SolutionRegistry | None = None,
        quotas: Mapping[str, int] | None = None,
    ) -> None:
        self.store = store
        self.s3_root = s3_root
        self.clock = clock
        self.pending_seconds = pending_seconds
        self.running_seconds = running_seconds
        self.run_job = run_job
        self.runners = runners
        self.solution_versions = solution_versions
        self.filters = filters
        self.solutions = solutions if solutions is not None else SolutionRegistry()
        # Quotas raised for this account (`quotas:` of `personalize-runner.yaml`), by kind.
        self.quotas = dict(quotas or {})

    @classmethod
    def in_folder(cls, root: Path, **options: Any) -> PersonalizeService:
        """Jobs in `<root>/service/jobs.json`, S3 objects under `<root>/s3/<bucket>/<key>`."""
        options.setdefault("solutions", SolutionRegistry(root / "service"))
        return cls(FolderStore(root / "service"), s3_root=root / "s3", **options)

    @classmethod
    def in_memory(cls, *, s3_root: Path, **options: Any) -> PersonalizeService:
        return cls(MemoryStore(), s3_root=s3_root, **options)

    def call(
        self,
        operation: str,
        request: Mapping[str, Any],
        *,
        region: str | None = None,
        account: str | None = None,
        partition: str | None = None,
    ) -> dict[str, Any]:
        """One operation by its API name. `partition`, `region` and `account` scope the
        listings."""
        if operation in _JOB_OPERATIONS:
            kind, what = _JOB_OPERATIONS[operation]
            if what == "create":
                return self.create_job(kind, request)
            if what == "describe":
                return self.describe_job(kind, request)
            return self.list_jobs(
                kind, request, partition=partition, region=region, account=account
            )
        if operation == "ListTagsForResource":
            return self.list_tags_for_resource(request)
        if operation == "TagResource":
            return self.tag_resource(request)
        if operation == "DescribeSolution":
            return self.describe_solution(request)
        if operation == "ListSolutionVersions":
            return self.list_solution_versions(request)
        raise ValueError(f"unknown operation {operation!r}")

    def create_batch_segment_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return self.create_job(BATCH_SEGMENT_JOB, request)

    def describe_batch_segment_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return self.describe_job(BATCH_SEGMENT_JOB, request)

    def list_batch_segment_jobs(
        self,
        request: Mapping[str, Any],
        *,
        partition: str | None = None,
        region: str | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        return self.list_jobs(
            BATCH_SEGMENT_JOB, request, partition=partition, region=region, account=account
        )

    def create_job(self, kind: JobKind, request: Mapping[str, Any]) -> dict[str, Any]:
        _validate(kind.create_operation, request)
        request = known_members(kind.create_operation, request)
        solution_version = request["solutionVersionArn"]
        scope = _solution_version_scope(solution_version)
        if self.solution_versions is not None and not self.solution_versions(solution_version):
            raise ResourceNotFound(f"Could not find solution version: {solution_version}")
        # As the service, a missing filter is refused at create, not failed at run time.
        filter_arn = request.get("filterArn")
        if filter_arn is not None and self.filters is not None and not self.filters(filter_arn):
            raise ResourceNotFound(f"Could not find filter: {filter_arn}")
        tags = list(request.get("tags") or [])
        _check_tags(tags)
        arn = kind.job_arn_for(solution_version, request["jobName"])

        def create(state: State) -> dict[str, Any]:
            if _find(state, arn) is not None:
                raise ResourceAlreadyExists(f"Another resource with Arn {arn} already exists.")
            busy = [
                record
                for record in state["jobs"]
                if record["job"]["status"] not in FINAL_STATUSES
                and _kind(record) is kind
                and _scope(_arn(record)) == scope
            ]
            limit = self.quotas.get(kind.name, kind.quota)
            if len(busy) >= limit:
                raise LimitExceeded(
                    f"You have reached the limit of {limit} {kind.noun}s in CREATE "
                    f"PENDING or CREATE IN_PROGRESS status in {scope[1]}. "
                    "Wait for a job to finish and try again."
                )
            now = self.clock()
            job: dict[str, Any] = {
                field: request[field]
                for field in kind.request_fields
                if request.get(field) is not None
            }
            for name, value in kind.request_defaults.items():
                job.setdefault(name, value)
            job.update(
                {
                    kind.arn_key: arn,
                    "status": CREATE_PENDING,
                    "creationDateTime": now,
                    "lastUpdatedDateTime": now,
                }
            )
            state["jobs"].append({"job": job, "tags": [_tag(tag) for tag in tags]})
            return {kind.arn_key: arn}

        return self._transact(create)

    def describe_job(self, kind: JobKind, request: Mapping[str, Any]) -> dict[str, Any]:
        _validate(kind.describe_operation, request)
        arn = request[kind.arn_key]

        def describe(state: State) -> dict[str, Any]:
            return {kind.describe_key: dict(_get(state, arn)["job"])}

        return self._transact(describe)

    def list_jobs(
        self,
        kind: JobKind,
        request: Mapping[str, Any],
        *,
        partition: str | None = None,
        region: str | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """The kind's jobs, newest first, in pages; only those of `partition`, `region` and
        `account` if given."""
        _validate(kind.list_operation, request)
        solution_version = request.get("solutionVersionArn")
        page_size = request.get("maxResults") or DEFAULT_PAGE_SIZE
        after = _decode_token(request.get("nextToken"), solution_version)

        def list_jobs(state: State) -> dict[str, Any]:
            jobs = [
                record["job"]
                for record in state["jobs"]
                if _kind(record) is kind
                and _in_scope(_arn(record), partition, region, account)
                and solution_version in (None, record["job"]["solutionVersionArn"])
            ]
            order = _order(kind)
            jobs.sort(key=order, reverse=True)
            if after is not None:
                jobs = [job for job in jobs if order(job) < after]
            page = jobs[:page_size]
            body: dict[str, Any] = {kind.list_key: [_summary(kind, job) for job in page]}
            if len(jobs) > page_size:
                body["nextToken"] = _encode_token(order(page[-1]), solution_version)
            return body

        return self._transact(list_jobs)

    def list_tags_for_resource(self, request: Mapping[str, Any]) -> dict[str, Any]:
        _validate("ListTagsForResource", request)
        arn = request["resourceArn"]

        def list_tags(state: State) -> dict[str, Any]:
            return {"tags": [dict(tag) for tag in _get(state, arn)["tags"]]}

        return self._transact(list_tags)

    def tag_resource(self, request: Mapping[str, Any]) -> dict[str, Any]:
        _validate("TagResource", request)
        arn = request["resourceArn"]
        _check_tags(request["tags"])

        def tag(state: State) -> dict[str, Any]:
            record = _get(state, arn)
            tags = {tag["tagKey"]: tag["tagValue"] for tag in record["tags"]}
            tags.update((tag["tagKey"], tag["tagValue"]) for tag in request["tags"])
            if len(tags) > MAX_TAGS:
                raise TooManyTags(
                    f"A resource can have at most {MAX_TAGS} tags; {arn} would have {len(tags)}."
                )
            record["tags"] = [{"tagKey": key, "tagValue": value} for key, value in tags.items()]
            return {}

        return self._transact(tag)

    def describe_solution(self, request: Mapping[str, Any]) -> dict[str, Any]:
        _validate("DescribeSolution", request)
        return solution_answer(self.solutions, request, now=self.clock())

    def list_solution_versions(self, request: Mapping[str, Any]) -> dict[str, Any]:
        _validate("ListSolutionVersions", request)
        return versions_answer(self.solutions, request, now=self.clock())

    def _transact(self, operation: Callable[[State], dict[str, Any]]) -> dict[str, Any]:
        # The jobs' progress is saved even when the operation itself fails.
        error: ServiceError | None = None
        with self.store.transaction() as state:
            self._advance(state)
            try:
                return operation(state)
            except ServiceError as failure:
                error = failure
        assert error is not None
        raise error

    def _advance(self, state: State) -> None:
        now = self.clock()
        for record in state["jobs"]:
            job = record["job"]
            started = job["creationDateTime"] + self.pending_seconds
            finished = started + self.running_seconds
            if job["status"] == CREATE_PENDING and now >= started:
                job.update(status=CREATE_IN_PROGRESS, lastUpdatedDateTime=started)
            if job["status"] == CREATE_IN_PROGRESS and now >= finished:
                kind = _kind(record)
                request = {field: job[field] for field in kind.request_fields if field in job}
                run = self.run_job or self.runners[kind.name]
                failure = run(request, s3_root=self.s3_root)
                job.update(lastUpdatedDateTime=finished)
                if failure is None:
                    job.update(status=ACTIVE)
                else:
                    job.update(status=CREATE_FAILED, failureReason=failure)


def _validate(operation: str, request: Mapping[str, Any]) -> None:
    if not isinstance(request, Mapping):
        raise InvalidInput("The request body must be a JSON object.")
    errors = validate(operation, request)
    if errors:
        raise InvalidInput(validation_message(errors))


def _solution_version_scope(arn: str) -> tuple[str, str, str]:
    parsed = Arn.parse(arn)
    if (
        parsed.service != "personalize"
        or not _REGION.fullmatch(parsed.region)
        or not _ACCOUNT.fullmatch(parsed.account)
        or not _SOLUTION_VERSION.fullmatch(parsed.resource)
    ):
        raise InvalidInput(f"Provide a valid solution version ARN: {arn}")
    return parsed.partition, parsed.region, parsed.account


def _check_tags(tags: Iterable[Mapping[str, str]]) -> None:
    tags = list(tags)
    twice = duplicate_tag_keys(tags)
    if twice:
        # The key is a tag's identity: one request cannot give it two values.
        raise InvalidInput(f"Duplicate tag keys in the request: {', '.join(twice)}.")
    for tag in tags:
        if tag["tagKey"].lower().startswith("aws:"):
            raise InvalidInput(
                f"Tag key {tag['tagKey']} is not valid: the prefix aws: is reserved for AWS use."
            )


def _tag(tag: Mapping[str, str]) -> dict[str, str]:
    return {"tagKey": tag["tagKey"], "tagValue": tag["tagValue"]}


def _scope(arn: str) -> tuple[str, str, str]:
    parsed = Arn.parse(arn)
    return parsed.partition, parsed.region, parsed.account


def _in_scope(arn: str, partition: str | None, region: str | None, account: str | None) -> bool:
    parsed = Arn.parse(arn)
    return (
        partition in (None, parsed.partition)
        and region in (None, parsed.region)
        and account in (None, parsed.account)
    )


def _kind(record: Mapping[str, Any]) -> JobKind:
    """A stored job's kind: the one whose ARN key it has."""
    job = record["job"]
    for kind in KINDS.values():
        if kind.arn_key in job:
            return kind
    raise ValueError(f"a stored job of no known kind: {sorted(job)}")


def _arn(record: Mapping[str, Any]) -> str:
    return str(record["job"][_kind(record).arn_key])


def _find(state: State, arn: str) -> dict[str, Any] | None:
    key = kind_of_arn(arn).arn_key
    for record in state["jobs"]:
        if record["job"].get(key) == arn:
            return record  # type: ignore[no-any-return]
    return None


def _get(state: State, arn: str) -> dict[str, Any]:
    record = _find(state, arn)
    if record is None:
        raise ResourceNotFound(f"Could not find resource with Arn {arn}.")
    return record


def _summary(kind: JobKind, job: Mapping[str, Any]) -> dict[str, Any]:
    fields = (
        kind.arn_key,
        "jobName",
        "status",
        "creationDateTime",
        "lastUpdatedDateTime",
        "failureReason",
        "solutionVersionArn",
    )
    return {field: job[field] for field in fields if field in job}


def _order(kind: JobKind) -> Callable[[Mapping[str, Any]], tuple[float, str]]:
    """Listing order (newest first, when reversed) of the kind's stored jobs."""

    def order(job: Mapping[str, Any]) -> tuple[float, str]:
        return job["creationDateTime"], job[kind.arn_key]

    return order


def _encode_token(after: tuple[float, str], solution_version: str | None) -> str:
    text = json.dumps({"after": list(after), "solutionVersionArn": solution_version})
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_token(token: str | None, solution_version: str | None) -> tuple[float, str] | None:
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        created, arn = decoded["after"]
        if decoded["solutionVersionArn"] != solution_version:
            raise ValueError("the token belongs to another listing")
        return float(created), str(arn)
    except (ValueError, TypeError, KeyError, binascii.Error) as error:
        raise InvalidNextToken(f"The nextToken is not valid: {token}") from error
