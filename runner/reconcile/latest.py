"""Resolving `solutionVersionArn: {latestOf: <solution>}` when a job is submitted: the
solution's newest ACTIVE version.

`DescribeSolution` first: when the solution's latest version is ACTIVE, that is the
answer, in one call. Otherwise (the latest still training, or failed)
`ListSolutionVersions`, every page, and the newest ACTIVE version by creation time; the
service documents no order for the listing, so none is assumed. A solution whose versions
are all still training (or failed) has none: its jobs are left for a later run.

One answer per solution per run: every period's job a run submits for a solution uses the
same version. Answers are untrusted: a version of another solution is ignored.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass

from runner.backends import ACTIVE, Backend, SolutionVersionSummary, normalize_status
from runner.spec.latest import is_version_of

_NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class NoActiveVersion:
    """The solution has no ACTIVE version yet; `newest` is its newest version, if any."""

    solution_arn: str
    newest: SolutionVersionSummary | None

    @property
    def message(self) -> str:
        if self.newest is None:
            state = "it has no version yet"
        else:
            state = f"its newest, {self.newest.arn}, is {self.newest.status}"
        return (
            f"no ACTIVE version of {self.solution_arn} to submit the job with ({state}); "
            "the job is left for a later reconcile, once a version is trained"
        )


class LatestVersions:
    """The newest ACTIVE version of each solution, asked of `backend` once per run.

    `ServiceError`s (no such solution, no permission) are raised to the caller, for the
    job that needed the version; they are not kept, so the next job asks again.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._found: dict[str, str | NoActiveVersion] = {}
        self._lock = threading.Lock()

    def resolve(self, solution_arn: str) -> str | NoActiveVersion:
        with self._lock:
            if solution_arn not in self._found:
                self._found[solution_arn] = self._ask(solution_arn)
            return self._found[solution_arn]

    def _ask(self, solution_arn: str) -> str | NoActiveVersion:
        latest = self.backend.describe_solution(solution_arn).latest_version
        if (
            latest is not None
            and normalize_status(latest.status) == ACTIVE
            and is_version_of(latest.arn, solution_arn)
        ):
            return latest.arn
        versions = [
            version
            for version in self.backend.list_solution_versions(solution_arn)
            if is_version_of(version.arn, solution_arn)
        ]
        active = [version for version in versions if normalize_status(version.status) == ACTIVE]
        if active:
            return max(active, key=_newest).arn
        newest = max(versions, key=_newest) if versions else latest
        return NoActiveVersion(solution_arn, newest)


def _newest(version: SolutionVersionSummary) -> tuple[datetime.datetime, str]:
    return (version.created_at or _NEVER, version.arn)
