from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.engine.datasets import Dataset, read_dataset
from runner.engine.demo import DemoDataset, DemoFiles, generate_demo_dataset
from runner.engine.model import ITEM_AFFINITY, ITEM_ATTRIBUTE_AFFINITY, train
from runner.engine.recommender import train_recommender
from runner.engine.store import ModelStore

# Small enough to train in a fraction of a second, big enough to measure precision.
N_USERS, N_ITEMS, N_INTERACTIONS, N_GROUPS = 2_000, 400, 40_000, 8


@dataclass(frozen=True)
class Trained:
    demo: DemoDataset
    files: DemoFiles
    dataset: Dataset
    store_root: Path
    item_affinity_arn: str
    attribute_affinity_arn: str

    def store(self) -> ModelStore:
        return ModelStore(self.store_root)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("engine")
    demo = generate_demo_dataset(
        n_users=N_USERS,
        n_items=N_ITEMS,
        n_interactions=N_INTERACTIONS,
        n_groups=N_GROUPS,
        seed=7,
    )
    files = demo.write(root / "data")
    dataset = read_dataset(files.interactions, items=files.items, users=files.users)
    store = ModelStore(root / "store")
    arns = [
        store.save_solution_version(
            train(dataset, recipe=recipe, neighbors=50),
            solution="demo",
            dataset="demo",
            fingerprint=dataset.digest(),
        ).arn
        for recipe in (ITEM_AFFINITY, ITEM_ATTRIBUTE_AFFINITY)
    ]
    return Trained(demo, files, dataset, root / "store", *arns)


@dataclass(frozen=True)
class Recommenders:
    """Solution versions of the batch inference recipes, trained on the `trained` data."""

    trained: Trained
    arns: dict[str, str]  # recipe -> solution version ARN

    def store(self) -> ModelStore:
        return self.trained.store()


INFERENCE_RECIPES = (
    "aws-user-personalization-v2",
    "aws-popularity-count",
    "aws-personalized-ranking-v2",
    "aws-similar-items",
)


@pytest.fixture(scope="session")
def recommenders(trained: Trained) -> Recommenders:
    store = trained.store()
    arns = {
        recipe: store.save_solution_version(
            train_recommender(trained.dataset, recipe=recipe, neighbors=50),
            solution=recipe.removeprefix("aws-"),
            dataset="demo",
            fingerprint=trained.dataset.digest(),
        ).arn
        for recipe in INFERENCE_RECIPES
    }
    return Recommenders(trained, arns)
