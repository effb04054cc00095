"""`solutionVersionArn: {latestOf: <solution ARN>}`: a spec's job runs on the newest ACTIVE
version of a solution, found when the job is submitted (`runner.reconcile.latest`).

Until then the request holds the mapping as written: that is what the spec's digest is
made of, so a version trained after a job was submitted is no change of its spec. These
helpers read such a request and put the resolved version in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LATEST_OF = "latestOf"
FIELD = "solutionVersionArn"


def latest_of(request: Mapping[str, Any]) -> str | None:
    """The solution ARN of a `{latestOf: …}` request; None when it names a version."""
    value = request.get(FIELD)
    if isinstance(value, Mapping):
        solution = value.get(LATEST_OF)
        return solution if isinstance(solution, str) else None
    return None


def model_arn(request: Mapping[str, Any]) -> str:
    """The ARN that places the job (partition, region, account): the solution version's, or
    the solution's of a `{latestOf: …}`."""
    solution = latest_of(request)
    return solution if solution is not None else str(request[FIELD])


def is_version_of(version_arn: object, solution_arn: str) -> bool:
    """Whether `version_arn` names a version of the solution `solution_arn`."""
    if not isinstance(version_arn, str) or not version_arn.startswith(solution_arn + "/"):
        return False
    version = version_arn[len(solution_arn) + 1 :]
    return bool(version) and "/" not in version


def with_version(request: Mapping[str, Any], version_arn: str) -> dict[str, Any]:
    """The request with its `solutionVersionArn` set to `version_arn`."""
    return {**request, FIELD: version_arn}


def comparable(request: Mapping[str, Any], remote_version: object) -> Mapping[str, Any]:
    """The request to compare with a job the service has, whose solution version is
    `remote_version`: a `{latestOf: S}` matches any version of S (whichever was the newest
    when the job was submitted), so it is compared as that version."""
    solution = latest_of(request)
    if solution is not None and is_version_of(remote_version, solution):
        return with_version(request, str(remote_version))
    return request


def describe_wanted(request: Mapping[str, Any]) -> str:
    """The solution version a request asks for, for people."""
    solution = latest_of(request)
    if solution is None:
        return str(request.get(FIELD))
    return f"latest ACTIVE version of {solution}, resolved at submission"
