"""Solutions and their versions in the local stand-in: what `DescribeSolution` and
`ListSolutionVersions` answer.

Personalize trains a solution's versions one after another (by hand, or every few days by
automatic training); each goes CREATE PENDING → CREATE IN_PROGRESS → ACTIVE or CREATE
FAILED. A spec's `solutionVersionArn: {latestOf: <solution>}` is resolved against these
answers. The local engine trains at once (`personalize-runner local train`): a version it
trained is ACTIVE from the time it was saved, unless `local train --training-time` kept it
CREATE IN_PROGRESS for a while, as the service's training would be.

Where versions come from: the engine's store (every solution version trained there, its
file's time the creation time), and a registry, `<service folder>/solutions.json`, that
says when a version was created and when its training ends (and, for tests, that it
failed). The stand-in's in-memory service keeps its registry in memory.

The service documents no order for `ListSolutionVersions`; the stand-in lists oldest
first, so a caller that takes the first summary for the newest is caught.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.arn import Arn
from runner.backends import ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS, ResourceNotFound
from runner.errors import BackendError
from runner.fs import locked, read_regular_file, write_atomically

REGISTRY_FORMAT = 1
REGISTRY_NAME = "solutions.json"
_MAX_BYTES = 256 * 1024 * 1024
PAGE_SIZE = 100


@dataclass(frozen=True)
class Version:
    """One solution version: created at `created`, trained by `ready` (epoch seconds)."""

    arn: str
    created: float
    ready: float
    failure_reason: str | None = None
    recipe: str | None = None

    @property
    def solution_arn(self) -> str:
        return self.arn.rsplit("/", 1)[0]

    def status(self, now: float) -> str:
        if now < self.ready:
            return CREATE_IN_PROGRESS
        return ACTIVE if self.failure_reason is None else CREATE_FAILED

    def summary(self, now: float) -> dict[str, Any]:
        """`SolutionVersionSummary`, as the service writes it."""
        body: dict[str, Any] = {
            "solutionVersionArn": self.arn,
            "status": self.status(now),
            "trainingMode": "FULL",
            "trainingType": "MANUAL",
            "creationDateTime": self.created,
            "lastUpdatedDateTime": min(now, self.ready) if now >= self.created else self.created,
        }
        if self.status(now) == CREATE_FAILED:
            body["failureReason"] = self.failure_reason
        return body


EngineVersions = Callable[[], Iterable[Version]]
"""The versions the local engine has trained."""


class SolutionRegistry:
    """The solutions' versions: in `folder/solutions.json` (shared by processes), or in
    memory when `folder` is None; with `engine`, also every version the engine trained."""

    def __init__(self, folder: Path | None = None, *, engine: EngineVersions | None = None):
        self.folder = folder
        self.engine = engine
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add_version(
        self,
        arn: str,
        *,
        created: float,
        training_seconds: float = 0.0,
        failure_reason: str | None = None,
        recipe: str | None = None,
    ) -> Version:
        """Record a version of the solution its ARN names (`…:solution/<name>/<id>`)."""
        parsed = Arn.try_parse(arn)
        if parsed is None or len(parsed.resource.split("/")) != 3:
            raise ValueError(f"not a solution version ARN: {arn}")
        version = Version(arn, created, created + training_seconds, failure_reason, recipe)
        entry = {
            "creationDateTime": version.created,
            "readyDateTime": version.ready,
            "failureReason": failure_reason,
            "recipe": recipe,
        }

        def add(versions: dict[str, dict[str, Any]]) -> None:
            versions[arn] = entry

        self._change(add)
        return version

    def versions(self) -> list[Version]:
        """Every version, oldest first."""
        known: dict[str, Version] = {}
        if self.engine is not None:
            known.update((version.arn, version) for version in self.engine())
        for arn, entry in self._read().items():
            recipe = entry.get("recipe") or (known[arn].recipe if arn in known else None)
            known[arn] = Version(
                arn,
                float(entry["creationDateTime"]),
                float(entry["readyDateTime"]),
                entry.get("failureReason"),
                recipe,
            )
        return sorted(known.values(), key=lambda version: (version.created, version.arn))

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.folder is None:
            with self._lock:
                return json.loads(json.dumps(self._memory))  # type: ignore[no-any-return]
        path = self.folder / REGISTRY_NAME
        try:
            # Never waits on a FIFO in the file's place (issue 10): refused by name.
            document = json.loads(read_regular_file(path, limit=_MAX_BYTES))
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise BackendError(
                f"The local engine's solution versions {path} cannot be read: "
                f"{error.strerror}. Move the folder {self.folder.parent} away to start with "
                "an empty local service."
            ) from None
        versions = document.get("versions") if isinstance(document, dict) else None
        if document.get("formatVersion") != REGISTRY_FORMAT or not isinstance(versions, dict):
            raise ValueError(f"{path} is not a local solutions registry of format 1")
        return versions

    def _change(self, change: Callable[[dict[str, dict[str, Any]]], None]) -> None:
        if self.folder is None:
            with self._lock:
                change(self._memory)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock, locked(self.folder / "solutions.lock"):
            versions = self._read()
            change(versions)
            document = {"formatVersion": REGISTRY_FORMAT, "versions": versions}
            content = json.dumps(document, indent=2, sort_keys=True) + "\n"
            write_atomically(self.folder / REGISTRY_NAME, content.encode())


def solution_answer(
    registry: SolutionRegistry, request: Mapping[str, Any], *, now: float
) -> dict[str, Any]:
    """`DescribeSolution`: the solution, its latest version's summary among its fields."""
    arn = request["solutionArn"]
    versions = _of_solution(registry, arn)
    newest = versions[-1]
    solution: dict[str, Any] = {
        "name": arn.rsplit("/", 1)[-1],
        "solutionArn": arn,
        "performHPO": False,
        "performAutoML": False,
        "status": ACTIVE,
        "creationDateTime": versions[0].created,
        "lastUpdatedDateTime": newest.created,
        "latestSolutionVersion": newest.summary(now),
    }
    if newest.recipe is not None:
        partition = Arn.parse(arn).partition
        solution["recipeArn"] = f"arn:{partition}:personalize:::recipe/{newest.recipe}"
    return {"solution": solution}


def versions_answer(
    registry: SolutionRegistry, request: Mapping[str, Any], *, now: float
) -> dict[str, Any]:
    """`ListSolutionVersions`: the versions of `solutionArn` (or of every solution), in
    pages of `maxResults` (default 100); `nextToken` is the index of the next one."""
    arn = request.get("solutionArn")
    versions = registry.versions() if arn is None else _of_solution(registry, arn)
    size = request.get("maxResults") or PAGE_SIZE
    token = request.get("nextToken")
    start = 0
    if token is not None:
        start = _token_index(token, arn)
    page = versions[start : start + size]
    body: dict[str, Any] = {"solutionVersions": [version.summary(now) for version in page]}
    if start + size < len(versions):
        body["nextToken"] = json.dumps({"after": start + size, "solutionArn": arn})
    return body


def _of_solution(registry: SolutionRegistry, arn: str) -> list[Version]:
    versions = [version for version in registry.versions() if version.solution_arn == arn]
    if not versions:
        raise ResourceNotFound(f"Could not find resource with Arn {arn}.")
    return versions


def _token_index(token: str, arn: str | None) -> int:
    from runner.backends import InvalidNextToken

    try:
        decoded = json.loads(token)
        index = decoded["after"]
        if decoded["solutionArn"] != arn or type(index) is not int or index < 0:
            raise ValueError(token)
    except (ValueError, TypeError, KeyError):
        raise InvalidNextToken(f"The nextToken is not valid: {token}") from None
    return index


def engine_versions(engine_root: Path) -> EngineVersions:
    """The versions the local engine in `engine_root` trained, each ACTIVE from the time
    its model was saved. The engine (numpy) is imported when they are first asked for."""

    def versions() -> list[Version]:
        from runner.engine.store import ModelStore

        found = []
        for described in ModelStore(engine_root).solution_versions():
            model = _engine_file(engine_root, described.arn)
            created = model.stat().st_mtime if model.exists() else 0.0
            found.append(Version(described.arn, created, created, None, described.recipe))
        return found

    return versions


def _engine_file(engine_root: Path, arn: str) -> Path:
    parsed = Arn.parse(arn)
    solution, version = parsed.resource.split("/")[1:]
    return engine_root.joinpath(
        "solution-versions", parsed.partition, parsed.region, parsed.account, solution
    ) / (version + ".npz")
