"""The `local` backend: the embedded stand-in service, called directly.

Its jobs persist in `.personalize-local/` at the repository root: `service/jobs.json` for
the service, `s3/<bucket>/<key>` for the objects the jobs read and write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.backends import (
    JobDescription,
    JobSummary,
    SolutionDescription,
    SolutionVersionSummary,
)
from runner.backends.wire import (
    created_arn,
    described_job,
    job_page,
    solution_description,
    solution_version_summary,
)
from runner.extras import require_extra
from runner.kinds import JobKind

if TYPE_CHECKING:
    from runner.backends.local.service import PersonalizeService

# The local backend's jobs are computed by the local engine: the [local] extra.
require_extra("local", "numpy", "scipy", "botocore")

FOLDER_NAME = ".personalize-local"
_ROOT_MARKERS = (".git", "personalize-runner.yaml")


def default_root(start: Path | None = None) -> Path:
    """`.personalize-local` in the repository holding `start` (default: the working folder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder / FOLDER_NAME
    return here / FOLDER_NAME


def _engine_knows(root: Path) -> Callable[[str], bool]:
    """Whether the local engine in `root` has trained a solution version.

    The engine (numpy, scipy) is imported only when a job is created.
    """

    def knows(arn: str) -> bool:
        from runner.engine.store import ModelStore

        return ModelStore(root / "engine").has_solution_version(arn)

    return knows


def _engine_has_filter(root: Path) -> Callable[[str], bool]:
    """Whether the local engine in `root` has a filter (`personalize-runner local filter`)."""

    def has(arn: str) -> bool:
        from runner.engine.errors import EngineError
        from runner.engine.store import ModelStore

        try:
            ModelStore(root / "engine").load_filter(arn)
        except EngineError:
            return False
        return True

    return has


class LocalBackend:
    """The `Backend` protocol over a `PersonalizeService`.

    With no `service`, the service persisted in `root` (default: `default_root()`), whose
    jobs run on the local engine: like the service, it refuses a job whose solution version
    it does not know (train one with `personalize-runner local train` or `local demo`).
    """

    name = "local"

    def __init__(
        self,
        service: PersonalizeService | None = None,
        *,
        root: Path | None = None,
        quotas: Mapping[str, int] | None = None,
    ) -> None:
        if service is None:
            from runner.backends.local.jobs import WITH_ENGINE
            from runner.backends.local.service import PersonalizeService
            from runner.backends.local.solutions import SolutionRegistry, engine_versions

            root = root or default_root()
            service = PersonalizeService.in_folder(
                root,
                runners=WITH_ENGINE,
                solution_versions=_engine_knows(root),
                filters=_engine_has_filter(root),
                solutions=SolutionRegistry(
                    root / "service", engine=engine_versions(root / "engine")
                ),
                # The account's quotas as `personalize-runner.yaml` says it raised them.
                quotas=quotas,
            )
        self.service = service

    def create_job(self, kind: JobKind, request: Mapping[str, Any]) -> str:
        return created_arn(kind, request, self.service.create_job(kind, request))

    def describe_job(self, kind: JobKind, arn: str) -> JobDescription:
        return described_job(kind, self.service.describe_job(kind, {kind.arn_key: arn}), arn)

    def list_jobs(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> Iterator[JobSummary]:
        request: dict[str, Any] = {"maxResults": 100}
        while True:
            body = self.service.list_jobs(
                kind, request, partition=partition, region=region, account=account
            )
            summaries, token = job_page(kind, body)
            yield from summaries
            if token is None:
                return
            request = {**request, "nextToken": token}

    def list_page(
        self, kind: JobKind, *, partition: str, region: str, account: str
    ) -> list[JobSummary]:
        body = self.service.list_jobs(
            kind, {"maxResults": 100}, partition=partition, region=region, account=account
        )
        return job_page(kind, body)[0]

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        body = self.service.list_tags_for_resource({"resourceArn": arn})
        return [{"tagKey": tag["tagKey"], "tagValue": tag["tagValue"]} for tag in body["tags"]]

    def describe_solution(self, arn: str) -> SolutionDescription:
        body = self.service.describe_solution({"solutionArn": arn})
        return solution_description(body["solution"])

    def list_solution_versions(self, solution_arn: str) -> Iterator[SolutionVersionSummary]:
        request: dict[str, Any] = {"solutionArn": solution_arn, "maxResults": 100}
        while True:
            body = self.service.list_solution_versions(request)
            for summary in body["solutionVersions"]:
                yield solution_version_summary(summary)
            if "nextToken" not in body:
                return
            request = {**request, "nextToken": body["nextToken"]}
