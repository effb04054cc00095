"""Where local datasets, solution versions and filters live, and the ARNs that name them.

Layout under the store folder (default `.personalize-local/engine/`):

    datasets/<name>.npz
    solution-versions/<partition>/<region>/<account>/<solution>/<version>.npz   (+ .json)
    filters/<partition>/<region>/<account>/<name>.json

Arrays are saved uncompressed, with int32 indices and implicit ones for the binary
interaction matrix, so that a job loads a model in a few tens of milliseconds.
A solution version's id is derived from what was trained (the dataset's content, the
recipe and the parameters): training the same data again gives the same ARN, which
a spec committed next to a generated demo dataset can rely on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
from numpy.typing import NDArray

from runner.engine.datasets import Dataset
from runner.engine.errors import EngineError
from runner.engine.expressions import parse_filter
from runner.engine.item_filters import is_item_filter, parse_item_filter
from runner.engine.model import SegmentModel
from runner.engine.recipes import RECIPE_TYPES, USER_SEGMENTATION
from runner.engine.recommender import RecommendationModel
from runner.fs import NotRegularFile, open_regular, write_atomically

DEFAULT_ROOT = Path(".personalize-local/engine")
DEFAULT_PARTITION = "aws"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"

# Names of solutions, filters and datasets, as Personalize allows them.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_ACCOUNT = re.compile(r"\d{12}")
_ARN = r"arn:(?P<partition>aws[a-z-]*):personalize:(?P<region>[^:]+):(?P<account>\d{12}):"
_SOLUTION_VERSION_ARN = re.compile(_ARN + r"solution/(?P<name>[^/]+)/(?P<version>[0-9a-f]{8})")
_FILTER_ARN = re.compile(_ARN + r"filter/(?P<name>[^/]+)")


_Model = TypeVar("_Model", SegmentModel, RecommendationModel)
# What a job of each model's kind says of a solution version of the other kind.
_NEEDED_BY_JOBS: dict[type[SegmentModel | RecommendationModel], str] = {
    SegmentModel: f"a batch segment job needs a {USER_SEGMENTATION} solution version; use this "
    "one in a batch inference job",
    RecommendationModel: "it makes segments; a batch inference job needs a solution version of "
    "a USER_PERSONALIZATION, POPULAR_ITEMS, PERSONALIZED_RANKING or RELATED_ITEMS recipe",
}


@dataclass(frozen=True)
class SolutionVersion:
    arn: str
    recipe: str
    dataset: str
    n_users: int
    n_items: int
    n_interactions: int


@dataclass(frozen=True)
class Filter:
    arn: str
    expression: str


def check_name(kind: str, name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise EngineError(
            f"{kind} name {name!r} is not valid: 1-63 letters, digits, '-' or '_', "
            "starting with a letter or a digit"
        )


@dataclass(frozen=True)
class Location:
    """Where the ARN of a solution version or a filter says it lives."""

    partition: str = DEFAULT_PARTITION
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    def check(self) -> None:
        if not _REGION.fullmatch(self.region):
            raise EngineError(f"region {self.region!r} is not a region name such as us-east-1")
        if not _ACCOUNT.fullmatch(self.account):
            raise EngineError(f"account {self.account!r} is not a 12-digit account id")

    def arn(self, resource: str) -> str:
        return f"arn:{self.partition}:personalize:{self.region}:{self.account}:{resource}"


DEFAULT_LOCATION = Location()


class ModelStore:
    """The engine's files under one folder; loaded models are kept for the process."""

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = root
        self._models: dict[str, SegmentModel | RecommendationModel] = {}

    def save_dataset(self, name: str, dataset: Dataset) -> Path:
        check_name("dataset", name)
        path = self.root / "datasets" / f"{name}.npz"
        _save_arrays(path, dataset.to_arrays())
        return path

    def load_dataset(self, name: str) -> Dataset:
        check_name("dataset", name)
        path = self.root / "datasets" / f"{name}.npz"
        if not path.is_file():
            known = sorted(p.stem for p in (self.root / "datasets").glob("*.npz"))
            raise EngineError(
                f"no local dataset {name!r} in {self.root} "
                f"(datasets: {', '.join(known) or 'none'}); import one first"
            )
        return Dataset.from_arrays(_load_arrays(path))

    def save_solution_version(
        self,
        model: SegmentModel | RecommendationModel,
        *,
        solution: str,
        dataset: str,
        fingerprint: str,
        location: Location = DEFAULT_LOCATION,
    ) -> SolutionVersion:
        check_name("solution", solution)
        location.check()
        version = hashlib.sha256(f"{solution}\0{model.recipe}\0{fingerprint}".encode()).hexdigest()
        arn = location.arn(f"solution/{solution}/{version[:8]}")
        described = SolutionVersion(
            arn=arn,
            recipe=model.recipe,
            dataset=dataset,
            n_users=model.n_users,
            n_items=model.n_items,
            n_interactions=(
                model.item_users.nnz if isinstance(model, SegmentModel) else model.n_interactions
            ),
        )
        path = self._solution_version_path(arn)
        _save_arrays(path.with_suffix(".npz"), model.to_arrays())
        _write_json(path.with_suffix(".json"), described.__dict__)
        self._models[arn] = model
        return described

    def load_model(self, arn: str) -> SegmentModel:
        """The model of a USER_SEGMENTATION solution version, for a batch segment job."""
        return self._load_as(SegmentModel, arn)

    def load_recommender(self, arn: str) -> RecommendationModel:
        """The model of a solution version that batch inference jobs use."""
        return self._load_as(RecommendationModel, arn)

    def _load_as(self, kind: type[_Model], arn: str) -> _Model:
        model = self._load(arn)
        if not isinstance(model, kind):
            raise EngineError(
                f"solution version {arn} was trained with {model.recipe} "
                f"({RECIPE_TYPES[model.recipe]}): {_NEEDED_BY_JOBS[kind]}"
            )
        return model

    def _load(self, arn: str) -> SegmentModel | RecommendationModel:
        if arn not in self._models:
            path = self._solution_version_path(arn).with_suffix(".npz")
            if not path.is_file():
                raise EngineError(
                    f"solution version {arn} does not exist in the local engine's store "
                    f"({self.root}); train one with `personalize-runner local train` and use "
                    "the ARN it prints"
                )
            arrays = _load_arrays(path)
            if RECIPE_TYPES.get(str(arrays["recipe"])) == USER_SEGMENTATION:
                self._models[arn] = SegmentModel.from_arrays(arrays)
            else:
                self._models[arn] = RecommendationModel.from_arrays(arrays)
        return self._models[arn]

    def has_solution_version(self, arn: str) -> bool:
        """Whether `arn` names a solution version trained here (a malformed ARN is not)."""
        if _SOLUTION_VERSION_ARN.fullmatch(arn) is None:
            return False
        return self._solution_version_path(arn).with_suffix(".npz").is_file()

    def solution_versions(self) -> list[SolutionVersion]:
        return [SolutionVersion(**_read_json(path)) for path in self._all("solution-versions")]

    def save_filter(
        self,
        name: str,
        expression: str,
        *,
        location: Location = DEFAULT_LOCATION,
    ) -> Filter:
        check_name("filter", name)
        location.check()
        if is_item_filter(expression):
            parse_item_filter(expression)
        else:
            parse_filter(expression)
        arn = location.arn(f"filter/{name}")
        described = Filter(arn=arn, expression=expression)
        _write_json(self._filter_path(arn), described.__dict__)
        return described

    def load_filter(self, arn: str) -> Filter:
        path = self._filter_path(arn)
        if not path.is_file():
            raise EngineError(
                f"filter {arn} does not exist in the local engine's store ({self.root}); "
                "create it with `personalize-runner local filter`"
            )
        return Filter(**_read_json(path))

    def filters(self) -> list[Filter]:
        return [Filter(**_read_json(path)) for path in self._all("filters")]

    def _all(self, folder: str) -> list[Path]:
        return sorted((self.root / folder).rglob("*.json"))

    def _solution_version_path(self, arn: str) -> Path:
        match = _SOLUTION_VERSION_ARN.fullmatch(arn)
        if match is None:
            raise EngineError(
                f"{arn!r} is not a solution version ARN "
                "(arn:aws:personalize:<region>:<account>:solution/<name>/<8 hex digits>)"
            )
        parts = match.group("partition", "region", "account", "name")
        return self.root.joinpath("solution-versions", *parts, match["version"] + ".npz")

    def _filter_path(self, arn: str) -> Path:
        match = _FILTER_ARN.fullmatch(arn)
        if match is None:
            raise EngineError(
                f"{arn!r} is not a filter ARN "
                "(arn:aws:personalize:<region>:<account>:filter/<name>)"
            )
        parts = match.group("partition", "region", "account")
        return self.root.joinpath("filters", *parts, match["name"] + ".json")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    content = (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()
    write_atomically(path, lambda stream: stream.write(content))


def _read_json(path: Path) -> Any:
    with _open(path) as stream:
        return json.loads(stream.read().decode("utf-8"))


def _save_arrays(path: Path, arrays: dict[str, NDArray[np.generic]]) -> None:
    write_atomically(path, lambda stream: np.savez(stream, allow_pickle=False, **arrays))


def _load_arrays(path: Path) -> dict[str, NDArray[np.generic]]:
    with _open(path) as stream, np.load(stream, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _open(path: Path) -> BinaryIO:
    """The store's file at `path`, never a FIFO or a device put there (it could block)."""
    try:
        return os.fdopen(open_regular(path), "rb")
    except NotRegularFile as error:
        raise EngineError(f"the local store's {error}: remove it") from None
